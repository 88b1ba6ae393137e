package dev.trestle.backends.quant;

import dev.trestle.backends.type.GgmlType;
import java.lang.foreign.MemorySegment;
import java.util.Objects;

/** Common argument checks and the block loop; subclasses encode and decode one block. */
abstract class BlockCodec implements QuantCodec {
    private final GgmlType type;
    protected final int blockSize;
    protected final int blockBytes;

    BlockCodec(GgmlType type) {
        this.type = type;
        this.blockSize = type.blockSize();
        this.blockBytes = type.bytesPerBlock();
    }

    @Override
    public final GgmlType type() {
        return type;
    }

    @Override
    public final void dequantize(MemorySegment src, long srcOffset, float[] dst, int dstOffset, int n) {
        int blocks = checkCount(n);
        Objects.checkFromIndexSize(dstOffset, n, dst.length);
        Objects.checkFromIndexSize(srcOffset, (long) blocks * blockBytes, src.byteSize());
        for (int b = 0; b < blocks; b++) {
            dequantizeBlock(src, srcOffset + (long) b * blockBytes, dst, dstOffset + b * blockSize);
        }
    }

    @Override
    public final void quantize(float[] src, int srcOffset, MemorySegment dst, long dstOffset, int n) {
        if (!canQuantize()) {
            throw new UnsupportedOperationException("quantizing to " + type + " is not supported (dequantize only)");
        }
        int blocks = checkCount(n);
        Objects.checkFromIndexSize(srcOffset, n, src.length);
        Objects.checkFromIndexSize(dstOffset, (long) blocks * blockBytes, dst.byteSize());
        quantizeBlocks(src, srcOffset, dst, dstOffset, blocks);
    }

    private int checkCount(int n) {
        if (n < 0 || n % blockSize != 0) {
            throw new IllegalArgumentException(type + " works in blocks of " + blockSize + " values; got " + n);
        }
        return n / blockSize;
    }

    /** Decodes one block at {@code off} into {@code dst[d .. d+blockSize)}. */
    abstract void dequantizeBlock(MemorySegment src, long off, float[] dst, int d);

    /** Encodes {@code blocks} consecutive blocks; per-call scratch lives here. */
    abstract void quantizeBlocks(float[] x, int xo, MemorySegment dst, long off, int blocks);
}
