package dev.trestle.backends.quant;

import java.util.Arrays;
/**
 * The non-linear 4-bit search shared by IQ4_NL (one 32-value block) and IQ4_XS (a 256-value super
 * block of eight 32-value blocks with 6-bit sub-scales), as in ggml's quantize_row_iq4_nl_impl.
 * Without importance weights each value is weighted by x^2.
 */
final class Iq4Quantizer {
    /** The 16 non-uniform levels (kvalues_iq4nl), ascending. */
    static final byte[] VALUES = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

    private final float[] scales;
    private final float[] weight = new float[32];
    /** Output: level index per value. */
    final byte[] levels;
    /** Output (IQ4_XS): 2 high bits of each sub-scale (+32), bit pairs 2*ib. */
    int scalesH;
    /** Output (IQ4_XS): low nibbles of each sub-scale (+32), two per byte. */
    final byte[] scalesL = new byte[4];

    Iq4Quantizer(int superBlockSize) {
        this.scales = new float[superBlockSize / 32];
        this.levels = new byte[superBlockSize];
    }

    /** Index of the level nearest {@code x}; a midpoint goes to the upper level. */
    static int bestIndex(float x) {
        float x2 = x + x;
        int idx = 0;
        for (int step = 8; step > 0; step >>= 1) {
            int j = idx + step;
            idx = (x2 >= (float) (VALUES[j - 1] + VALUES[j])) ? j : idx;
        }
        return idx;
    }

    /**
     * Quantizes {@code superBlockSize} values at {@code x[xo]}, filling {@link #levels} (and for a
     * super block {@link #scalesH}/{@link #scalesL}).
     *
     * @param ntry scale-search radius; ggml's _ref path uses -1 (no search), llama-quantize 7
     * @return the block scale d as stored (fp16 bits)
     */
    short quantize(float[] x, int xo, int ntry) {
        int superBlockSize = levels.length;
        int nb = superBlockSize / 32;
        float maxScale = 0;
        float amaxScale = 0;
        for (int ib = 0; ib < nb; ++ib) {
            int xb = xo + 32 * ib;
            int lb = 32 * ib;
            for (int j = 0; j < 32; ++j) {
                weight[j] = x[xb + j] * x[xb + j];
            }
            float amax = 0;
            float max = 0;
            for (int j = 0; j < 32; ++j) {
                float ax = Math.abs(x[xb + j]);
                if (ax > amax) {
                    amax = ax;
                    max = x[xb + j];
                }
            }
            if (amax < QuantMath.GROUP_MAX_EPS) {
                scales[ib] = 0;
                Arrays.fill(levels, lb, lb + 32, (byte) 0);
                continue;
            }
            float d = ntry > 0 ? -max / VALUES[0] : max / VALUES[0];
            float id = 1 / d;
            float sumqx = 0;
            float sumq2 = 0;
            for (int j = 0; j < 32; ++j) {
                float al = id * x[xb + j];
                int l = bestIndex(al);
                levels[lb + j] = (byte) l;
                float q = VALUES[l];
                float w = weight[j];
                sumqx += w * q * x[xb + j];
                sumq2 += w * q * q;
            }
            d = sumq2 > 0 ? sumqx / sumq2 : 0.f;
            float best = d * sumqx;
            for (int itry = -ntry; itry <= ntry; ++itry) {
                id = (itry + VALUES[0]) / max;
                sumqx = 0;
                sumq2 = 0;
                for (int j = 0; j < 32; ++j) {
                    float al = id * x[xb + j];
                    int l = bestIndex(al);
                    float q = VALUES[l];
                    float w = weight[j];
                    sumqx += w * q * x[xb + j];
                    sumq2 += w * q * q;
                }
                if (sumq2 > 0 && sumqx * sumqx > best * sumq2) {
                    d = sumqx / sumq2;
                    best = d * sumqx;
                }
            }
            scales[ib] = d;
            float absD = Math.abs(d);
            if (absD > amaxScale) {
                amaxScale = absD;
                maxScale = d;
            }
        }
        short dh;
        if (nb > 1) {
            scalesH = 0;
            Arrays.fill(scalesL, (byte) 0);
            float d = -maxScale / 32;
            dh = Float.floatToFloat16(d);
            float id = d != 0 ? 1 / d : 0.f;
            for (int ib = 0; ib < nb; ++ib) {
                int l = QuantMath.nearestInt(id * scales[ib]);
                l = Math.max(-32, Math.min(31, l));
                float dl = d * l;
                float idl = dl != 0 ? 1 / dl : 0.f;
                for (int j = 0; j < 32; ++j) {
                    levels[32 * ib + j] = (byte) bestIndex(idl * x[xo + 32 * ib + j]);
                }
                l += 32;
                int lLow = l & 0xf;
                int lHigh = l >> 4;
                if (ib % 2 == 0) {
                    scalesL[ib / 2] = (byte) lLow;
                } else {
                    scalesL[ib / 2] |= (byte) (lLow << 4);
                }
                scalesH |= lHigh << (2 * (ib % 8));
            }
        } else {
            dh = Float.floatToFloat16(scales[0]);
            if (ntry > 0) {
                float id = scales[0] != 0 ? 1 / scales[0] : 0;
                for (int j = 0; j < superBlockSize; ++j) {
                    levels[j] = (byte) bestIndex(id * x[xo + j]);
                }
            }
        }
        return dh;
    }
}
