package dev.trestle.backends.cpu;

import dev.trestle.backends.cpu.kernel.RowKernel;
import dev.trestle.backends.cpu.kernel.RowKernels;
import dev.trestle.backends.type.GgmlType;
import dev.trestle.common.TrestleException;
import java.lang.foreign.MemorySegment;

/**
 * A weight matrix (or a stack of expert matrices) in its storage type, read in place from the mapped file.
 * Shape in ggml order: {@code cols} (row length) x {@code rows} x {@code experts}.
 */
public final class CpuMatrix {
    private final String name;
    private final GgmlType type;
    private final MemorySegment data;
    private final int cols;
    private final int rows;
    private final int experts;
    private final long rowBytes;
    private final RowKernel kernel;
    private static final int TOKEN_TILE = 32;

    /** Wraps {@code data}; fails when the CPU backend has no kernel for the type or the shape is not storable. */
    public CpuMatrix(String name, GgmlType type, MemorySegment data, long[] shape) {
        this.name = name;
        this.type = type;
        this.data = data;
        this.cols = Math.toIntExact(shape[0]);
        this.rows = shape.length > 1 ? Math.toIntExact(shape[1]) : 1;
        this.experts = shape.length > 2 ? Math.toIntExact(shape[2]) : 1;
        this.rowBytes = type.bytesFor(cols);
        if (rowBytes < 0) {
            throw new TrestleException("tensor " + name + ": row length " + cols + " is not a multiple of the "
                    + type.llamaName() + " block size " + type.blockSize(), "the model file is corrupt");
        }
        if (rowBytes * rows * experts > data.byteSize()) {
            throw new TrestleException("tensor " + name + ": data is shorter than its shape", "the model file is corrupt");
        }
        this.kernel = RowKernels.forType(type, name);
    }

    public String name() {
        return name;
    }

    public GgmlType type() {
        return type;
    }

    public int cols() {
        return cols;
    }

    public int rows() {
        return rows;
    }

    public int experts() {
        return experts;
    }

    /** The activation format the kernel wants; activations must be loaded in it before {@link #matmul}. */
    public GgmlType dotType() {
        return kernel.dotType();
    }

    /** The stored bytes (for uploading the weight to a GPU backend). */
    public MemorySegment data() {
        return data;
    }

    public RowKernel kernel() {
        return kernel;
    }

    /** Dequantizes row {@code row} (embedding lookup) into {@code dst[off..off+cols)}. */
    public void getRow(int row, float[] dst, int off) {
        if (row < 0 || row >= rows * experts) {
            throw new TrestleException("row " + row + " is out of range for " + name + " (" + rows + " rows)",
                    "token ids must be below the vocabulary size " + rows);
        }
        kernel.dequantize(data, row * rowBytes, dst, off, cols);
    }

    /**
     * {@code out[t * outStride + r] = W[expert] row r . act row t} for tokens {@code t < nTokens}, split by rows
     * across the pool through {@code job} (reused, so the call allocates nothing).
     */
    public void matmul(MatmulJob job, ActivationRows act, int nTokens, float[] out, int outStride, int expert) {
        checkAct(act);
        job.dense(this, act, nTokens, out, outStride, expert);
    }

    /**
     * Like {@link #matmul} for a subset of activation rows ({@code actRows[i]}, written to row
     * {@code outRows[i]} of {@code out}): the tokens routed to one expert.
     */
    public void matmulRows(MatmulJob job, ActivationRows act, int[] actRows, int[] outRows, int count, float[] out,
                           int outStride, int expert) {
        checkAct(act);
        job.gather(this, act, actRows, outRows, count, out, outStride, expert);
    }

    /**
     * Like {@link #matmul} (expert 0) for two or three matrices that multiply the same activations (q/k/v,
     * gate/up), in one dispatch of the pool: {@code out_i[t * rows_i + r] = m_i row r . act row t}. {@code m2}
     * may be null. Each matrix computes its rows exactly as {@link #matmul} would.
     */
    public static void matmulAll(MatmulJob job, ActivationRows act, int nTokens, CpuMatrix m0, float[] out0,
                                 CpuMatrix m1, float[] out1, CpuMatrix m2, float[] out2) {
        m0.checkAct(act);
        m1.checkAct(act);
        if (m2 != null) {
            m2.checkAct(act);
        }
        job.denseAll(m0, out0, m1, out1, m2, out2, act, nTokens);
    }

    /** Bytes of one stored row. */
    long rowBytes() {
        return rowBytes;
    }

    /** Rows {@code [from, to)} of a dense product (see {@link #matmul}); the pool's chunk body. */
    void denseRows(int from, int to, ActivationRows act, int nTokens, float[] out, int outStride, int expert) {
        long base = (long) expert * rows * rowBytes;
        int n = cols;
        if (nTokens == 1) {
            for (int r = from; r < to; r++) {
                out[r] = kernel.dot(data, base + r * rowBytes, act, 0, n);
            }
            return;
        }
        // token tiles keep the activations of a tile in L1/L2 while every row of the chunk streams past them
        for (int t0 = 0; t0 < nTokens; t0 += TOKEN_TILE) {
            int tn = Math.min(TOKEN_TILE, nTokens - t0);
            for (int r = from; r < to; r++) {
                kernel.dotTokens(data, base + r * rowBytes, act, t0 * n, n, tn, out, t0 * outStride + r, outStride);
            }
        }
    }

    /** Rows {@code [from, to)} of a gathered product (see {@link #matmulRows}). */
    void gatherRows(int from, int to, ActivationRows act, int[] actRows, int[] outRows, int count, float[] out,
                    int outStride, int expert) {
        long base = (long) expert * rows * rowBytes;
        int n = cols;
        for (int r = from; r < to; r++) {
            long off = base + r * rowBytes;
            for (int i = 0; i < count; i++) {
                // ggml's mul_mat_id calls vec_dot directly (no llamafile tiles), so mirror that summation order
                out[outRows[i] * outStride + r] = kernel.vecDot(data, off, act, actRows[i] * n, n);
            }
        }
    }

    private void checkAct(ActivationRows act) {
        if (act.format() != kernel.dotType() || act.cols() != cols) {
            throw new IllegalArgumentException(name + ": activations are " + act.format() + " x " + act.cols()
                    + ", kernel wants " + kernel.dotType() + " x " + cols);
        }
    }
}
