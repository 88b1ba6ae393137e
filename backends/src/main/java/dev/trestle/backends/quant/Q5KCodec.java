package dev.trestle.backends.quant;

import dev.trestle.backends.type.GgmlType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * Q5_K: 256 values as {@code fp16 d, dmin; u8 scales[12]; u8 qh[32]; u8 qs[128]}: Q4_K plus a fifth
 * bit per value; for the group pair p (0-3) bit 2p of qh[l] belongs to the first group's element l
 * and bit 2p+1 to the second's.
 */
public final class Q5KCodec extends BlockCodec {
    private static final int D = 0;
    private static final int DMIN = 2;
    private static final int SCALES = 4;
    private static final int QH = 16;
    private static final int QS = 48;

    Q5KCodec() {
        super(GgmlType.Q5_K);
    }

    @Override
    void dequantizeBlock(MemorySegment src, long off, float[] y, int o) {
        float d = Le.f16(src, off + D);
        float min = Le.f16(src, off + DMIN);
        long ql = off + QS;
        int u1 = 1;
        int u2 = 2;
        for (int is = 0; is < 8; is += 2, ql += 32, u1 <<= 2, u2 <<= 2) {
            float d1 = d * KScales.scale(src, off + SCALES, is);
            float m1 = min * KScales.min(src, off + SCALES, is);
            float d2 = d * KScales.scale(src, off + SCALES, is + 1);
            float m2 = min * KScales.min(src, off + SCALES, is + 1);
            for (int l = 0; l < 32; ++l) {
                int h = (Le.u8(src, off + QH + l) & u1) != 0 ? 16 : 0;
                y[o++] = d1 * ((Le.u8(src, ql + l) & 0xF) + h) - m1;
            }
            for (int l = 0; l < 32; ++l) {
                int h = (Le.u8(src, off + QH + l) & u2) != 0 ? 16 : 0;
                y[o++] = d2 * ((Le.u8(src, ql + l) >>> 4) + h) - m2;
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
        byte[] qh = new byte[32];
        for (int b = 0; b < blocks; b++, xo += 256, off += 176) {
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
                scales[j] = QuantMath.makeQkx2Quants(32, 31, x, g, weights, L, 32 * j, mins, j, laux,
                        -0.5f, 0.1f, 15, false);
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
                    L[32 * j + ii] = (byte) Math.max(0, Math.min(31, l));
                }
            }
            Arrays.fill(qh, (byte) 0);
            int m1 = 1;
            int m2 = 2;
            long ql = off + QS;
            for (int n = 0; n < 256; n += 64, m1 <<= 2, m2 <<= 2, ql += 32) {
                for (int j = 0; j < 32; ++j) {
                    int l1 = L[n + j];
                    if (l1 > 15) {
                        l1 -= 16;
                        qh[j] |= (byte) m1;
                    }
                    int l2 = L[n + j + 32];
                    if (l2 > 15) {
                        l2 -= 16;
                        qh[j] |= (byte) m2;
                    }
                    Le.putU8(dst, ql + j, l1 | (l2 << 4));
                }
            }
            MemorySegment.copy(qh, 0, dst, ValueLayout.JAVA_BYTE, off + QH, 32);
        }
    }
}
