package dev.trestle.backends.quant;

import dev.trestle.backends.bytes.Le;
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
    private static final int D = KScaleMinQuantizer.D;
    private static final int DMIN = KScaleMinQuantizer.DMIN;
    private static final int SCALES = KScaleMinQuantizer.SCALES;
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
        KScaleMinQuantizer q = new KScaleMinQuantizer(31, -0.5f, 15);
        byte[] L = q.levels;
        byte[] qh = new byte[32];
        for (int b = 0; b < blocks; b++, xo += 256, off += 176) {
            q.quantize(x, xo, dst, off);
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
