package dev.trestle.backends.cpu.kernel;

import dev.trestle.backends.bytes.Le;
import dev.trestle.backends.cpu.ActivationRows;
import dev.trestle.backends.type.GgmlType;
import java.lang.foreign.MemorySegment;

/** Q5_K (Q4_K plus a fifth bit per element in qh) against Q8_K activations. */
public final class Q5_KKernel implements RowKernel {
    private static final int BLOCK_BYTES = 176;

    @Override
    public GgmlType weightType() {
        return GgmlType.Q5_K;
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
            int sumi = 0;
            int summ = 0;
            for (int j = 0; j < 4; j++) {
                int u1 = 1 << (2 * j);
                int u2 = 2 << (2 * j);
                int lo = 0;
                int hi = 0;
                for (int l = 0; l < 32; l++) {
                    int q = Le.u8(w, bo + 48 + 32 * j + l);
                    int h = Le.u8(w, bo + 16 + l);
                    lo += ((q & 0xf) + ((h & u1) != 0 ? 16 : 0)) * qs[ao + 64 * j + l];
                    hi += ((q >>> 4) + ((h & u2) != 0 ? 16 : 0)) * qs[ao + 64 * j + 32 + l];
                }
                sumi += KQuant.scale(w, bo + 4, 2 * j) * lo + KQuant.scale(w, bo + 4, 2 * j + 1) * hi;
                int bsBase = ao / 16 + 4 * j;
                summ += KQuant.min(w, bo + 4, 2 * j) * (bs[bsBase] + bs[bsBase + 1])
                        + KQuant.min(w, bo + 4, 2 * j + 1) * (bs[bsBase + 2] + bs[bsBase + 3]);
            }
            float dy = ds[ao / 256];
            sum += Le.f16(w, bo) * dy * sumi - Le.f16(w, bo + 2) * dy * summ;
        }
        return sum;
    }

    @Override
    public void dequantize(MemorySegment w, long wOff, float[] dst, int dstOff, int n) {
        for (int b = 0; b < n / 256; b++) {
            long bo = wOff + (long) b * BLOCK_BYTES;
            float d = Le.f16(w, bo);
            float dmin = Le.f16(w, bo + 2);
            for (int j = 0; j < 4; j++) {
                int u1 = 1 << (2 * j);
                int u2 = 2 << (2 * j);
                float d1 = d * KQuant.scale(w, bo + 4, 2 * j);
                float m1 = dmin * KQuant.min(w, bo + 4, 2 * j);
                float d2 = d * KQuant.scale(w, bo + 4, 2 * j + 1);
                float m2 = dmin * KQuant.min(w, bo + 4, 2 * j + 1);
                for (int l = 0; l < 32; l++) {
                    int q = Le.u8(w, bo + 48 + 32 * j + l);
                    int h = Le.u8(w, bo + 16 + l);
                    dst[dstOff + b * 256 + 64 * j + l] = d1 * ((q & 0xf) + ((h & u1) != 0 ? 16 : 0)) - m1;
                    dst[dstOff + b * 256 + 64 * j + 32 + l] = d2 * ((q >>> 4) + ((h & u2) != 0 ? 16 : 0)) - m2;
                }
            }
        }
    }
}
