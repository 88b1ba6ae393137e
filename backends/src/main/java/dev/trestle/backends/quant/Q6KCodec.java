package dev.trestle.backends.quant;

import dev.trestle.backends.bytes.Le;
import dev.trestle.backends.type.GgmlType;
import java.lang.foreign.MemorySegment;

/**
 * Q6_K: 256 values as {@code u8 ql[128]; u8 qh[64]; i8 scales[16]; fp16 d}; value = d * sc * (q6 - 32).
 * Per 128-value half, element l (of 32) of row r (0-3) has its low nibble in ql[l + 32*(r&1)]
 * (low nibble for r < 2, high for r >= 2) and its top 2 bits at bits 2r of qh[l].
 */
public final class Q6KCodec extends BlockCodec {
    private static final int QL = 0;
    private static final int QH = 128;
    private static final int SCALES = 192;
    private static final int D = 208;

    Q6KCodec() {
        super(GgmlType.Q6_K);
    }

    @Override
    void dequantizeBlock(MemorySegment src, long off, float[] y, int o) {
        float d = Le.f16(src, off + D);
        long ql = off + QL;
        long qh = off + QH;
        long sc = off + SCALES;
        for (int n = 0; n < 256; n += 128, ql += 64, qh += 32, sc += 8, o += 128) {
            for (int l = 0; l < 32; ++l) {
                int is = l / 16;
                int a = Le.u8(src, ql + l);
                int c = Le.u8(src, ql + l + 32);
                int h = Le.u8(src, qh + l);
                int q1 = ((a & 0xF) | ((h & 3) << 4)) - 32;
                int q2 = ((c & 0xF) | (((h >>> 2) & 3) << 4)) - 32;
                int q3 = ((a >>> 4) | (((h >>> 4) & 3) << 4)) - 32;
                int q4 = ((c >>> 4) | (((h >>> 6) & 3) << 4)) - 32;
                y[o + l] = d * Le.i8(src, sc + is) * q1;
                y[o + l + 32] = d * Le.i8(src, sc + is + 2) * q2;
                y[o + l + 64] = d * Le.i8(src, sc + is + 4) * q3;
                y[o + l + 96] = d * Le.i8(src, sc + is + 6) * q4;
            }
        }
    }

    @Override
    void quantizeBlocks(float[] x, int xo, MemorySegment dst, long off, int blocks) {
        byte[] L = new byte[256];
        float[] scales = new float[16];
        byte[] sc = new byte[16];
        for (int b = 0; b < blocks; b++, xo += 256, off += 210) {
            float maxScale = 0;
            float maxAbsScale = 0;
            for (int ib = 0; ib < 16; ++ib) {
                float scale = QuantMath.makeQxQuants(16, 32, x, xo + 16 * ib, L, 16 * ib, 1, null, 0);
                scales[ib] = scale;
                float abs = Math.abs(scale);
                if (abs > maxAbsScale) {
                    maxAbsScale = abs;
                    maxScale = scale;
                }
            }
            if (maxAbsScale < QuantMath.GROUP_MAX_EPS) {
                Le.fill(dst, off, 210, 0);
                continue;
            }
            float iscale = -128.f / maxScale;
            Le.putF16(dst, off + D, 1 / iscale);
            for (int ib = 0; ib < 16; ++ib) {
                sc[ib] = (byte) Math.min(127, QuantMath.nearestInt(iscale * scales[ib]));
                Le.putU8(dst, off + SCALES + ib, sc[ib]);
            }
            float dAll = Le.f16(dst, off + D);
            for (int j = 0; j < 16; ++j) {
                float d = dAll * sc[j];
                if (d == 0) {
                    continue;
                }
                for (int ii = 0; ii < 16; ++ii) {
                    int l = QuantMath.nearestInt(x[xo + 16 * j + ii] / d);
                    L[16 * j + ii] = (byte) (Math.max(-32, Math.min(31, l)) + 32);
                }
            }
            long ql = off + QL;
            long qh = off + QH;
            for (int j = 0; j < 256; j += 128, ql += 64, qh += 32) {
                for (int l = 0; l < 32; ++l) {
                    int q1 = L[j + l] & 0xF;
                    int q2 = L[j + l + 32] & 0xF;
                    int q3 = L[j + l + 64] & 0xF;
                    int q4 = L[j + l + 96] & 0xF;
                    Le.putU8(dst, ql + l, q1 | (q3 << 4));
                    Le.putU8(dst, ql + l + 32, q2 | (q4 << 4));
                    Le.putU8(dst, qh + l, (L[j + l] >> 4) | ((L[j + l + 32] >> 4) << 2)
                            | ((L[j + l + 64] >> 4) << 4) | ((L[j + l + 96] >> 4) << 6));
                }
            }
        }
    }
}
