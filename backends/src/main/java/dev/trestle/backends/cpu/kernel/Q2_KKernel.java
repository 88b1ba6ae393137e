package dev.trestle.backends.cpu.kernel;

import dev.trestle.backends.bytes.Le;
import dev.trestle.backends.cpu.ActivationRows;
import dev.trestle.backends.type.GgmlType;
import java.lang.foreign.MemorySegment;

/** Q2_K (16 4-bit scale/min pairs, 2-bit quants, F16 d and dmin) against Q8_K activations. */
public final class Q2_KKernel implements RowKernel {
    private static final int BLOCK_BYTES = 84;

    @Override
    public GgmlType weightType() {
        return GgmlType.Q2_K;
    }

    @Override
    public GgmlType dotType() {
        return GgmlType.Q8_K;
    }

    @Override
    public float dot(MemorySegment w, long wOff, ActivationRows a, int aOff, int n) {
        byte[] qs = a.qs();
        float[] ds = a.scales();
        short[] bs = a.bsums();
        float sum = 0f;
        for (int b = 0; b < n / 256; b++) {
            long bo = wOff + (long) b * BLOCK_BYTES;
            int ao = aOff + b * 256;
            int summs = 0;
            for (int j = 0; j < 16; j++) {
                summs += bs[ao / 16 + j] * (Le.u8(w, bo + j) >>> 4);
            }
            int isum = 0;
            for (int half = 0; half < 2; half++) {
                long q = bo + 16 + 32L * half;
                for (int j = 0; j < 4; j++) {
                    int shift = 2 * j;
                    int e = ao + 128 * half + 32 * j;
                    int s0 = 0;
                    int s1 = 0;
                    for (int l = 0; l < 16; l++) {
                        s0 += qs[e + l] * ((Le.u8(w, q + l) >>> shift) & 3);
                        s1 += qs[e + 16 + l] * ((Le.u8(w, q + 16 + l) >>> shift) & 3);
                    }
                    int is = 8 * half + 2 * j;
                    isum += (Le.u8(w, bo + is) & 0xf) * s0 + (Le.u8(w, bo + is + 1) & 0xf) * s1;
                }
            }
            float dy = ds[ao / 256];
            sum += dy * Le.f16(w, bo + 80) * isum - dy * Le.f16(w, bo + 82) * summs;
        }
        return sum;
    }

    @Override
    public void dequantize(MemorySegment w, long wOff, float[] dst, int dstOff, int n) {
        for (int b = 0; b < n / 256; b++) {
            long bo = wOff + (long) b * BLOCK_BYTES;
            float d = Le.f16(w, bo + 80);
            float dmin = Le.f16(w, bo + 82);
            for (int half = 0; half < 2; half++) {
                long q = bo + 16 + 32L * half;
                for (int j = 0; j < 4; j++) {
                    int shift = 2 * j;
                    int e = dstOff + b * 256 + 128 * half + 32 * j;
                    int is = 8 * half + 2 * j;
                    int sc0 = Le.u8(w, bo + is);
                    int sc1 = Le.u8(w, bo + is + 1);
                    for (int l = 0; l < 16; l++) {
                        dst[e + l] = d * (sc0 & 0xf) * ((Le.u8(w, q + l) >>> shift) & 3) - dmin * (sc0 >>> 4);
                        dst[e + 16 + l] = d * (sc1 & 0xf) * ((Le.u8(w, q + 16 + l) >>> shift) & 3) - dmin * (sc1 >>> 4);
                    }
                }
            }
        }
    }
}
