package dev.trestle.engine.model;

import dev.trestle.backends.cpu.ActivationRows;
import dev.trestle.backends.type.GgmlType;
import dev.trestle.backends.cpu.Attention;
import dev.trestle.backends.cpu.CpuThreadPool;
import dev.trestle.backends.cpu.MatmulJob;
import java.util.ArrayList;
import java.util.List;

/** Buffers for one micro-batch of up to {@code nTokens} rows, allocated once per context. */
public final class ForwardState {
    final int nTokens;
    final float[] x;        // (n_tokens, n_embd) residual stream
    final float[] cur;      // (n_tokens, n_embd) normed input of a sub-block
    final float[] q;        // (n_tokens, n_head * head_dim)
    final float[] k;        // (n_tokens, kv_dim)
    final float[] v;        // (n_tokens, kv_dim)
    final float[] qkv;      // (n_tokens, q_dim + 2 kv_dim) fused projection output
    final float[] attn;     // (n_tokens, n_head * head_dim) attention output
    final float[] proj;     // (n_tokens, n_embd) projection output
    final float[] gate;     // (n_tokens * n_slots, max ff) FFN gate / fused gate-up
    final float[] up;       // (n_tokens * n_slots, max ff)
    final float[] ffnOut;   // (n_tokens * n_slots, n_embd)
    final float[] shared;   // (n_tokens, n_embd) shared-expert output
    final float[] router;   // (n_tokens, n_expert) router logits / probabilities
    final int[] selected;   // (n_tokens, n_expert_used) chosen experts
    final float[] weights;  // (n_tokens, n_expert_used) routing weights
    final int[][] expertTokens; // (n_expert, n_tokens) per expert: the tokens routed to it, ascending
    final int[][] expertSlots;  // (n_expert, n_tokens) per expert: their slot rows (t * n_slots + j)
    final int[] expertCount;    // (n_expert) tokens routed to each expert
    final float[] ropeCache; // (n_rot) cos/sin of one position
    final int[] visible;    // (n_cells) cells visible to one query
    final float[] hidden;   // (n_tokens, n_embd) final normed hidden state (embeddings)
    final MatmulJob job;     // reusable matmul dispatch
    Trace trace = Trace.NONE; // named intermediate tensors (debugging)
    final Attention[] attention; // (n_layer) attention kernels for this context's cache types
    final HeadsJob heads;    // reusable attention dispatch
    private final List<ActivationRows> acts = new ArrayList<>();
    LayerExecutor[] gpuLayers;                  // (n_layer) executor of each GPU-resident layer, null = CPU
    List<LayerExecutor> gpuExecutors = List.of(); // the distinct executors
    LayerExecutor output;                       // device of the output head, null = CPU

    public ForwardState(ModelConfig c, int nTokens, int nCells, CpuThreadPool pool, Attention[] attention) {
        this.attention = attention;
        this.nTokens = nTokens;
        this.job = new MatmulJob(pool);
        int slots = Math.max(1, c.nExpertUsed());
        int ff = Math.max(2 * c.nFf(), Math.max(c.nFfExp(), c.nFfShexp()));
        x = new float[nTokens * c.nEmbd()];
        cur = new float[nTokens * c.nEmbd()];
        q = new float[nTokens * c.qDim()];
        k = new float[nTokens * c.kvDim()];
        v = new float[nTokens * c.kvDim()];
        qkv = new float[nTokens * (c.qDim() + 2 * c.kvDim())];
        attn = new float[nTokens * c.qDim()];
        proj = new float[nTokens * c.nEmbd()];
        gate = new float[nTokens * slots * ff];
        up = new float[nTokens * slots * ff];
        ffnOut = new float[nTokens * slots * c.nEmbd()];
        shared = new float[nTokens * c.nEmbd()];
        router = new float[nTokens * Math.max(1, c.nExpert())];
        selected = new int[nTokens * slots];
        weights = new float[nTokens * slots];
        int nExp = Math.max(0, c.nExpert());
        expertTokens = new int[nExp][nTokens];
        expertSlots = new int[nExp][nTokens];
        expertCount = new int[nExp];
        ropeCache = new float[Math.max(2, c.nRot())];
        visible = new int[nCells];
        hidden = new float[nTokens * c.nEmbd()];
        heads = new HeadsJob(pool, c);
    }

    /** Activation buffer in {@code format} for rows of {@code cols} (created on first use, then reused). */
    ActivationRows act(GgmlType format, int cols, int rows) {
        for (int i = 0; i < acts.size(); i++) {
            ActivationRows a = acts.get(i);
            if (a.format() == format && a.maxCols() == cols && a.rowCapacity() >= rows) {
                return a;
            }
        }
        ActivationRows a = new ActivationRows(format, Math.max(rows, nTokens), cols);
        acts.add(a);
        return a;
    }

    /** Attention of one query row: its heads split across the pool (reused, allocation-free). */
    final class HeadsJob implements CpuThreadPool.RangeBody {
        private final CpuThreadPool pool;
        private final int nHead;
        private final int headDim;
        private Attention att;
        private Attention.KvView view;
        private int token;
        private int nVisible;

        HeadsJob(CpuThreadPool pool, ModelConfig c) {
            this.pool = pool;
            this.nHead = c.nHead();
            this.headDim = c.headDim();
        }

        void attend(Attention att, Attention.KvView view, int token, int nVisible) {
            this.att = att;
            this.view = view;
            this.token = token;
            this.nVisible = nVisible;
            pool.parallelFor(Math.min(pool.threads(), nHead), this);
        }

        @Override
        public void run(int from, int to) {
            int workers = Math.min(pool.threads(), nHead);
            int qd = nHead * headDim;
            for (int worker = from; worker < to; worker++) {
                // contiguous heads: a worker's heads share KV heads (GQA), whose cache rows then stay in its cache
                int hEnd = (int) ((long) nHead * (worker + 1) / workers);
                int h = (int) ((long) nHead * worker / workers);
                // heads two by two: a pair of one KV head shares each V row's pass (Attention.attendHeadPair)
                for (; h + 1 < hEnd; h += 2) {
                    int off = token * qd + h * headDim;
                    att.attendHeadPair(worker, q, off, h, off + headDim, h + 1, view, visible, nVisible, attn, off,
                            off + headDim);
                }
                if (h < hEnd) {
                    int off = token * qd + h * headDim;
                    att.attendHead(worker, q, off, h, view, visible, nVisible, attn, off);
                }
            }
        }
    }

    /** Binds the Vulkan executors of this context: {@code perLayer[il]} runs layer il (null entries: the CPU). */
    public void bindGpu(LayerExecutor[] perLayer) {
        gpuLayers = perLayer == null ? null : perLayer.clone();
        List<LayerExecutor> distinct = new ArrayList<>();
        if (perLayer != null) {
            for (LayerExecutor g : perLayer) {
                if (g != null && !distinct.contains(g)) {
                    distinct.add(g);
                }
            }
        }
        gpuExecutors = List.copyOf(distinct);
        if (perLayer == null) {
            output = null;
        }
    }

    /** Runs the output head on {@code g}'s device (null: the CPU). */
    public void bindOutput(LayerExecutor g) {
        output = g;
    }

    /** Installs a receiver for named intermediate tensors ({@link Trace#NONE} to stop). */
    public void setTrace(Trace trace) {
        this.trace = trace == null ? Trace.NONE : trace;
    }

    /** Final normed hidden states, row-major (n_tokens, n_embd). */
    public float[] hidden() {
        return hidden;
    }
}
