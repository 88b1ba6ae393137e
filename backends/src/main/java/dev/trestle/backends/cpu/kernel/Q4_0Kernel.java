package dev.trestle.backends.cpu.kernel;

import dev.trestle.backends.cpu.ActivationRows;
import dev.trestle.backends.type.GgmlType;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/** Q4_0 (F16 d, 16 bytes of nibbles; value = (q - 8) * d) against Q8_0 activations. */
public final class Q4_0Kernel implements RowKernel {
    private static final VectorSpecies<Integer> I = VectorShapes.I;
    private static final VectorSpecies<Float> FI = VectorShapes.FI;
    private static final VectorSpecies<Byte> B = VectorShapes.B;
    private static final int LANES = VectorShapes.LANES;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final int BLOCK_BYTES = 18;

    @Override
    public GgmlType weightType() {
        return GgmlType.Q4_0;
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
        for (int b = 0; b < n / 32; b++) {
            long bo = wOff + (long) b * BLOCK_BYTES;
            int ao = aOff + b * 32;
            IntVector isum = IntVector.zero(I);
            for (int j = 0; j < 16; j += LANES) {
                ByteVector q = ByteVector.fromMemorySegment(B, w, bo + 2 + j, LE);
                IntVector lo = (IntVector) q.and((byte) 0x0f).sub((byte) 8).convertShape(VectorOperators.B2I, I, 0);
                IntVector hi = (IntVector) q.lanewise(VectorOperators.LSHR, 4).and((byte) 0x0f).sub((byte) 8)
                        .convertShape(VectorOperators.B2I, I, 0);
                IntVector x0 = (IntVector) ByteVector.fromArray(B, qs, ao + j).convertShape(VectorOperators.B2I, I, 0);
                IntVector x1 = (IntVector) ByteVector.fromArray(B, qs, ao + 16 + j).convertShape(VectorOperators.B2I, I, 0);
                isum = isum.add(lo.mul(x0)).add(hi.mul(x1));
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
