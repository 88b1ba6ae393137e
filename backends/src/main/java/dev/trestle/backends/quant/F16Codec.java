package dev.trestle.backends.quant;

import dev.trestle.backends.bytes.Le;
import dev.trestle.backends.type.GgmlType;
import java.lang.foreign.MemorySegment;

/** F16: IEEE binary16, rounded to nearest even on the way in. */
public final class F16Codec extends BlockCodec {
    F16Codec() {
        super(GgmlType.F16);
    }

    @Override
    void dequantizeBlock(MemorySegment src, long off, float[] dst, int d) {
        dst[d] = Le.f16(src, off);
    }

    @Override
    void quantizeBlocks(float[] x, int xo, MemorySegment dst, long off, int blocks) {
        for (int i = 0; i < blocks; i++) {
            Le.putF16(dst, off + 2L * i, x[xo + i]);
        }
    }
}
