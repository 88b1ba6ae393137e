package dev.trestle.backends.cpu.kernel;

import dev.trestle.backends.bytes.Le;
import dev.trestle.backends.cpu.ActivationRows;
import dev.trestle.backends.cpu.Half;
import dev.trestle.backends.type.GgmlType;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * BF16 weights against BF16 activations (ggml_vec_dot_bf16), products summed in F32. A BF16 value is the top half
 * of a float, so a pair of them read as one int widens with a shift (the even element) and a mask (the odd one):
 * no lane conversion. Four accumulators (even and odd elements of two vectors), folded in a fixed order.
 */
public final class BF16Kernel implements RowKernel {
    private static final VectorSpecies<Float> F = FloatReduce.F;
    private static final int L = FloatReduce.L;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_64.withShape(VectorShape.forBitSize(L * 32));
    private static final VectorSpecies<Short> S = ShortVector.SPECIES_64.withShape(VectorShape.forBitSize(L * 32));
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    /** Elements per step: two vectors of {@code 2 L} BF16 values. */
    private static final int STEP = 4 * L;
    private static final int HIGH = 0xffff0000;

    @Override
    public GgmlType weightType() {
        return GgmlType.BF16;
    }

    @Override
    public GgmlType dotType() {
        return GgmlType.BF16;
    }

    @Override
    public float dot(MemorySegment w, long wOff, ActivationRows a, int aOff, int n) {
        short[] x = a.half();
        FloatVector e0 = FloatVector.zero(F);
        FloatVector o0 = FloatVector.zero(F);
        FloatVector e1 = FloatVector.zero(F);
        FloatVector o1 = FloatVector.zero(F);
        int i = 0;
        for (; i + STEP <= n; i += STEP) {
            IntVector w0 = IntVector.fromMemorySegment(I, w, wOff + 2L * i, LE);
            IntVector x0 = ShortVector.fromArray(S, x, aOff + i).reinterpretAsInts();
            IntVector w1 = IntVector.fromMemorySegment(I, w, wOff + 2L * (i + 2 * L), LE);
            IntVector x1 = ShortVector.fromArray(S, x, aOff + i + 2 * L).reinterpretAsInts();
            e0 = w0.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats()
                    .fma(x0.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats(), e0);
            o0 = w0.and(HIGH).reinterpretAsFloats().fma(x0.and(HIGH).reinterpretAsFloats(), o0);
            e1 = w1.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats()
                    .fma(x1.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats(), e1);
            o1 = w1.and(HIGH).reinterpretAsFloats().fma(x1.and(HIGH).reinterpretAsFloats(), o1);
        }
        float sum = FloatReduce.sum(e0.add(e1).add(o0.add(o1)));
        for (; i < n; i++) {
            sum += Half.bf16ToFloat(w.get(Le.SHORT, wOff + 2L * i)) * Half.bf16ToFloat(x[aOff + i]);
        }
        return sum;
    }

    @Override
    public void dequantize(MemorySegment w, long wOff, float[] dst, int dstOff, int n) {
        for (int i = 0; i < n; i++) {
            dst[dstOff + i] = Half.bf16ToFloat(w.get(Le.SHORT, wOff + 2L * i));
        }
    }
}
