package dev.trestle.backends.quant;

import dev.trestle.backends.bytes.Le;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The scale/min search Q4_K and Q5_K share: for a 256-value block, a scale and min per group of 32
 * ({@link QuantMath#makeQkx2Quants}), their 6-bit codes under the block's fp16 d and dmin, and the levels
 * requantized against the stored codes. Holds its scratch; one instance per quantizing call.
 */
final class KScaleMinQuantizer {
    /** Byte offsets of the header both formats start with: {@code fp16 d, dmin; u8 scales[12]}. */
    static final int D = 0;
    static final int DMIN = 2;
    static final int SCALES = 4;

    /** The levels 0..nmax of the last block quantized, element order. */
    final byte[] levels = new byte[256];

    private final int nmax;
    private final float rmin;
    private final int nstep;
    private final byte[] laux = new byte[32];
    private final float[] weights = new float[32];
    private final float[] mins = new float[8];
    private final float[] scales = new float[8];
    private final int[] ls = new int[8];
    private final int[] lm = new int[8];
    private final byte[] packed = new byte[12];

    /** Levels 0..nmax; rmin and nstep as ggml's make_qkx2_quants takes them for the format. */
    KScaleMinQuantizer(int nmax, float rmin, int nstep) {
        this.nmax = nmax;
        this.rmin = rmin;
        this.nstep = nstep;
    }

    /** Quantizes x[xo, xo+256): writes d, dmin and the packed scales of the block at off, fills levels. */
    void quantize(float[] x, int xo, MemorySegment dst, long off) {
        float maxScale = 0;
        float maxMin = 0;
        for (int j = 0; j < 8; ++j) {
            int g = xo + 32 * j;
            float sumX2 = 0;
            for (int l = 0; l < 32; ++l) {
                sumX2 += x[g + l] * x[g + l];
            }
            float avX = QuantMath.sqrtf(sumX2 / 32);
            for (int l = 0; l < 32; ++l) {
                weights[l] = avX + Math.abs(x[g + l]);
            }
            scales[j] = QuantMath.makeQkx2Quants(32, nmax, x, g, weights, levels, 32 * j, mins, j, laux,
                    rmin, 0.1f, nstep, false);
            if (scales[j] > maxScale) {
                maxScale = scales[j];
            }
            if (mins[j] > maxMin) {
                maxMin = mins[j];
            }
        }
        float invScale = maxScale > 0 ? 63.f / maxScale : 0.f;
        float invMin = maxMin > 0 ? 63.f / maxMin : 0.f;
        for (int j = 0; j < 8; ++j) {
            ls[j] = Math.min(63, QuantMath.nearestInt(invScale * scales[j]) & 0xFF);
            lm[j] = Math.min(63, QuantMath.nearestInt(invMin * mins[j]) & 0xFF);
        }
        KScales.pack(ls, lm, packed);
        MemorySegment.copy(packed, 0, dst, ValueLayout.JAVA_BYTE, off + SCALES, 12);
        Le.putF16(dst, off + D, maxScale / 63.f);
        Le.putF16(dst, off + DMIN, maxMin / 63.f);
        // requantize against the rounded d and dmin the block stores
        float dAll = Le.f16(dst, off + D);
        float mAll = Le.f16(dst, off + DMIN);
        for (int j = 0; j < 8; ++j) {
            float d = dAll * ls[j];
            if (d == 0) {
                continue;
            }
            float dm = mAll * lm[j];
            for (int ii = 0; ii < 32; ++ii) {
                int l = QuantMath.nearestInt((x[xo + 32 * j + ii] + dm) / d);
                levels[32 * j + ii] = (byte) Math.max(0, Math.min(nmax, l));
            }
        }
    }
}
