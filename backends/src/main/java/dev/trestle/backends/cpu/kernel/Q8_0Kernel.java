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

/**
 * Q8_0 weights (block: F16 d, 32 int8) against Q8_0 activations: integer dot per block, times d_w * d_a.
 */
public final class Q8_0Kernel implements RowKernel {
    private static final int BLOCK_BYTES = 34;
    // One lane per element at every width: L bytes -> L shorts -> L floats (16 lanes on AVX-512, 8 on AVX2).
    private static final int L = Math.min(FloatVector.SPECIES_PREFERRED.length(), 16);
    private static final VectorSpecies<Float> FL = VectorSpecies.of(float.class, VectorShape.forBitSize(L * 32));
    private static final VectorSpecies<Short> S = VectorSpecies.of(short.class, VectorShape.forBitSize(L * 16));
    private static final VectorSpecies<Byte> BL = VectorSpecies.of(byte.class, VectorShape.forBitSize(L * 8));

    @Override
    public GgmlType weightType() {
        return GgmlType.Q8_0;
    }

    @Override
    public GgmlType dotType() {
        return GgmlType.Q8_0;
    }

    /**
     * Per block, the 32 products are summed pairwise in shorts (|w x| <= 128 * 127, so a pair fits), widened to
     * floats and added with the block scale into a float accumulator, as ggml's AVX kernels do: no cross-lane
     * sum per block.
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
                ShortVector w0 = (ShortVector) ByteVector.fromMemorySegment(BL, w, bo + 2 + j, ByteOrder.LITTLE_ENDIAN)
                        .convertShape(VectorOperators.B2S, S, 0);
                ShortVector w1 = (ShortVector) ByteVector.fromMemorySegment(BL, w, bo + 18 + j, ByteOrder.LITTLE_ENDIAN)
                        .convertShape(VectorOperators.B2S, S, 0);
                ShortVector x0 = (ShortVector) ByteVector.fromArray(BL, qs, ao + j).convertShape(VectorOperators.B2S, S, 0);
                ShortVector x1 = (ShortVector) ByteVector.fromArray(BL, qs, ao + 16 + j)
                        .convertShape(VectorOperators.B2S, S, 0);
                FloatVector p = (FloatVector) w0.mul(x0).add(w1.mul(x1)).convertShape(VectorOperators.S2F, FL, 0);
                acc = p.fma(FloatVector.broadcast(FL, d), acc);
            }
        }
        return acc.reduceLanes(VectorOperators.ADD);
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
                isum += Bytes.i8(w, bo + 2 + j) * qs[ao + j];
            }
            sum += (Bytes.f16(w, bo) * ds[ao / 32]) * isum;
        }
        return sum;
    }

    @Override
    public void dequantize(MemorySegment w, long wOff, float[] dst, int dstOff, int n) {
        for (int b = 0; b < n / 32; b++) {
            long bo = wOff + (long) b * BLOCK_BYTES;
            float d = Bytes.f16(w, bo);
            for (int j = 0; j < 32; j++) {
                dst[dstOff + b * 32 + j] = Bytes.i8(w, bo + 2 + j) * d;
            }
        }
    }
}
