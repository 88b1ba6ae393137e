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
 * F16 weights against F16 activations: both sides widened to F32 and multiplied exactly. The matmul dot mirrors
 * llamafile's tinyBLAS (one fused accumulator, used by ggml when the row length is a multiple of the vector
 * width); other lengths and {@link #vecDot} (flash attention's K.Q) mirror ggml_vec_dot_f16 (four accumulators,
 * then a double-precision tail).
 */
public final class F16Kernel implements RowKernel {
    private static final VectorSpecies<Float> F = FloatReduce.F;
    private static final int L = FloatReduce.L;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_64.withShape(VectorShape.forBitSize(L * 32));
    private static final VectorSpecies<Short> S = ShortVector.SPECIES_64.withShape(VectorShape.forBitSize(L * 16));
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
        if (n % L != 0) {
            return vecDot(w, wOff, a, aOff, n);
        }
        short[] x = a.half();
        FloatVector acc = FloatVector.zero(F);
        for (int i = 0; i < n; i += L) {
            FloatVector wv = widen(ShortVector.fromMemorySegment(S, w, wOff + 2L * i, LE));
            acc = wv.fma(widen(ShortVector.fromArray(S, x, aOff + i)), acc);
        }
        return FloatReduce.sum(acc);
    }

    @Override
    public float vecDot(MemorySegment w, long wOff, ActivationRows a, int aOff, int n) {
        short[] x = a.half();
        int step = 4 * L;
        int np = n - n % step;
        double sum = 0;
        if (np > 0) {
            // each of ggml's four accumulators sees its own fma sequence, so summing them one pass at a time gives
            // the same floats; a single loop with eight widenings is over C2's inlining budget (boxed vectors)
            FloatVector s0 = stride(w, wOff, x, aOff, np, 0);
            FloatVector s1 = stride(w, wOff, x, aOff, np, L);
            FloatVector s2 = stride(w, wOff, x, aOff, np, 2 * L);
            FloatVector s3 = stride(w, wOff, x, aOff, np, 3 * L);
            sum = FloatReduce.sum(s0.add(s2).add(s1.add(s3)));
        }
        for (int i = np; i < n; i++) {
            sum += Half.toFloat(w.get(Le.SHORT, wOff + 2L * i)) * Half.toFloat(x[aOff + i]);
        }
        return (float) sum;
    }

    /** One of {@link #vecDot}'s four accumulators: the fma of vectors {@code off, off + 4L, ...} below {@code np}. */
    private static FloatVector stride(MemorySegment w, long wOff, short[] x, int aOff, int np, int off) {
        FloatVector acc = FloatVector.zero(F);
        for (int i = off; i < np; i += 4 * L) {
            acc = widen(ShortVector.fromMemorySegment(S, w, wOff + 2L * i, LE)).fma(widen(ShortVector.fromArray(S, x, aOff + i)), acc);
        }
        return acc;
    }

    /** Scalar reference of {@link #dot}. */
    public static float dotScalar(MemorySegment w, long wOff, short[] x, int aOff, int n) {
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += Half.toFloat(w.get(Le.SHORT, wOff + 2L * i)) * Half.toFloat(x[aOff + i]);
        }
        return (float) sum;
    }

    @Override
    public void dequantize(MemorySegment w, long wOff, float[] dst, int dstOff, int n) {
        for (int i = 0; i < n; i++) {
            dst[dstOff + i] = Half.toFloat(w.get(Le.SHORT, wOff + 2L * i));
        }
    }
}
