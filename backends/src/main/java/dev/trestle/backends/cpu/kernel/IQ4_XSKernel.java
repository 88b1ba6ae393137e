package dev.trestle.backends.cpu.kernel;

import dev.trestle.backends.bytes.Le;
import dev.trestle.backends.cpu.ActivationRows;
import dev.trestle.backends.type.GgmlType;
import java.lang.foreign.MemorySegment;

/** IQ4_XS (IQ4 grid with 6-bit sub-block scales in 256-element super-blocks) against Q8_K activations. */
public final class IQ4_XSKernel implements RowKernel {
    private static final int BLOCK_BYTES = 136;

    @Override
    public GgmlType weightType() {
        return GgmlType.IQ4_XS;
    }

    @Override
    public GgmlType dotType() {
        return GgmlType.Q8_K;
    }

    private static int subScale(MemorySegment w, long bo, int ib) {
        int scalesH = Le.u16(w, bo + 2);
        int lo = (Le.u8(w, bo + 4 + ib / 2) >>> (4 * (ib % 2))) & 0xf;
        return (lo | (((scalesH >>> (2 * ib)) & 3) << 4)) - 32;
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
            for (int ib = 0; ib < 8; ib++) {
                int s = 0;
                for (int j = 0; j < 16; j++) {
                    int q = Le.u8(w, bo + 8 + 16L * ib + j);
                    s += IQ4_NLKernel.GRID[q & 0xf] * qs[ao + 32 * ib + j]
                            + IQ4_NLKernel.GRID[q >>> 4] * qs[ao + 32 * ib + 16 + j];
                }
                isum += subScale(w, bo, ib) * s;
            }
            sum += Le.f16(w, bo) * ds[ao / 256] * isum;
        }
        return sum;
    }

    @Override
    public void dequantize(MemorySegment w, long wOff, float[] dst, int dstOff, int n) {
        for (int b = 0; b < n / 256; b++) {
            long bo = wOff + (long) b * BLOCK_BYTES;
            float d = Le.f16(w, bo);
            for (int ib = 0; ib < 8; ib++) {
                float dl = d * subScale(w, bo, ib);
                for (int j = 0; j < 16; j++) {
                    int q = Le.u8(w, bo + 8 + 16L * ib + j);
                    dst[dstOff + b * 256 + 32 * ib + j] = dl * IQ4_NLKernel.GRID[q & 0xf];
                    dst[dstOff + b * 256 + 32 * ib + 16 + j] = dl * IQ4_NLKernel.GRID[q >>> 4];
                }
            }
        }
    }
}
