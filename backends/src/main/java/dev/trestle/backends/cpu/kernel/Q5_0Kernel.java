package dev.trestle.backends.cpu.kernel;

import dev.trestle.backends.bytes.Le;
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

    /** Mirrors ggml's x86 q5_0 x q8_0 dot (eight fma lanes of 4-element integer sums, ggml's final sum order). */
    @Override
    public float dot(MemorySegment w, long wOff, ActivationRows a, int aOff, int n) {
        byte[] qs = a.qs();
        float[] ds = a.scales();
        float a0 = 0f, a1 = 0f, a2 = 0f, a3 = 0f, a4 = 0f, a5 = 0f, a6 = 0f, a7 = 0f;
        for (int b = 0; b < n / 32; b++) {
            long bo = wOff + (long) b * BLOCK_BYTES;
            int ao = aOff + b * 32;
            int qh = Le.i32(w, bo + 2);
            float d = Le.f16(w, bo) * ds[ao / 32];
            a0 = Math.fma(d, quad(w, bo, qh, qs, ao, 0), a0);
            a1 = Math.fma(d, quad(w, bo, qh, qs, ao, 4), a1);
            a2 = Math.fma(d, quad(w, bo, qh, qs, ao, 8), a2);
            a3 = Math.fma(d, quad(w, bo, qh, qs, ao, 12), a3);
            a4 = Math.fma(d, quad(w, bo, qh, qs, ao, 16), a4);
            a5 = Math.fma(d, quad(w, bo, qh, qs, ao, 20), a5);
            a6 = Math.fma(d, quad(w, bo, qh, qs, ao, 24), a6);
            a7 = Math.fma(d, quad(w, bo, qh, qs, ao, 28), a7);
        }
        return ((a0 + a4) + (a2 + a6)) + ((a1 + a5) + (a3 + a7));
    }

    /** Integer sum of elements e0..e0+3 of one block times the activations. */
    private static float quad(MemorySegment w, long bo, int qh, byte[] qs, int ao, int e0) {
        int s = 0;
        for (int e = e0; e < e0 + 4; e++) {
            int j = e & 15;
            int q = Le.u8(w, bo + 6 + j);
            int v = e < 16 ? ((q & 0xf) | (((qh >>> j) << 4) & 0x10)) - 16 : ((q >>> 4) | ((qh >>> (j + 12)) & 0x10)) - 16;
            s += v * qs[ao + e];
        }
        return s;
    }

    @Override
    public void dequantize(MemorySegment w, long wOff, float[] dst, int dstOff, int n) {
        for (int b = 0; b < n / 32; b++) {
            long bo = wOff + (long) b * BLOCK_BYTES;
            float d = Le.f16(w, bo);
            int qh = Le.i32(w, bo + 2);
            for (int j = 0; j < 16; j++) {
                int q = Le.u8(w, bo + 6 + j);
                dst[dstOff + b * 32 + j] = (((q & 0xf) | (((qh >>> j) << 4) & 0x10)) - 16) * d;
                dst[dstOff + b * 32 + j + 16] = (((q >>> 4) | ((qh >>> (j + 12)) & 0x10)) - 16) * d;
            }
        }
    }
}
