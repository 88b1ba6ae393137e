package dev.trestle.backends.quant;

import dev.trestle.backends.bytes.Le;
import dev.trestle.backends.type.GgmlType;
import java.lang.foreign.MemorySegment;

/** BF16: the top 16 bits of a float, rounded to nearest even on the way in. */
public final class BF16Codec extends BlockCodec {
    BF16Codec() {
        super(GgmlType.BF16);
    }

    @Override
    void dequantizeBlock(MemorySegment src, long off, float[] dst, int d) {
        dst[d] = HalfFloat.bf16ToFloat(Le.i16(src, off));
    }

    @Override
    void quantizeBlocks(float[] x, int xo, MemorySegment dst, long off, int blocks) {
        for (int i = 0; i < blocks; i++) {
            Le.putI16(dst, off + 2L * i, HalfFloat.floatToBf16(x[xo + i]));
        }
    }
}
