package dev.trestle.backends.cpu;

/**
 * A reusable matmul dispatch: holds one call's operands while the pool runs it, so a forward pass issues
 * matmuls without allocating. One job per caller thread (a context owns one).
 */
public final class MatmulJob implements CpuThreadPool.RangeBody {
    private final CpuThreadPool pool;
    private CpuMatrix m;
    private ActivationRows act;
    private int nTokens;
    private float[] out;
    private int outStride;
    private int expert;
    private int[] actRows;
    private int[] outRows;
    private int count;
    private int unit;
    // several matrices over the same activations in one dispatch (see CpuMatrix.matmulAll)
    private static final int MAX_FUSED = 3;
    private static final int FUSED_ALIGN = 32; // chunk edges on multiples of 32 rows of a matrix (interleave groups)
    private final CpuMatrix[] fused = new CpuMatrix[MAX_FUSED];
    private final float[][] fusedOut = new float[MAX_FUSED][];
    private final int[] fusedStart = new int[MAX_FUSED + 1]; // first global row of each matrix, then the total
    private final int[] edges;                               // (threads + 1) global row edges of the chunks
    private int fusedCount;
    private final CpuThreadPool.RangeBody partsBody = this::runParts; // one instance: dispatches allocate nothing
    // queued gathered products (beginGather/addGather/runGathered), grown on demand
    private CpuMatrix[] segM = new CpuMatrix[16];
    private ActivationRows[] segAct = new ActivationRows[16];
    private int[][] segActRows = new int[16][];
    private int[][] segOutRows = new int[16][];
    private float[][] segOut = new float[16][];
    private int[] segCountRows = new int[16];
    private int[] segStride = new int[16];
    private int[] segExpert = new int[16];
    private int[] segStart = new int[17];
    private long[] segWork = new long[16];
    private int segCount;
    private final CpuThreadPool.RangeBody gatherBody = this::runGatherParts;

    public MatmulJob(CpuThreadPool pool) {
        this.pool = pool;
        this.edges = new int[pool.threads() + 1];
    }

    public CpuThreadPool pool() {
        return pool;
    }

    void dense(CpuMatrix m, ActivationRows act, int nTokens, float[] out, int outStride, int expert) {
        this.m = m;
        this.act = act;
        this.nTokens = nTokens;
        this.out = out;
        this.outStride = outStride;
        this.expert = expert;
        this.actRows = null;
        run();
    }

    void gather(CpuMatrix m, ActivationRows act, int[] actRows, int[] outRows, int count, float[] out,
                int outStride, int expert) {
        this.m = m;
        this.act = act;
        this.actRows = actRows;
        this.outRows = outRows;
        this.count = count;
        this.out = out;
        this.outStride = outStride;
        this.expert = expert;
        run();
    }

    /**
     * {@code outs[i] = ms[i] . act} (expert 0, output stride = rows of {@code ms[i]}) for {@code count} matrices in
     * one pool dispatch. Chunks are cut by bytes of weights, so matrices of different types share the work evenly.
     */
    void denseAll(CpuMatrix m0, float[] out0, CpuMatrix m1, float[] out1, CpuMatrix m2, float[] out2,
                  ActivationRows act, int nTokens) {
        fused[0] = m0;
        fused[1] = m1;
        fused[2] = m2;
        fusedOut[0] = out0;
        fusedOut[1] = out1;
        fusedOut[2] = out2;
        fusedCount = m2 == null ? 2 : 3;
        this.act = act;
        this.nTokens = nTokens;
        this.actRows = null;
        long totalBytes = 0;
        int rows = 0;
        for (int i = 0; i < fusedCount; i++) {
            fusedStart[i] = rows;
            rows += fused[i].rows();
            totalBytes += fused[i].rowBytes() * fused[i].rows();
        }
        fusedStart[fusedCount] = rows;
        for (int i = 0; i < fusedCount; i++) {
            fused[i].prepare(pool); // repack (split across the pool) before the chunks read the layouts
        }
        int parts = Math.min(pool.threads(), Math.max(1, rows / FUSED_ALIGN));
        edges[0] = 0;
        for (int p = 1; p < parts; p++) {
            edges[p] = Math.max(edges[p - 1], edgeAt(totalBytes * p / parts));
        }
        edges[parts] = rows;
        try {
            pool.parallelFor(parts, partsBody);
        } finally {
            act = null;
            for (int i = 0; i < MAX_FUSED; i++) {
                fused[i] = null;
                fusedOut[i] = null;
            }
            fusedCount = 0;
        }
    }

    /**
     * Starts a batch of gathered products ({@link #addGather}) that {@link #runGathered} runs in one pool dispatch:
     * all chosen experts of a layer (and their gate and up matrices) share one barrier instead of one each.
     */
    public void beginGather() {
        segCount = 0;
    }

    /**
     * Queues {@code out[outRows[i] * outStride + r] = m[expert] row r . act row actRows[i]} for {@code i < count};
     * each output is computed exactly as {@link CpuMatrix#matmulRows} computes it. The arrays must stay unchanged
     * until {@link #runGathered} returns.
     */
    public void addGather(CpuMatrix m, ActivationRows act, int[] actRows, int[] outRows, int count, float[] out,
                          int outStride, int expert) {
        m.checkAct(act);
        if (count <= 0) {
            return;
        }
        if (segCount == segM.length) {
            int cap = 2 * segM.length;
            segM = java.util.Arrays.copyOf(segM, cap);
            segAct = java.util.Arrays.copyOf(segAct, cap);
            segActRows = java.util.Arrays.copyOf(segActRows, cap);
            segOutRows = java.util.Arrays.copyOf(segOutRows, cap);
            segOut = java.util.Arrays.copyOf(segOut, cap);
            segCountRows = java.util.Arrays.copyOf(segCountRows, cap);
            segStride = java.util.Arrays.copyOf(segStride, cap);
            segExpert = java.util.Arrays.copyOf(segExpert, cap);
            segStart = java.util.Arrays.copyOf(segStart, cap + 1);
            segWork = java.util.Arrays.copyOf(segWork, cap);
        }
        int i = segCount++;
        segM[i] = m;
        segAct[i] = act;
        segActRows[i] = actRows;
        segOutRows[i] = outRows;
        segOut[i] = out;
        segCountRows[i] = count;
        segStride[i] = outStride;
        segExpert[i] = expert;
    }

    /**
     * Runs the queued gathered products in one dispatch. Chunks are cut by weight bytes times tokens on whole
     * repacked groups of each matrix, so no group is split (its outputs stay bit-identical to a lone call).
     */
    public void runGathered() {
        int n = segCount;
        if (n == 0) {
            return;
        }
        try {
            long totalWork = 0;
            int rows = 0;
            for (int i = 0; i < n; i++) {
                segM[i].prepare(pool);
                segStart[i] = rows;
                rows += segM[i].rows();
                long w = segM[i].rowBytes() * segM[i].rows() * segCountRows[i];
                segWork[i] = w;
                totalWork += w;
            }
            segStart[n] = rows;
            int parts = Math.min(pool.threads(), Math.max(1, rows / FUSED_ALIGN));
            edges[0] = 0;
            for (int p = 1; p < parts; p++) {
                edges[p] = Math.max(edges[p - 1], gatherEdgeAt(totalWork * p / parts));
            }
            edges[parts] = rows;
            pool.parallelFor(parts, gatherBody);
        } finally {
            for (int i = 0; i < n; i++) {
                segM[i] = null;
                segAct[i] = null;
                segActRows[i] = null;
                segOutRows[i] = null;
                segOut[i] = null;
            }
            segCount = 0;
        }
    }

    /** The global row where the cumulative work reaches {@code target}, on a group edge of its matrix. */
    private int gatherEdgeAt(long target) {
        long before = 0;
        for (int i = 0; i < segCount; i++) {
            long w = segWork[i];
            if (target < before + w) {
                CpuMatrix m = segM[i];
                long perRow = w / m.rows();
                int local = (int) ((target - before) / Math.max(1, perRow));
                int u = m.splitUnit();
                local = Math.min(m.rows(), (local + u / 2) / u * u);
                return segStart[i] + local;
            }
            before += w;
        }
        return segStart[segCount];
    }

    private void runGatherParts(int fromPart, int toPart) {
        int from = edges[fromPart];
        int to = edges[toPart];
        for (int i = 0; i < segCount; i++) {
            int lo = Math.max(from, segStart[i]) - segStart[i];
            int hi = Math.min(to, segStart[i + 1]) - segStart[i];
            if (lo < hi) {
                segM[i].gatherRows(lo, hi, segAct[i], segActRows[i], segOutRows[i], segCountRows[i], segOut[i],
                        segStride[i], segExpert[i]);
            }
        }
    }

    /** The global row where the cumulative weight bytes reach {@code target}, aligned within its matrix. */
    private int edgeAt(long target) {
        long before = 0;
        for (int i = 0; i < fusedCount; i++) {
            CpuMatrix m = fused[i];
            long bytes = m.rowBytes() * m.rows();
            if (target < before + bytes) {
                int local = (int) ((target - before) / m.rowBytes());
                local = Math.min(m.rows(), (local + FUSED_ALIGN / 2) / FUSED_ALIGN * FUSED_ALIGN);
                return fusedStart[i] + local;
            }
            before += bytes;
        }
        return fusedStart[fusedCount];
    }

    private void runParts(int fromPart, int toPart) {
        int from = edges[fromPart];
        int to = edges[toPart];
        for (int i = 0; i < fusedCount; i++) {
            int lo = Math.max(from, fusedStart[i]) - fusedStart[i];
            int hi = Math.min(to, fusedStart[i + 1]) - fusedStart[i];
            if (lo < hi) {
                CpuMatrix m = fused[i];
                m.denseRows(lo, hi, act, nTokens, fusedOut[i], m.rows(), 0);
            }
        }
    }

    private void run() {
        try {
            m.prepare(pool);
            // chunks on whole repacked groups: no two threads write the out columns of one group
            unit = m.splitUnit();
            pool.parallelFor((m.rows() + unit - 1) / unit, this);
        } finally {
            m = null;
            act = null;
            out = null;
            actRows = null;
            outRows = null;
        }
    }

    @Override
    public void run(int fromUnit, int toUnit) {
        int from = fromUnit * unit;
        int to = Math.min(toUnit * unit, m.rows());
        if (actRows == null) {
            m.denseRows(from, to, act, nTokens, out, outStride, expert);
        } else {
            m.gatherRows(from, to, act, actRows, outRows, count, out, outStride, expert);
        }
    }
}
