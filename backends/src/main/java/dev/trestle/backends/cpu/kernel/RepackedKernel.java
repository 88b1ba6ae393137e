package dev.trestle.backends.cpu.kernel;

import dev.trestle.backends.cpu.ActivationRows;
import dev.trestle.backends.type.GgmlType;
import java.lang.foreign.MemorySegment;

/**
 * The kernels of one weight type over a layout repacked once at load time: groups of {@link #groupRows()} rows
 * interleaved block by block, so one pass over a group's bytes yields {@code groupRows()} dot products per
 * activation row in SIMD lanes, with no cross-lane reduction per row (llama.cpp repacks Q4_0/Q4_K the same way
 * on x86). The stored file bytes stay untouched: GPU uploads and embedding lookups read those.
 *
 * <p>Numerics: each block's integer dot is exact, lanes accumulate in a fixed order, so results do not depend
 * on the JIT tier; the order differs from ggml's vec_dot, which the parity tolerances allow.
 */
public interface RepackedKernel {
    /** The storage type this kernel repacks. */
    GgmlType weightType();

    /** The activation format it multiplies ({@link ActivationRows#format()}). */
    GgmlType dotType();

    /** Rows per interleaved group; a matrix's trailing rows (rows % groupRows()) keep the plain kernel. */
    int groupRows();

    /** Bytes of one repacked group of {@link #groupRows()} rows of {@code cols} elements. */
    long groupBytes(int cols);

    /** Repacks {@link #groupRows()} stored rows starting at {@code srcOff}, {@code rowBytes} apart, into {@code dst}. */
    void repack(MemorySegment src, long srcOff, long rowBytes, int cols, MemorySegment dst, long dstOff);

    /**
     * For {@code r < groupRows()} and {@code t < tokens}: {@code out[outRow(t) * outStride + rowOff + r]} = row
     * {@code r} of the group at {@code groupOff} times activation row {@code actRow(t)}, where
     * {@code actRow(t) = actRows == null ? t : actRows[t]} and {@code outRow} likewise from {@code outRows}.
     */
    void multiply(MemorySegment w, long groupOff, int cols, ActivationRows a, int[] actRows, int[] outRows,
                  int tokens, float[] out, int outStride, int rowOff);

    /** {@code actRow(t)} / {@code outRow(t)} of {@link #multiply}: {@code rows[t]}, or {@code t} when rows is null. */
    static int row(int[] rows, int t) {
        return rows == null ? t : rows[t];
    }
}
