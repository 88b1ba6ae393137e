package dev.trestle.backends.quant;

import dev.trestle.backends.bytes.Le;
import dev.trestle.backends.type.GgmlType;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * Q2_K: 256 values as {@code u8 scales[16]; u8 qs[64]; fp16 d, dmin}. Sixteen groups of 16 each have
 * a 4-bit scale (low nibble, times d) and a 4-bit min (high nibble, times dmin); value =
 * d*sc*q - dmin*m with 2-bit q. Each 128-value half packs four 32-value rows into the bit pairs of 32 bytes.
 */
public final class Q2KCodec extends BlockCodec {
    private static final int SCALES = 0;
    private static final int QS = 16;
    private static final int D = 80;
    private static final int DMIN = 82;

    Q2KCodec() {
        super(GgmlType.Q2_K);
    }

    @Override
    void dequantizeBlock(MemorySegment src, long off, float[] y, int o) {
        float d = Le.f16(src, off + D);
        float min = Le.f16(src, off + DMIN);
        int is = 0;
        for (int n = 0; n < 256; n += 128) {
            long q = off + QS + n / 4;
            for (int shift = 0; shift < 8; shift += 2) {
                for (int half = 0; half < 2; half++) {
                    int sc = Le.u8(src, off + SCALES + is++);
                    float dl = d * (sc & 0xF);
                    float ml = min * (sc >>> 4);
                    for (int l = 0; l < 16; ++l) {
                        y[o++] = dl * ((Le.u8(src, q + 16 * half + l) >>> shift) & 3) - ml;
                    }
                }
            }
        }
    }

    @Override
    void quantizeBlocks(float[] x, int xo, MemorySegment dst, long off, int blocks) {
        byte[] L = new byte[256];
        byte[] laux = new byte[16];
        float[] weights = new float[16];
        float[] mins = new float[16];
        float[] scales = new float[16];
        int[] sc = new int[16];
        final float q4scale = 15.f;
        for (int b = 0; b < blocks; b++, xo += 256, off += 84) {
            float maxScale = 0;
            float maxMin = 0;
            for (int j = 0; j < 16; ++j) {
                for (int l = 0; l < 16; ++l) {
                    weights[l] = Math.abs(x[xo + 16 * j + l]);
                }
                scales[j] = QuantMath.makeQkx2Quants(16, 3, x, xo + 16 * j, weights, L, 16 * j, mins, j, laux,
                        -0.5f, 0.1f, 15, true);
                if (scales[j] > maxScale) {
                    maxScale = scales[j];
                }
                if (mins[j] > maxMin) {
                    maxMin = mins[j];
                }
            }
            Arrays.fill(sc, 0);
            if (maxScale > 0) {
                float iscale = q4scale / maxScale;
                for (int j = 0; j < 16; ++j) {
                    sc[j] = QuantMath.nearestInt(iscale * scales[j]) & 0xFF;
                }
                Le.putF16(dst, off + D, maxScale / q4scale);
            } else {
                Le.putF16(dst, off + D, 0.f);
            }
            if (maxMin > 0) {
                float iscale = q4scale / maxMin;
                for (int j = 0; j < 16; ++j) {
                    int l = QuantMath.nearestInt(iscale * mins[j]);
                    sc[j] = (sc[j] | (l << 4)) & 0xFF;
                }
                Le.putF16(dst, off + DMIN, maxMin / q4scale);
            } else {
                Le.putF16(dst, off + DMIN, 0.f);
            }
            float dAll = Le.f16(dst, off + D);
            float mAll = Le.f16(dst, off + DMIN);
            for (int j = 0; j < 16; ++j) {
                Le.putU8(dst, off + SCALES + j, sc[j]);
                float d = dAll * (sc[j] & 0xF);
                if (d == 0) {
                    continue;
                }
                float dm = mAll * (sc[j] >>> 4);
                for (int ii = 0; ii < 16; ++ii) {
                    int l = QuantMath.nearestInt((x[xo + 16 * j + ii] + dm) / d);
                    L[16 * j + ii] = (byte) Math.max(0, Math.min(3, l));
                }
            }
            for (int j = 0; j < 256; j += 128) {
                for (int l = 0; l < 32; ++l) {
                    Le.putU8(dst, off + QS + j / 4 + l,
                            L[j + l] | (L[j + l + 32] << 2) | (L[j + l + 64] << 4) | (L[j + l + 96] << 6));
                }
            }
        }
    }
}
