package dev.trestle.backends.cpu.kernel;

import dev.trestle.backends.cpu.ActivationRows;
import dev.trestle.backends.type.GgmlType;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import java.nio.ByteOrder;
import jdk.incubator.vector.VectorSpecies;

/**
 * Q8_0 weights (block: F16 d, 32 int8) against Q8_0 activations: integer dot per block, times d_w * d_a.
 */
public final class Q8_0Kernel implements RowKernel {
    private static final VectorSpecies<Integer> I = VectorShapes.I;
    private static final VectorSpecies<Float> FI = VectorShapes.FI;
    private static final VectorSpecies<Byte> B = VectorShapes.B;
    private static final int LANES = VectorShapes.LANES;
    private static final int BLOCK_BYTES = 34;

    @Override
    public GgmlType weightType() {
        return GgmlType.Q8_0;
    }

    @Override
    public GgmlType dotType() {
        return GgmlType.Q8_0;
    }

    @Override
    public float dot(MemorySegment w, long wOff, ActivationRows a, int aOff, int n) {
        byte[] qs = a.qs();
        float[] ds = a.scales();
        FloatVector acc = FloatVector.zero(FI);
        int nb = n / 32;
        for (int b = 0; b < nb; b++) {
            long bo = wOff + (long) b * BLOCK_BYTES;
            int ao = aOff + b * 32;
            IntVector isum = IntVector.zero(I);
            for (int j = 0; j < 32; j += LANES) {
                IntVector wv = (IntVector) ByteVector.fromMemorySegment(B, w, bo + 2 + j, ByteOrder.LITTLE_ENDIAN)
                        .convertShape(VectorOperators.B2I, I, 0);
                IntVector xv = (IntVector) ByteVector.fromArray(B, qs, ao + j).convertShape(VectorOperators.B2I, I, 0);
                isum = isum.add(wv.mul(xv));
            }
            float scale = Bytes.f16(w, bo) * ds[ao / 32];
            acc = ((FloatVector) isum.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(FI, scale), acc);
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
