package dev.trestle.backends.cpu.kernel;

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
 * F16 weights against F16 activations (ggml_vec_dot_f16): both sides widened to F32, products summed in F32.
 */
public final class F16Kernel implements RowKernel {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Short> S = ShortVector.SPECIES_PREFERRED.withShape(
            VectorShape.forBitSize(FloatVector.SPECIES_PREFERRED.vectorBitSize() / 2));
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    @Override
    public GgmlType weightType() {
        return GgmlType.F16;
    }

    @Override
    public GgmlType dotType() {
        return GgmlType.F16;
    }

    /** Widens F16 bits to floats: exact for normal and subnormal values (magnitude shift, then 2^112 rescale). */
    static FloatVector widen(ShortVector h) {
        IntVector i = (IntVector) h.convertShape(VectorOperators.S2I, I, 0);
        FloatVector mag = i.and(0x7fff).lanewise(VectorOperators.LSHL, 13).reinterpretAsFloats().mul(0x1p112f);
        IntVector sign = i.and(0x8000).lanewise(VectorOperators.LSHL, 16);
        return mag.reinterpretAsInts().or(sign).reinterpretAsFloats();
    }

    @Override
    public float dot(MemorySegment w, long wOff, ActivationRows a, int aOff, int n) {
        short[] x = a.half();
        FloatVector acc = FloatVector.zero(F);
        int i = 0;
        int upper = n - n % F.length();
        for (; i < upper; i += F.length()) {
            FloatVector wv = widen(ShortVector.fromMemorySegment(S, w, wOff + 2L * i, LE));
            FloatVector xv = widen(ShortVector.fromArray(S, x, aOff + i));
            acc = wv.fma(xv, acc);
        }
        float sum = acc.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            sum += Half.toFloat(w.get(Bytes.SHORT, wOff + 2L * i)) * Half.toFloat(x[aOff + i]);
        }
        return sum;
    }

    /** Scalar reference of {@link #dot}. */
    public static float dotScalar(MemorySegment w, long wOff, short[] x, int aOff, int n) {
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += Half.toFloat(w.get(Bytes.SHORT, wOff + 2L * i)) * Half.toFloat(x[aOff + i]);
        }
        return (float) sum;
    }

    @Override
    public void dequantize(MemorySegment w, long wOff, float[] dst, int dstOff, int n) {
        for (int i = 0; i < n; i++) {
            dst[dstOff + i] = Half.toFloat(w.get(Bytes.SHORT, wOff + 2L * i));
        }
    }
}
