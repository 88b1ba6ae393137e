package dev.trestle.backends.quant;

import dev.trestle.backends.type.GgmlType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Q4_K: 256 values as {@code fp16 d, dmin; u8 scales[12]; u8 qs[128]}. Eight groups of 32 have a
 * 6-bit scale and 6-bit min ({@link KScales}); value = d*sc*q - dmin*m with 4-bit q. Each 64-value
 * pair of groups shares 32 bytes: the first group in low nibbles, the second in high nibbles.
 */
public final class Q4KCodec extends BlockCodec {
    private static final int D = 0;
    private static final int DMIN = 2;
    private static final int SCALES = 4;
    private static final int QS = 16;

    Q4KCodec() {
        super(GgmlType.Q4_K);
    }

    @Override
    void dequantizeBlock(MemorySegment src, long off, float[] y, int o) {
        float d = Le.f16(src, off + D);
        float min = Le.f16(src, off + DMIN);
        long q = off + QS;
        for (int is = 0; is < 8; is += 2, q += 32) {
            float d1 = d * KScales.scale(src, off + SCALES, is);
            float m1 = min * KScales.min(src, off + SCALES, is);
            float d2 = d * KScales.scale(src, off + SCALES, is + 1);
            float m2 = min * KScales.min(src, off + SCALES, is + 1);
            for (int l = 0; l < 32; ++l) {
                y[o++] = d1 * (Le.u8(src, q + l) & 0xF) - m1;
            }
            for (int l = 0; l < 32; ++l) {
                y[o++] = d2 * (Le.u8(src, q + l) >>> 4) - m2;
            }
        }
    }

    @Override
    void quantizeBlocks(float[] x, int xo, MemorySegment dst, long off, int blocks) {
        byte[] L = new byte[256];
        byte[] laux = new byte[32];
        float[] weights = new float[32];
        float[] mins = new float[8];
        float[] scales = new float[8];
        int[] ls = new int[8];
        int[] lm = new int[8];
        byte[] packed = new byte[12];
        for (int b = 0; b < blocks; b++, xo += 256, off += 144) {
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
                scales[j] = QuantMath.makeQkx2Quants(32, 15, x, g, weights, L, 32 * j, mins, j, laux,
                        -1.f, 0.1f, 20, false);
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
                    L[32 * j + ii] = (byte) Math.max(0, Math.min(15, l));
                }
            }
            for (int j = 0; j < 256; j += 64) {
                for (int l = 0; l < 32; ++l) {
                    Le.putU8(dst, off + QS + j / 2 + l, L[j + l] | (L[j + l + 32] << 4));
                }
            }
        }
    }
}
