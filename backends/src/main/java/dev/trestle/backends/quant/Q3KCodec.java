package dev.trestle.backends.quant;

import dev.trestle.backends.bytes.Le;
import dev.trestle.backends.type.GgmlType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * Q3_K: 256 values as {@code u8 hmask[32]; u8 qs[64]; u8 scales[12]; fp16 d}. Sixteen groups of 16
 * have signed 6-bit scales (stored +32: low nibbles in bytes 0-7, top bit pairs in bytes 8-11);
 * value = d * (sc-32) * (q3 - 4) where the 2 low bits of q3 sit in qs like Q2_K and the third bit in
 * hmask (bit k of byte m is element 32*k + m).
 */
public final class Q3KCodec extends BlockCodec {
    private static final int HMASK = 0;
    private static final int QS = 32;
    private static final int SCALES = 96;
    private static final int D = 108;

    Q3KCodec() {
        super(GgmlType.Q3_K);
    }

    /** Unpacks the 16 six-bit scales (still offset by 32). */
    private static int scale(MemorySegment s, long off, int j) {
        int lo = j < 8 ? Le.u8(s, off + SCALES + j) & 0xF : Le.u8(s, off + SCALES + j - 8) >>> 4;
        int hi = (Le.u8(s, off + SCALES + 8 + j % 4) >>> (2 * (j / 4))) & 3;
        return lo | (hi << 4);
    }

    @Override
    void dequantizeBlock(MemorySegment src, long off, float[] y, int o) {
        float dAll = Le.f16(src, off + D);
        int is = 0;
        int m = 1;
        for (int n = 0; n < 256; n += 128) {
            long q = off + QS + n / 4;
            for (int shift = 0; shift < 8; shift += 2) {
                for (int half = 0; half < 2; half++) {
                    float dl = dAll * (scale(src, off, is++) - 32);
                    for (int l = 0; l < 16; ++l) {
                        int lo = (Le.u8(src, q + 16 * half + l) >>> shift) & 3;
                        int h = (Le.u8(src, off + HMASK + 16 * half + l) & m) != 0 ? 0 : 4;
                        y[o++] = dl * (lo - h);
                    }
                }
                m <<= 1;
            }
        }
    }

    @Override
    void quantizeBlocks(float[] x, int xo, MemorySegment dst, long off, int blocks) {
        byte[] L = new byte[256];
        float[] scales = new float[16];
        byte[] packed = new byte[12];
        for (int b = 0; b < blocks; b++, xo += 256, off += 110) {
            float maxScale = 0;
            float amax = 0;
            for (int j = 0; j < 16; ++j) {
                scales[j] = QuantMath.makeQ3Quants(16, 4, x, xo + 16 * j, L, 16 * j, true);
                float scale = Math.abs(scales[j]);
                if (scale > amax) {
                    amax = scale;
                    maxScale = scales[j];
                }
            }
            Arrays.fill(packed, (byte) 0);
            if (maxScale != 0) {
                float iscale = -32.f / maxScale;
                for (int j = 0; j < 16; ++j) {
                    int l = (byte) QuantMath.nearestInt(iscale * scales[j]);
                    l = Math.max(-32, Math.min(31, l)) + 32;
                    if (j < 8) {
                        packed[j] = (byte) (l & 0xF);
                    } else {
                        packed[j - 8] |= (byte) ((l & 0xF) << 4);
                    }
                    l >>= 4;
                    packed[j % 4 + 8] |= (byte) (l << (2 * (j / 4)));
                }
                Le.putF16(dst, off + D, 1 / iscale);
            } else {
                Le.putF16(dst, off + D, 0.f);
            }
            MemorySegment.copy(packed, 0, dst, ValueLayout.JAVA_BYTE, off + SCALES, 12);
            float dAll = Le.f16(dst, off + D);
            for (int j = 0; j < 16; ++j) {
                float d = dAll * (scale(dst, off, j) - 32);
                if (d == 0) {
                    continue;
                }
                for (int ii = 0; ii < 16; ++ii) {
                    int l = QuantMath.nearestInt(x[xo + 16 * j + ii] / d);
                    L[16 * j + ii] = (byte) (Math.max(-4, Math.min(3, l)) + 4);
                }
            }
            Le.fill(dst, off + HMASK, 32, 0);
            int m = 0;
            int hm = 1;
            for (int j = 0; j < 256; ++j) {
                if (L[j] > 3) {
                    Le.putU8(dst, off + HMASK + m, Le.u8(dst, off + HMASK + m) | hm);
                    L[j] -= 4;
                }
                if (++m == 32) {
                    m = 0;
                    hm <<= 1;
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
