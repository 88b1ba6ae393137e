package dev.trestle.backends.cpu.kernel;

import dev.trestle.backends.bytes.Le;
import dev.trestle.backends.cpu.ActivationRows;
import dev.trestle.backends.type.GgmlType;
import java.lang.foreign.MemorySegment;

/** Q4_1 (F16 d, F16 m, nibbles; value = q * d + m) against Q8_1 activations (their sum term carries m). */
public final class Q4_1Kernel implements RowKernel {
    private static final int BLOCK_BYTES = 20;

    @Override
    public GgmlType weightType() {
        return GgmlType.Q4_1;
    }

    @Override
    public GgmlType dotType() {
        return GgmlType.Q8_1;
    }

    @Override
    public float dot(MemorySegment w, long wOff, ActivationRows a, int aOff, int n) {
        byte[] qs = a.qs();
        float[] ds = a.scales();
        float[] ss = a.sums();
        float sum = 0f;
        for (int b = 0; b < n / 32; b++) {
            long bo = wOff + (long) b * BLOCK_BYTES;
            int ao = aOff + b * 32;
            int isum = 0;
            for (int j = 0; j < 16; j++) {
                int q = Le.u8(w, bo + 4 + j);
                isum += (q & 0xf) * qs[ao + j] + (q >>> 4) * qs[ao + j + 16];
            }
            sum += isum * (Le.f16(w, bo) * ds[ao / 32]) + Le.f16(w, bo + 2) * ss[ao / 32];
        }
        return sum;
    }

    @Override
    public void dequantize(MemorySegment w, long wOff, float[] dst, int dstOff, int n) {
        for (int b = 0; b < n / 32; b++) {
            long bo = wOff + (long) b * BLOCK_BYTES;
            float d = Le.f16(w, bo);
            float m = Le.f16(w, bo + 2);
            for (int j = 0; j < 16; j++) {
                int q = Le.u8(w, bo + 4 + j);
                dst[dstOff + b * 32 + j] = (q & 0xf) * d + m;
                dst[dstOff + b * 32 + j + 16] = (q >>> 4) * d + m;
            }
        }
    }
}
