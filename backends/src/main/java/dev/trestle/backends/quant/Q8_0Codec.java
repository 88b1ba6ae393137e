package dev.trestle.backends.quant;

import dev.trestle.backends.bytes.Le;
import dev.trestle.backends.type.GgmlType;
import java.lang.foreign.MemorySegment;

/** Q8_0: 32 values as {@code fp16 d; i8 qs[32]}; d = amax / 127, q = roundf(x / d) (half away from zero). */
public final class Q8_0Codec extends BlockCodec {
    Q8_0Codec() {
        super(GgmlType.Q8_0);
    }

    @Override
    void dequantizeBlock(MemorySegment src, long off, float[] dst, int o) {
        decode(src, off, off + 2, dst, o);
    }

    @Override
    void quantizeBlocks(float[] x, int xo, MemorySegment dst, long off, int blocks) {
        for (int b = 0; b < blocks; b++, xo += 32, off += 34) {
            encode(x, xo, dst, off, off + 2);
        }
    }

    /** Decodes fp16 d at dOff and the 32 i8 at qs (shared with Q8_1, whose qs sit further on). */
    static void decode(MemorySegment src, long dOff, long qs, float[] dst, int o) {
        float d = Le.f16(src, dOff);
        for (int j = 0; j < 32; ++j) {
            dst[o + j] = Le.i8(src, qs + j) * d;
        }
    }

    /** Encodes x[xo, xo+32) as fp16 d at dOff and 32 i8 at qs; returns d before its fp16 rounding. */
    static float encode(float[] x, int xo, MemorySegment dst, long dOff, long qs) {
        float amax = 0.0f;
        for (int j = 0; j < 32; j++) {
            amax = Math.max(amax, Math.abs(x[xo + j]));
        }
        float d = amax / 127;
        float id = d != 0 ? 1.0f / d : 0.0f;
        Le.putF16(dst, dOff, d);
        for (int j = 0; j < 32; ++j) {
            Le.putU8(dst, qs + j, (int) QuantMath.roundf(x[xo + j] * id));
        }
        return d;
    }
}
