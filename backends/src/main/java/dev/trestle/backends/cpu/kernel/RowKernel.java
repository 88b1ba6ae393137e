package dev.trestle.backends.cpu.kernel;

import dev.trestle.backends.cpu.ActivationRows;
import dev.trestle.backends.type.GgmlType;
import java.lang.foreign.MemorySegment;

/**
 * The CPU kernels of one weight storage type: a dot product of a stored row against an activation row in
 * the type's vec_dot format, and a row dequantizer (embedding lookup, tests).
 *
 * <p>Chosen once per weight at load time through {@link RowKernels#forType}.
 */
public interface RowKernel {
    /** The storage type this kernel reads. */
    GgmlType weightType();

    /** The activation format the dot expects ({@link ActivationRows#format()}), as ggml's vec_dot_type. */
    GgmlType dotType();

    /**
     * Dot product of {@code n} stored elements starting at byte {@code wOff} of {@code w} with elements
     * {@code [aOff, aOff + n)} of {@code a}; {@code n} and {@code aOff} are multiples of the block size.
     */
    float dot(MemorySegment w, long wOff, ActivationRows a, int aOff, int n);

    /**
     * The dot as ggml's vec_dot computes it, where ggml calls vec_dot directly (flash attention's K.Q) instead of
     * a tiled matmul; defaults to {@link #dot}.
     */
    default float vecDot(MemorySegment w, long wOff, ActivationRows a, int aOff, int n) {
        return dot(w, wOff, a, aOff, n);
    }

    /**
     * Dot products of one stored row with {@code tokens} activation rows (row {@code t} at
     * {@code aOff + t * n}), written to {@code out[outOff + t * outStride]}; equal to {@link #dot} per token.
     * Kernels override it to decode each weight block once for several tokens (prefill).
     */
    default void dotTokens(MemorySegment w, long wOff, ActivationRows a, int aOff, int n, int tokens, float[] out,
                           int outOff, int outStride) {
        for (int t = 0; t < tokens; t++) {
            out[outOff + t * outStride] = dot(w, wOff, a, aOff + t * n, n);
        }
    }

    /** Dequantizes {@code n} elements starting at byte {@code wOff} into {@code dst[dstOff..]}. */
    void dequantize(MemorySegment w, long wOff, float[] dst, int dstOff, int n);
}
