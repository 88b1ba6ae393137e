package dev.trestle.backends.cpu;

import dev.trestle.backends.cpu.kernel.RepackedKernel;
import dev.trestle.backends.cpu.kernel.RowKernel;
import dev.trestle.backends.cpu.kernel.RowKernels;
import dev.trestle.backends.type.GgmlType;
import dev.trestle.common.TrestleException;
import java.lang.foreign.MemorySegment;

/**
 * A weight matrix (or a stack of expert matrices) in its storage type, read in place from the mapped file.
 * Shape in ggml order: {@code cols} (row length) x {@code rows} x {@code experts}.
 *
 * <p>Types with a {@link RepackedKernel} get a second, row-interleaved copy of their whole row groups, made once
 * on the first CPU matmul (so a weight that lives on a GPU never pays for it); the trailing rows and
 * {@link #data()} stay the stored bytes.
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
    private final RepackedKernel repacked;
    private final int groupRows;
    private final long groupBytes;
    private volatile MemorySegment packed;
    private volatile boolean repackFailed;
    private static final int TOKEN_TILE = 36;
    /** {@code TILE_ROWS[k][i] = k * TOKEN_TILE + i}: the token indices of tile k, grown on demand. */
    private static volatile int[][] tileRows = new int[0][];

    /** Wraps {@code data}; fails when the CPU backend has no kernel for the type or the shape is not storable. */
    public CpuMatrix(String name, GgmlType type, MemorySegment data, long[] shape) {
        this(name, type, data, shape, RowKernels.repackedFor(type));
    }

    /** As above with an explicit repacked layout ({@code null}: plain kernel only). */
    CpuMatrix(String name, GgmlType type, MemorySegment data, long[] shape, RepackedKernel repacked) {
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
        boolean usable = repacked != null && repacked.weightType() == type && repacked.dotType() == kernel.dotType()
                && rows >= repacked.groupRows();
        this.repacked = usable ? repacked : null;
        this.groupRows = usable ? repacked.groupRows() : 1;
        this.groupBytes = usable ? repacked.groupBytes(cols) : 0;
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

    /** Rows per unit of work: the repacked group size, so pool chunks never split a group. */
    int splitUnit() {
        return groupRows;
    }

    /**
     * Makes the repacked copy if this matrix has a layout and none yet, splitting the groups across {@code pool}
     * (or on the calling thread when {@code pool} is null). Called before a matmul's chunks run: from inside a
     * chunk, only with a null pool (the pool is not reentrant).
     */
    void prepare(CpuThreadPool pool) {
        if (repacked == null || packed != null || repackFailed) {
            return;
        }
        synchronized (this) {
            if (packed != null || repackFailed) {
                return;
            }
            int groups = rows / groupRows;
            MemorySegment dst = OffHeap.allocate(groupBytes * groups * experts);
            if (dst == null) {
                // out of native memory: this matrix keeps the plain kernels (same results within the tolerances)
                repackFailed = true;
                return;
            }
            CpuThreadPool.RangeBody body = (from, to) -> {
                for (int i = from; i < to; i++) {
                    int e = i / groups;
                    int g = i % groups;
                    repacked.repack(data, ((long) e * rows + (long) g * groupRows) * rowBytes, rowBytes, cols, dst,
                            (long) i * groupBytes);
                }
            };
            if (pool == null) {
                body.run(0, groups * experts);
            } else {
                pool.parallelFor(groups * experts, body);
            }
            packed = dst;
        }
    }

    /** The repacked copy, made here on first use when no matmul call prepared it (e.g. a fused dispatch). */
    private MemorySegment packed() {
        MemorySegment p = packed;
        if (p == null && repacked != null && !repackFailed) {
            prepare(null);
            p = packed;
        }
        return p;
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
        MemorySegment p = packed();
        int g0 = p == null ? to : (from + groupRows - 1) / groupRows;
        int g1 = p == null ? to : to / groupRows;
        if (g0 >= g1) {
            plainRows(from, to, act, nTokens, out, outStride, expert);
            return;
        }
        plainRows(from, g0 * groupRows, act, nTokens, out, outStride, expert);
        long base = (long) expert * (rows / groupRows) * groupBytes;
        if (nTokens == 1) {
            for (int g = g0; g < g1; g++) {
                repacked.multiply(p, base + g * groupBytes, cols, act, null, null, 1, out, outStride, g * groupRows);
            }
        } else {
            // token tiles keep the activations of a tile in L1/L2 while every group of the chunk streams past them
            for (int t0 = 0; t0 < nTokens; t0 += TOKEN_TILE) {
                int tn = Math.min(TOKEN_TILE, nTokens - t0);
                int[] idx = t0 == 0 ? null : tile(t0 / TOKEN_TILE);
                for (int g = g0; g < g1; g++) {
                    repacked.multiply(p, base + g * groupBytes, cols, act, idx, idx, tn, out, outStride,
                            g * groupRows);
                }
            }
        }
        plainRows(g1 * groupRows, to, act, nTokens, out, outStride, expert);
    }

    private void plainRows(int from, int to, ActivationRows act, int nTokens, float[] out, int outStride, int expert) {
        long base = (long) expert * rows * rowBytes;
        int n = cols;
        if (nTokens == 1) {
            for (int r = from; r < to; r++) {
                out[r] = kernel.dot(data, base + r * rowBytes, act, 0, n);
            }
            return;
        }
        for (int t0 = 0; t0 < nTokens; t0 += TOKEN_TILE) {
            int tn = Math.min(TOKEN_TILE, nTokens - t0);
            for (int r = from; r < to; r++) {
                kernel.dotTokens(data, base + r * rowBytes, act, t0 * n, n, tn, out, t0 * outStride + r, outStride);
            }
        }
    }

    /** Token indices {@code k * TOKEN_TILE ..} for tile {@code k}; allocated once per tile index, then shared. */
    private static int[] tile(int k) {
        int[][] t = tileRows;
        if (k < t.length) {
            return t[k];
        }
        synchronized (CpuMatrix.class) {
            t = tileRows;
            if (k >= t.length) {
                int[][] grown = java.util.Arrays.copyOf(t, Math.max(k + 1, 2 * t.length));
                for (int i = t.length; i < grown.length; i++) {
                    grown[i] = new int[TOKEN_TILE];
                    for (int j = 0; j < TOKEN_TILE; j++) {
                        grown[i][j] = i * TOKEN_TILE + j;
                    }
                }
                tileRows = grown;
                t = grown;
            }
            return t[k];
        }
    }

    /** Rows {@code [from, to)} of a gathered product (see {@link #matmulRows}). */
    void gatherRows(int from, int to, ActivationRows act, int[] actRows, int[] outRows, int count, float[] out,
                    int outStride, int expert) {
        MemorySegment p = packed();
        int g0 = p == null ? to : (from + groupRows - 1) / groupRows;
        int g1 = p == null ? to : to / groupRows;
        if (g0 >= g1) {
            plainGather(from, to, act, actRows, outRows, count, out, outStride, expert);
            return;
        }
        plainGather(from, g0 * groupRows, act, actRows, outRows, count, out, outStride, expert);
        long base = (long) expert * (rows / groupRows) * groupBytes;
        for (int g = g0; g < g1; g++) {
            repacked.multiply(p, base + g * groupBytes, cols, act, actRows, outRows, count, out, outStride,
                    g * groupRows);
        }
        plainGather(g1 * groupRows, to, act, actRows, outRows, count, out, outStride, expert);
    }

    private void plainGather(int from, int to, ActivationRows act, int[] actRows, int[] outRows, int count,
                             float[] out, int outStride, int expert) {
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

    void checkAct(ActivationRows act) {
        if (act.format() != kernel.dotType() || act.cols() != cols) {
            throw new IllegalArgumentException(name + ": activations are " + act.format() + " x " + act.cols()
                    + ", kernel wants " + kernel.dotType() + " x " + cols);
        }
    }
}
