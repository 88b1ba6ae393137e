package dev.trestle.backends.cpu.kernel;

import dev.trestle.backends.cpu.ActivationRows;
import dev.trestle.backends.type.GgmlType;
import java.lang.foreign.MemorySegment;

/** Q5_0 (F16 d, 32 high bits, nibbles; value = (q5 - 16) * d) against Q8_0 activations. */
public final class Q5_0Kernel implements RowKernel {
    private static final int BLOCK_BYTES = 22;

    @Override
    public GgmlType weightType() {
        return GgmlType.Q5_0;
    }

    @Override
    public GgmlType dotType() {
        return GgmlType.Q8_0;
    }

    @Override
    public float dot(MemorySegment w, long wOff, ActivationRows a, int aOff, int n) {
        byte[] qs = a.qs();
        float[] ds = a.scales();
        float sum = 0f;
        for (int b = 0; b < n / 32; b++) {
            long bo = wOff + (long) b * BLOCK_BYTES;
            int ao = aOff + b * 32;
            int qh = Bytes.u32(w, bo + 2);
            int isum = 0;
            for (int j = 0; j < 16; j++) {
                int q = Bytes.u8(w, bo + 6 + j);
                int x0 = ((q & 0xf) | (((qh >>> j) << 4) & 0x10)) - 16;
                int x1 = ((q >>> 4) | ((qh >>> (j + 12)) & 0x10)) - 16;
                isum += x0 * qs[ao + j] + x1 * qs[ao + j + 16];
            }
            sum += isum * (Bytes.f16(w, bo) * ds[ao / 32]);
        }
        return sum;
    }

    @Override
    public void dequantize(MemorySegment w, long wOff, float[] dst, int dstOff, int n) {
        for (int b = 0; b < n / 32; b++) {
            long bo = wOff + (long) b * BLOCK_BYTES;
            float d = Bytes.f16(w, bo);
            int qh = Bytes.u32(w, bo + 2);
            for (int j = 0; j < 16; j++) {
                int q = Bytes.u8(w, bo + 6 + j);
                dst[dstOff + b * 32 + j] = (((q & 0xf) | (((qh >>> j) << 4) & 0x10)) - 16) * d;
                dst[dstOff + b * 32 + j + 16] = (((q >>> 4) | ((qh >>> (j + 12)) & 0x10)) - 16) * d;
            }
        }
    }
}
