package dev.trestle.backends.cpu.kernel;

import dev.trestle.backends.bytes.Le;
import dev.trestle.backends.cpu.ActivationRows;
import dev.trestle.backends.type.GgmlType;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/** Q4_0 (F16 d, 16 bytes of nibbles; value = (q - 8) * d) against Q8_0 activations. */
public final class Q4_0Kernel implements RowKernel {
    private static final int BLOCK_BYTES = 18;

    @Override
    public GgmlType weightType() {
        return GgmlType.Q4_0;
    }

    @Override
    public GgmlType dotType() {
        return GgmlType.Q8_0;
    }

    /**
     * Mirrors ggml's x86 q4_0 x q8_0 dot: eight float lanes, lane k accumulating (fma) the block scale times the
     * integer sum of elements 4k..4k+3 (low nibbles in lanes 0-3, high nibbles in lanes 4-7), then ggml's
     * horizontal sum order. Rescaled models amplify any other summation order into visible logit changes.
     */
    @Override
    public float dot(MemorySegment w, long wOff, ActivationRows a, int aOff, int n) {
        if (BlockQuads.WIDE) {
            return dotWide(w, wOff, a, aOff, n);
        }
        byte[] qs = a.qs();
        float[] ds = a.scales();
        FloatVector lo = FloatVector.zero(BlockQuads.F4);
        FloatVector hi = FloatVector.zero(BlockQuads.F4);
        for (int b = 0; b < n / 32; b++) {
            long bo = wOff + (long) b * BLOCK_BYTES;
            int ao = aOff + b * 32;
            FloatVector d = FloatVector.broadcast(BlockQuads.F4, Le.f16(w, bo) * ds[ao / 32]);
            ByteVector q = ByteVector.fromMemorySegment(BlockQuads.B16, w, bo + 2, ByteOrder.LITTLE_ENDIAN);
            ByteVector q0 = q.and((byte) 0x0f).sub((byte) 8);
            ByteVector q1 = q.lanewise(VectorOperators.LSHR, 4).and((byte) 0x0f).sub((byte) 8);
            lo = BlockQuads.quads(q0, ByteVector.fromArray(BlockQuads.B16, qs, ao)).fma(d, lo);
            hi = BlockQuads.quads(q1, ByteVector.fromArray(BlockQuads.B16, qs, ao + 16)).fma(d, hi);
        }
        return BlockQuads.sum(lo, hi);
    }

    /**
     * {@link #dot} with the whole block in one 8-lane accumulator (ggml's AVX2 layout): lanes 0-3 are the low
     * nibbles' lanes, 4-7 the high ones', each fed the same exact integer quads in the same block order, so the
     * result is bit-identical to the two-half form with about half the vector operations.
     */
    private static float dotWide(MemorySegment w, long wOff, ActivationRows a, int aOff, int n) {
        byte[] qs = a.qs();
        float[] ds = a.scales();
        FloatVector acc = FloatVector.zero(BlockQuads.F8);
        for (int b = 0; b < n / 32; b++) {
            long bo = wOff + (long) b * BLOCK_BYTES;
            int ao = aOff + b * 32;
            FloatVector d = FloatVector.broadcast(BlockQuads.F8, Le.f16(w, bo) * ds[ao / 32]);
            ByteVector q = ByteVector.fromMemorySegment(BlockQuads.B16, w, bo + 2, ByteOrder.LITTLE_ENDIAN)
                    .reinterpretShape(BlockQuads.B32, 0).reinterpretAsBytes().rearrange(BlockQuads.TWICE);
            ByteVector nib = q.and((byte) 0x0f)
                    .blend(q.lanewise(VectorOperators.LSHR, 4), BlockQuads.UPPER16).sub((byte) 8);
            acc = BlockQuads.quads32(nib, ByteVector.fromArray(BlockQuads.B32, qs, ao)).fma(d, acc);
        }
        return BlockQuads.sum8(acc);
    }

    /** Scalar reference of {@link #dot}, same lane order. */
    public static float dotScalarExact(MemorySegment w, long wOff, ActivationRows a, int aOff, int n) {
        byte[] qs = a.qs();
        float[] ds = a.scales();
        float a0 = 0f, a1 = 0f, a2 = 0f, a3 = 0f, a4 = 0f, a5 = 0f, a6 = 0f, a7 = 0f;
        for (int b = 0; b < n / 32; b++) {
            long bo = wOff + (long) b * BLOCK_BYTES + 2;
            int ao = aOff + b * 32;
            float d = Le.f16(w, bo - 2) * ds[ao / 32];
            a0 = Math.fma(d, lo(w, bo, qs, ao), a0);
            a1 = Math.fma(d, lo(w, bo + 4, qs, ao + 4), a1);
            a2 = Math.fma(d, lo(w, bo + 8, qs, ao + 8), a2);
            a3 = Math.fma(d, lo(w, bo + 12, qs, ao + 12), a3);
            a4 = Math.fma(d, hi(w, bo, qs, ao + 16), a4);
            a5 = Math.fma(d, hi(w, bo + 4, qs, ao + 20), a5);
            a6 = Math.fma(d, hi(w, bo + 8, qs, ao + 24), a6);
            a7 = Math.fma(d, hi(w, bo + 12, qs, ao + 28), a7);
        }
        return ((a0 + a4) + (a2 + a6)) + ((a1 + a5) + (a3 + a7));
    }

    private static float lo(MemorySegment w, long wo, byte[] qs, int ao) {
        int s = 0;
        for (int i = 0; i < 4; i++) {
            s += ((Le.u8(w, wo + i) & 0xf) - 8) * qs[ao + i];
        }
        return s;
    }

    private static float hi(MemorySegment w, long wo, byte[] qs, int ao) {
        int s = 0;
        for (int i = 0; i < 4; i++) {
            s += ((Le.u8(w, wo + i) >>> 4) - 8) * qs[ao + i];
        }
        return s;
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
            for (int j = 0; j < 16; j++) {
                int q = Le.u8(w, bo + 2 + j);
                isum += ((q & 0xf) - 8) * qs[ao + j] + ((q >>> 4) - 8) * qs[ao + j + 16];
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
                dst[dstOff + b * 32 + j] = ((q & 0xf) - 8) * d;
                dst[dstOff + b * 32 + j + 16] = ((q >>> 4) - 8) * d;
            }
        }
    }
}
