package dev.trestle.backends.cpu.kernel;

import dev.trestle.backends.cpu.ActivationRows;
import dev.trestle.backends.type.GgmlType;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/** Q4_0 (F16 d, 16 bytes of nibbles; value = (q - 8) * d) against Q8_0 activations. */
public final class Q4_0Kernel implements RowKernel {
    private static final int BLOCK_BYTES = 18;
    // One lane per element at every width: L bytes -> L shorts -> L floats (16 lanes on AVX-512, 8 on AVX2).
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int L = Math.min(F.length(), 16);
    private static final VectorSpecies<Float> FL = VectorSpecies.of(float.class, VectorShape.forBitSize(L * 32));
    private static final VectorSpecies<Short> S = VectorSpecies.of(short.class, VectorShape.forBitSize(L * 16));
    private static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class, VectorShape.forBitSize(L * 8));

    @Override
    public GgmlType weightType() {
        return GgmlType.Q4_0;
    }

    @Override
    public GgmlType dotType() {
        return GgmlType.Q8_0;
    }

    /**
     * Per block, the 32 integer products are summed pairwise in shorts (exact), widened to floats and added
     * with the block scale into a float accumulator, as ggml's AVX kernels do: no cross-lane sum per block.
     */
    @Override
    public float dot(MemorySegment w, long wOff, ActivationRows a, int aOff, int n) {
        byte[] qs = a.qs();
        float[] ds = a.scales();
        FloatVector acc = FloatVector.zero(FL);
        int nb = n / 32;
        for (int b = 0; b < nb; b++) {
            long bo = wOff + (long) b * BLOCK_BYTES;
            int ao = aOff + b * 32;
            float d = Bytes.f16(w, bo) * ds[ao >> 5];
            for (int j = 0; j < 16; j += L) {
                ByteVector q = ByteVector.fromMemorySegment(B, w, bo + 2 + j, ByteOrder.LITTLE_ENDIAN);
                ShortVector lo = (ShortVector) q.and((byte) 0x0f).sub((byte) 8).convertShape(VectorOperators.B2S, S, 0);
                ShortVector hi = (ShortVector) q.lanewise(VectorOperators.LSHR, 4).sub((byte) 8)
                        .convertShape(VectorOperators.B2S, S, 0);
                ShortVector xl = (ShortVector) ByteVector.fromArray(B, qs, ao + j).convertShape(VectorOperators.B2S, S, 0);
                ShortVector xh = (ShortVector) ByteVector.fromArray(B, qs, ao + 16 + j)
                        .convertShape(VectorOperators.B2S, S, 0);
                FloatVector p = (FloatVector) lo.mul(xl).add(hi.mul(xh)).convertShape(VectorOperators.S2F, FL, 0);
                acc = p.fma(FloatVector.broadcast(FL, d), acc);
            }
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    /** Four tokens per pass share each decoded weight block; per token the arithmetic is {@link #dot}'s. */
    @Override
    public void dotTokens(MemorySegment w, long wOff, ActivationRows a, int aOff, int n, int tokens, float[] out,
                          int outOff, int outStride) {
        int t = 0;
        for (; t + 4 <= tokens; t += 4) {
            dot4(w, wOff, a, aOff + t * n, n, out, outOff + t * outStride, outStride);
        }
        for (; t < tokens; t++) {
            out[outOff + t * outStride] = dot(w, wOff, a, aOff + t * n, n);
        }
    }

    private static void dot4(MemorySegment w, long wOff, ActivationRows a, int aOff, int n, float[] out, int outOff,
                             int outStride) {
        byte[] qs = a.qs();
        float[] ds = a.scales();
        FloatVector acc0 = FloatVector.zero(FL);
        FloatVector acc1 = FloatVector.zero(FL);
        FloatVector acc2 = FloatVector.zero(FL);
        FloatVector acc3 = FloatVector.zero(FL);
        int nb = n / 32;
        for (int b = 0; b < nb; b++) {
            long bo = wOff + (long) b * BLOCK_BYTES;
            int ao = aOff + b * 32;
            float dw = Bytes.f16(w, bo);
            for (int j = 0; j < 16; j += L) {
                ByteVector q = ByteVector.fromMemorySegment(B, w, bo + 2 + j, ByteOrder.LITTLE_ENDIAN);
                ShortVector lo = (ShortVector) q.and((byte) 0x0f).sub((byte) 8).convertShape(VectorOperators.B2S, S, 0);
                ShortVector hi = (ShortVector) q.lanewise(VectorOperators.LSHR, 4).sub((byte) 8)
                        .convertShape(VectorOperators.B2S, S, 0);
                acc0 = block(lo, hi, qs, ds, ao + j, ao, dw, acc0);
                acc1 = block(lo, hi, qs, ds, ao + j + n, ao + n, dw, acc1);
                acc2 = block(lo, hi, qs, ds, ao + j + 2 * n, ao + 2 * n, dw, acc2);
                acc3 = block(lo, hi, qs, ds, ao + j + 3 * n, ao + 3 * n, dw, acc3);
            }
        }
        out[outOff] = acc0.reduceLanes(VectorOperators.ADD);
        out[outOff + outStride] = acc1.reduceLanes(VectorOperators.ADD);
        out[outOff + 2 * outStride] = acc2.reduceLanes(VectorOperators.ADD);
        out[outOff + 3 * outStride] = acc3.reduceLanes(VectorOperators.ADD);
    }

    private static FloatVector block(ShortVector lo, ShortVector hi, byte[] qs, float[] ds, int x, int blockStart,
                                     float dw, FloatVector acc) {
        ShortVector xl = (ShortVector) ByteVector.fromArray(B, qs, x).convertShape(VectorOperators.B2S, S, 0);
        ShortVector xh = (ShortVector) ByteVector.fromArray(B, qs, x + 16).convertShape(VectorOperators.B2S, S, 0);
        FloatVector p = (FloatVector) lo.mul(xl).add(hi.mul(xh)).convertShape(VectorOperators.S2F, FL, 0);
        return p.fma(FloatVector.broadcast(FL, dw * ds[blockStart >> 5]), acc);
    }

    /** Scalar reference of {@link #dot}: integer sum per block times d_w * d_a. */
    public static float dotScalar(MemorySegment w, long wOff, ActivationRows a, int aOff, int n) {
        byte[] qs = a.qs();
        float[] ds = a.scales();
        float sum = 0f;
        for (int b = 0; b < n / 32; b++) {
            long bo = wOff + (long) b * BLOCK_BYTES;
            int ao = aOff + b * 32;
            int isum = 0;
            for (int j = 0; j < 16; j++) {
                int q = Bytes.u8(w, bo + 2 + j);
                isum += ((q & 0xf) - 8) * qs[ao + j] + ((q >>> 4) - 8) * qs[ao + j + 16];
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
            for (int j = 0; j < 16; j++) {
                int q = Bytes.u8(w, bo + 2 + j);
                dst[dstOff + b * 32 + j] = ((q & 0xf) - 8) * d;
                dst[dstOff + b * 32 + j + 16] = ((q >>> 4) - 8) * d;
            }
        }
    }
}
