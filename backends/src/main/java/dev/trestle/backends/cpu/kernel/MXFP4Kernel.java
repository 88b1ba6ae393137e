package dev.trestle.backends.cpu.kernel;

import dev.trestle.backends.bytes.Le;
import dev.trestle.backends.cpu.ActivationRows;
import dev.trestle.backends.type.GgmlType;
import java.lang.foreign.MemorySegment;

/** MXFP4 (E8M0 shared exponent, 32 FP4 E2M1 nibbles) against Q8_0 activations. */
public final class MXFP4Kernel implements RowKernel {
    /** FP4 E2M1 values doubled to integers (ggml's kvalues_mxfp4); the scale below is halved to match. */
    private static final int[] GRID = {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12};
    private static final int BLOCK_BYTES = 17;

    @Override
    public GgmlType weightType() {
        return GgmlType.MXFP4;
    }

    @Override
    public GgmlType dotType() {
        return GgmlType.Q8_0;
    }

    /** 2^(e - 128): the E8M0 scale halved (ggml_e8m0_to_fp32_half). */
    static float e8m0Half(int e) {
        int bits = e < 2 ? 0x00200000 << e : (e - 1) << 23;
        return Float.intBitsToFloat(bits);
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
                int q = Le.u8(w, bo + 1 + j);
                isum += GRID[q & 0xf] * qs[ao + j] + GRID[q >>> 4] * qs[ao + j + 16];
            }
            sum += ds[ao / 32] * e8m0Half(Le.u8(w, bo)) * isum;
        }
        return sum;
    }

    @Override
    public void dequantize(MemorySegment w, long wOff, float[] dst, int dstOff, int n) {
        for (int b = 0; b < n / 32; b++) {
            long bo = wOff + (long) b * BLOCK_BYTES;
            float d = e8m0Half(Le.u8(w, bo));
            for (int j = 0; j < 16; j++) {
                int q = Le.u8(w, bo + 1 + j);
                dst[dstOff + b * 32 + j] = GRID[q & 0xf] * d;
                dst[dstOff + b * 32 + j + 16] = GRID[q >>> 4] * d;
            }
        }
    }
}
