package dev.trestle.backends.cpu.kernel;

import dev.trestle.backends.bytes.Le;
import dev.trestle.backends.cpu.ActivationRows;
import dev.trestle.backends.type.GgmlType;
import java.lang.foreign.MemorySegment;

/** Q5_1 (F16 d, F16 m, 32 high bits, nibbles; value = q5 * d + m) against Q8_1 activations. */
public final class Q5_1Kernel implements RowKernel {
    private static final int BLOCK_BYTES = 24;

    @Override
    public GgmlType weightType() {
        return GgmlType.Q5_1;
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
            int qh = Le.i32(w, bo + 4);
            int isum = 0;
            for (int j = 0; j < 16; j++) {
                int q = Le.u8(w, bo + 8 + j);
                int x0 = (q & 0xf) | (((qh >>> j) << 4) & 0x10);
                int x1 = (q >>> 4) | ((qh >>> (j + 12)) & 0x10);
                isum += x0 * qs[ao + j] + x1 * qs[ao + j + 16];
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
            int qh = Le.i32(w, bo + 4);
            for (int j = 0; j < 16; j++) {
                int q = Le.u8(w, bo + 8 + j);
                dst[dstOff + b * 32 + j] = ((q & 0xf) | (((qh >>> j) << 4) & 0x10)) * d + m;
                dst[dstOff + b * 32 + j + 16] = ((q >>> 4) | ((qh >>> (j + 12)) & 0x10)) * d + m;
            }
        }
    }
}
