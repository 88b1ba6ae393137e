package dev.trestle.backends.cpu.kernel;

import dev.trestle.backends.cpu.ActivationRows;
import dev.trestle.backends.type.GgmlType;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/** F32 weights: plain float dot (ggml_vec_dot_f32), activations stay F32. */
public final class F32Kernel implements RowKernel {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    @Override
    public GgmlType weightType() {
        return GgmlType.F32;
    }

    @Override
    public GgmlType dotType() {
        return GgmlType.F32;
    }

    @Override
    public float dot(MemorySegment w, long wOff, ActivationRows a, int aOff, int n) {
        float[] x = a.f32();
        FloatVector acc = FloatVector.zero(F);
        int i = 0;
        int upper = F.loopBound(n);
        for (; i < upper; i += F.length()) {
            FloatVector wv = FloatVector.fromMemorySegment(F, w, wOff + 4L * i, LE);
            acc = wv.fma(FloatVector.fromArray(F, x, aOff + i), acc);
        }
        float sum = acc.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            sum += w.get(Bytes.FLOAT, wOff + 4L * i) * x[aOff + i];
        }
        return sum;
    }

    /** Scalar reference of {@link #dot}. */
    public static float dotScalar(MemorySegment w, long wOff, float[] x, int aOff, int n) {
        float sum = 0f;
        for (int i = 0; i < n; i++) {
            sum += w.get(Bytes.FLOAT, wOff + 4L * i) * x[aOff + i];
        }
        return sum;
    }

    @Override
    public void dequantize(MemorySegment w, long wOff, float[] dst, int dstOff, int n) {
        for (int i = 0; i < n; i++) {
            dst[dstOff + i] = w.get(Bytes.FLOAT, wOff + 4L * i);
        }
    }
}
