package dev.trestle.backends.cpu.kernel;

import dev.trestle.backends.bytes.Le;
import dev.trestle.backends.cpu.ActivationRows;
import dev.trestle.backends.type.GgmlType;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;

/**
 * Q8_0 weights (block: F16 d, 32 int8) against Q8_0 activations: integer dot per block, times d_w * d_a.
 */
public final class Q8_0Kernel implements RowKernel {
    private static final int BLOCK_BYTES = 34;

    @Override
    public GgmlType weightType() {
        return GgmlType.Q8_0;
    }

    @Override
    public GgmlType dotType() {
        return GgmlType.Q8_0;
    }

    /**
     * Mirrors ggml's x86 q8_0 x q8_0 dot (and llamafile's tinyBLAS): eight float lanes, lane k accumulating (fma)
     * the block scale times the integer sum of elements 4k..4k+3, then ggml's horizontal sum order. On rescaled
     * models any other summation order flips later activation roundings into 0.1-sized logit changes.
     */
    @Override
    public float dot(MemorySegment w, long wOff, ActivationRows a, int aOff, int n) {
        byte[] qs = a.qs();
        float[] ds = a.scales();
        FloatVector lo = FloatVector.zero(BlockQuads.F4);
        FloatVector hi = FloatVector.zero(BlockQuads.F4);
        for (int b = 0; b < n / 32; b++) {
            long bo = wOff + (long) b * BLOCK_BYTES;
            int ao = aOff + b * 32;
            FloatVector d = FloatVector.broadcast(BlockQuads.F4, Le.f16(w, bo) * ds[ao / 32]);
            ByteVector w0 = ByteVector.fromMemorySegment(BlockQuads.B16, w, bo + 2, ByteOrder.LITTLE_ENDIAN);
            ByteVector w1 = ByteVector.fromMemorySegment(BlockQuads.B16, w, bo + 18, ByteOrder.LITTLE_ENDIAN);
            lo = BlockQuads.quads(w0, ByteVector.fromArray(BlockQuads.B16, qs, ao)).fma(d, lo);
            hi = BlockQuads.quads(w1, ByteVector.fromArray(BlockQuads.B16, qs, ao + 16)).fma(d, hi);
        }
        return BlockQuads.sum(lo, hi);
    }

    /** Scalar reference of {@link #dot}, same lane order. */
    public static float dotScalarExact(MemorySegment w, long wOff, ActivationRows a, int aOff, int n) {
        byte[] qs = a.qs();
        float[] ds = a.scales();
        float a0 = 0f, a1 = 0f, a2 = 0f, a3 = 0f, a4 = 0f, a5 = 0f, a6 = 0f, a7 = 0f;
        for (int b = 0; b < n / 32; b++) {
            long bo = wOff + (long) b * BLOCK_BYTES;
            int ao = aOff + b * 32;
            float d = Le.f16(w, bo) * ds[ao / 32];
            a0 = Math.fma(d, quad(w, bo + 2, qs, ao), a0);
            a1 = Math.fma(d, quad(w, bo + 6, qs, ao + 4), a1);
            a2 = Math.fma(d, quad(w, bo + 10, qs, ao + 8), a2);
            a3 = Math.fma(d, quad(w, bo + 14, qs, ao + 12), a3);
            a4 = Math.fma(d, quad(w, bo + 18, qs, ao + 16), a4);
            a5 = Math.fma(d, quad(w, bo + 22, qs, ao + 20), a5);
            a6 = Math.fma(d, quad(w, bo + 26, qs, ao + 24), a6);
            a7 = Math.fma(d, quad(w, bo + 30, qs, ao + 28), a7);
        }
        return ((a0 + a4) + (a2 + a6)) + ((a1 + a5) + (a3 + a7));
    }

    private static float quad(MemorySegment w, long wo, byte[] qs, int ao) {
        return Le.i8(w, wo) * qs[ao] + Le.i8(w, wo + 1) * qs[ao + 1] + Le.i8(w, wo + 2) * qs[ao + 2]
                + Le.i8(w, wo + 3) * qs[ao + 3];
    }

    /** Scalar reference of {@link #dot}. */
    public static float dotScalar(MemorySegment w, long wOff, ActivationRows a, int aOff, int n) {
        byte[] qs = a.qs();
        float[] ds = a.scales();
        float sum = 0f;
        for (int b = 0; b < n / 32; b++) {
            long bo = wOff + (long) b * BLOCK_BYTES;
            int ao = aOff + b * 32;
            int isum = 0;
            for (int j = 0; j < 32; j++) {
                isum += Le.i8(w, bo + 2 + j) * qs[ao + j];
            }
            sum += (Le.f16(w, bo) * ds[ao / 32]) * isum;
        }
        return sum;
    }

    @Override
    public void dequantize(MemorySegment w, long wOff, float[] dst, int dstOff, int n) {
        for (int b = 0; b < n / 32; b++) {
            long bo = wOff + (long) b * BLOCK_BYTES;
            float d = Le.f16(w, bo);
            for (int j = 0; j < 32; j++) {
                dst[dstOff + b * 32 + j] = Le.i8(w, bo + 2 + j) * d;
            }
        }
    }
}
