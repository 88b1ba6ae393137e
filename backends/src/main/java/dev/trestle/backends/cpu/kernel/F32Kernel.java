package dev.trestle.backends.cpu.kernel;

import dev.trestle.backends.bytes.Le;
import dev.trestle.backends.cpu.ActivationRows;
import dev.trestle.backends.type.GgmlType;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * F32 weights, activations stay F32. The matmul dot mirrors llamafile's tinyBLAS (one fused multiply-add
 * accumulator across the row, used by ggml when the row length is a multiple of the vector width); other lengths
 * and {@link #vecDot} mirror ggml_vec_dot_f32 (four accumulators, step 4 vectors, float tail).
 */
public final class F32Kernel implements RowKernel {
    private static final VectorSpecies<Float> F = FloatReduce.F;
    private static final int L = FloatReduce.L;
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
        if (n % L != 0) {
            return vecDot(w, wOff, a, aOff, n);
        }
        float[] x = a.f32();
        FloatVector acc = FloatVector.zero(F);
        for (int i = 0; i < n; i += L) {
            acc = FloatVector.fromMemorySegment(F, w, wOff + 4L * i, LE).fma(FloatVector.fromArray(F, x, aOff + i), acc);
        }
        return FloatReduce.sum(acc);
    }

    @Override
    public float vecDot(MemorySegment w, long wOff, ActivationRows a, int aOff, int n) {
        float[] x = a.f32();
        int step = 4 * L;
        int np = n - n % step;
        float sum = 0f;
        if (np > 0) {
            FloatVector s0 = FloatVector.zero(F);
            FloatVector s1 = FloatVector.zero(F);
            FloatVector s2 = FloatVector.zero(F);
            FloatVector s3 = FloatVector.zero(F);
            for (int i = 0; i < np; i += step) {
                s0 = FloatVector.fromMemorySegment(F, w, wOff + 4L * i, LE).fma(FloatVector.fromArray(F, x, aOff + i), s0);
                s1 = FloatVector.fromMemorySegment(F, w, wOff + 4L * (i + L), LE)
                        .fma(FloatVector.fromArray(F, x, aOff + i + L), s1);
                s2 = FloatVector.fromMemorySegment(F, w, wOff + 4L * (i + 2 * L), LE)
                        .fma(FloatVector.fromArray(F, x, aOff + i + 2 * L), s2);
                s3 = FloatVector.fromMemorySegment(F, w, wOff + 4L * (i + 3 * L), LE)
                        .fma(FloatVector.fromArray(F, x, aOff + i + 3 * L), s3);
            }
            sum = FloatReduce.sum(s0.add(s2).add(s1.add(s3)));
        }
        for (int i = np; i < n; i++) {
            sum += w.get(Le.FLOAT, wOff + 4L * i) * x[aOff + i];
        }
        return sum;
    }

    /** Scalar reference of {@link #dot}. */
    public static float dotScalar(MemorySegment w, long wOff, float[] x, int aOff, int n) {
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += w.get(Le.FLOAT, wOff + 4L * i) * x[aOff + i];
        }
        return (float) sum;
    }

    @Override
    public void dequantize(MemorySegment w, long wOff, float[] dst, int dstOff, int n) {
        for (int i = 0; i < n; i++) {
            dst[dstOff + i] = w.get(Le.FLOAT, wOff + 4L * i);
        }
    }
}
