package dev.trestle.backends.quant;

import dev.trestle.backends.bytes.Le;
import dev.trestle.backends.type.GgmlType;
import java.lang.foreign.MemorySegment;

/**
 * Q8_K: 256 values as {@code f32 d; i8 qs[256]; i16 bsums[16]}, the activation format for K-quant dot
 * products; bsums are the sums of each 16 quants. d = max / -127 (max = signed value of largest
 * magnitude), q = nearest_int(x / d) capped at 127.
 */
public final class Q8KCodec extends BlockCodec {
    private static final int QS = 4;
    private static final int BSUMS = 260;

    Q8KCodec() {
        super(GgmlType.Q8_K);
    }

    @Override
    void dequantizeBlock(MemorySegment src, long off, float[] y, int o) {
        float d = Le.f32(src, off);
        for (int j = 0; j < 256; ++j) {
            y[o + j] = d * Le.i8(src, off + QS + j);
        }
    }

    @Override
    void quantizeBlocks(float[] x, int xo, MemorySegment dst, long off, int blocks) {
        for (int b = 0; b < blocks; b++, xo += 256, off += 292) {
            float max = 0;
            float amax = 0;
            for (int j = 0; j < 256; ++j) {
                float ax = Math.abs(x[xo + j]);
                if (ax > amax) {
                    amax = ax;
                    max = x[xo + j];
                }
            }
            if (amax == 0) {
                Le.fill(dst, off, 292, 0);
                continue;
            }
            float iscale = -127.f / max;
            for (int j = 0; j < 256; ++j) {
                int v = QuantMath.nearestInt(iscale * x[xo + j]);
                Le.putU8(dst, off + QS + j, Math.min(127, v));
            }
            for (int j = 0; j < 16; ++j) {
                int sum = 0;
                for (int ii = 0; ii < 16; ++ii) {
                    sum += Le.i8(dst, off + QS + 16 * j + ii);
                }
                Le.putI16(dst, off + BSUMS + 2L * j, (short) sum);
            }
            Le.putF32(dst, off, 1 / iscale);
        }
    }
}
