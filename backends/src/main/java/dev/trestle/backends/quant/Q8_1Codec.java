package dev.trestle.backends.quant;

import dev.trestle.backends.type.GgmlType;
import java.lang.foreign.MemorySegment;

/**
 * Q8_1: 32 values as {@code fp16 d, s; i8 qs[32]}: Q8_0 plus s = d * sum(qs), which dot products
 * with Q4_1/Q5_1 weights use to apply the weight minimum.
 */
public final class Q8_1Codec extends BlockCodec {
    Q8_1Codec() {
        super(GgmlType.Q8_1);
    }

    @Override
    void dequantizeBlock(MemorySegment src, long off, float[] dst, int o) {
        float d = Le.f16(src, off);
        for (int j = 0; j < 32; ++j) {
            dst[o + j] = Le.i8(src, off + 4 + j) * d;
        }
    }

    @Override
    void quantizeBlocks(float[] x, int xo, MemorySegment dst, long off, int blocks) {
        for (int b = 0; b < blocks; b++, xo += 32, off += 36) {
            float amax = 0.0f;
            for (int j = 0; j < 32; j++) {
                amax = Math.max(amax, Math.abs(x[xo + j]));
            }
            float d = amax / 127;
            float id = d != 0 ? 1.0f / d : 0.0f;
            Le.putF16(dst, off, d);
            int sum = 0;
            for (int j = 0; j < 32; ++j) {
                int q = (byte) (int) QuantMath.roundf(x[xo + j] * id);
                Le.putU8(dst, off + 4 + j, q);
                sum += q;
            }
            Le.putF16(dst, off + 2, sum * d);
        }
    }
}
