package dev.trestle.backends.cpu.kernel;

import dev.trestle.backends.bytes.Le;
import dev.trestle.backends.cpu.ActivationRows;
import dev.trestle.backends.type.GgmlType;
import java.lang.foreign.MemorySegment;

/** Q3_K (2 low bits, 1 inverted high bit in hmask, 16 6-bit signed scales, F16 d) against Q8_K. */
public final class Q3_KKernel implements RowKernel {
    private static final int BLOCK_BYTES = 110;

    @Override
    public GgmlType weightType() {
        return GgmlType.Q3_K;
    }

    @Override
    public GgmlType dotType() {
        return GgmlType.Q8_K;
    }

    private static int value(MemorySegment w, long bo, int half, int j, int l) {
        int q = Le.u8(w, bo + 32 + 32L * half + l);
        int hm = Le.u8(w, bo + l);
        int m = 1 << (4 * half + j);
        return ((q >>> (2 * j)) & 3) - ((hm & m) != 0 ? 0 : 4);
    }

    @Override
    public float dot(MemorySegment w, long wOff, ActivationRows a, int aOff, int n) {
        byte[] qs = a.qs();
        float[] ds = a.scales();
        float sum = 0f;
        for (int b = 0; b < n / 256; b++) {
            long bo = wOff + (long) b * BLOCK_BYTES;
            int ao = aOff + b * 256;
            int isum = 0;
            for (int half = 0; half < 2; half++) {
                for (int j = 0; j < 4; j++) {
                    int e = ao + 128 * half + 32 * j;
                    int s0 = 0;
                    int s1 = 0;
                    for (int l = 0; l < 16; l++) {
                        s0 += qs[e + l] * value(w, bo, half, j, l);
                        s1 += qs[e + 16 + l] * value(w, bo, half, j, l + 16);
                    }
                    int is = 8 * half + 2 * j;
                    isum += KQuant.q3Scale(w, bo + 96, is) * s0 + KQuant.q3Scale(w, bo + 96, is + 1) * s1;
                }
            }
            sum += Le.f16(w, bo + 108) * ds[ao / 256] * isum;
        }
        return sum;
    }

    @Override
    public void dequantize(MemorySegment w, long wOff, float[] dst, int dstOff, int n) {
        for (int b = 0; b < n / 256; b++) {
            long bo = wOff + (long) b * BLOCK_BYTES;
            float d = Le.f16(w, bo + 108);
            for (int half = 0; half < 2; half++) {
                for (int j = 0; j < 4; j++) {
                    int e = dstOff + b * 256 + 128 * half + 32 * j;
                    int is = 8 * half + 2 * j;
                    float d0 = d * KQuant.q3Scale(w, bo + 96, is);
                    float d1 = d * KQuant.q3Scale(w, bo + 96, is + 1);
                    for (int l = 0; l < 16; l++) {
                        dst[e + l] = d0 * value(w, bo, half, j, l);
                        dst[e + 16 + l] = d1 * value(w, bo, half, j, l + 16);
                    }
                }
            }
        }
    }
}
