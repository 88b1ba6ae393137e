package dev.trestle.backends.quant;

import dev.trestle.backends.bytes.Le;
import dev.trestle.backends.type.GgmlType;
import java.lang.foreign.MemorySegment;

/**
 * Q4_K: 256 values as {@code fp16 d, dmin; u8 scales[12]; u8 qs[128]}. Eight groups of 32 have a
 * 6-bit scale and 6-bit min ({@link KScales}); value = d*sc*q - dmin*m with 4-bit q. Each 64-value
 * pair of groups shares 32 bytes: the first group in low nibbles, the second in high nibbles.
 */
public final class Q4KCodec extends BlockCodec {
    private static final int D = KScaleMinQuantizer.D;
    private static final int DMIN = KScaleMinQuantizer.DMIN;
    private static final int SCALES = KScaleMinQuantizer.SCALES;
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
        KScaleMinQuantizer q = new KScaleMinQuantizer(15, -1.f, 20);
        byte[] L = q.levels;
        for (int b = 0; b < blocks; b++, xo += 256, off += 144) {
            q.quantize(x, xo, dst, off);
            for (int j = 0; j < 256; j += 64) {
                for (int l = 0; l < 32; ++l) {
                    Le.putU8(dst, off + QS + j / 2 + l, L[j + l] | (L[j + l + 32] << 4));
                }
            }
        }
    }
}
