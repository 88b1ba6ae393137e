package dev.trestle.backends.cpu.kernel;

import dev.trestle.backends.bytes.Le;
import dev.trestle.backends.cpu.ActivationRows;
import dev.trestle.backends.type.GgmlType;
import java.lang.foreign.MemorySegment;

/** IQ4_NL (F16 d, nibbles indexing a fixed non-linear 16-value grid) against Q8_0 activations. */
public final class IQ4_NLKernel implements RowKernel {
    /** The IQ4 grid (ggml's kvalues_iq4nl). */
    static final int[] GRID = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};
    private static final int BLOCK_BYTES = 18;

    @Override
    public GgmlType weightType() {
        return GgmlType.IQ4_NL;
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
            int isum = 0;
            for (int j = 0; j < 16; j++) {
                int q = Le.u8(w, bo + 2 + j);
                isum += GRID[q & 0xf] * qs[ao + j] + GRID[q >>> 4] * qs[ao + j + 16];
            }
            sum += isum * (Le.f16(w, bo) * ds[ao / 32]);
        }
        return sum;
    }

    @Override
    public void dequantize(MemorySegment w, long wOff, float[] dst, int dstOff, int n) {
        for (int b = 0; b < n / 32; b++) {
            long bo = wOff + (long) b * BLOCK_BYTES;
            float d = Le.f16(w, bo);
            for (int j = 0; j < 16; j++) {
                int q = Le.u8(w, bo + 2 + j);
                dst[dstOff + b * 32 + j] = GRID[q & 0xf] * d;
                dst[dstOff + b * 32 + j + 16] = GRID[q >>> 4] * d;
            }
        }
    }
}
