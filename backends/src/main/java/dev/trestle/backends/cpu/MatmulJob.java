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

    public MatmulJob(CpuThreadPool pool) {
        this.pool = pool;
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
