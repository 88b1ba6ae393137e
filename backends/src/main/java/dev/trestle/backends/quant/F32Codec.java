package dev.trestle.backends.quant;

import dev.trestle.backends.bytes.Le;
import dev.trestle.backends.type.GgmlType;
import java.lang.foreign.MemorySegment;

/** F32: plain little-endian floats. */
public final class F32Codec extends BlockCodec {
    F32Codec() {
        super(GgmlType.F32);
    }

    @Override
    void dequantizeBlock(MemorySegment src, long off, float[] dst, int d) {
        dst[d] = Le.f32(src, off);
    }

    @Override
    void quantizeBlocks(float[] x, int xo, MemorySegment dst, long off, int blocks) {
        for (int i = 0; i < blocks; i++) {
            Le.putF32(dst, off + 4L * i, x[xo + i]);
        }
    }
}
