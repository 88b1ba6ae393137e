package dev.trestle.engine.model;

import dev.trestle.backends.cpu.ActivationRows;
import dev.trestle.backends.cpu.Attention;
import dev.trestle.backends.cpu.CpuMatrix;
import dev.trestle.backends.cpu.CpuOps;
import dev.trestle.backends.cpu.CpuThreadPool;
import dev.trestle.backends.cpu.MatmulJob;
import dev.trestle.backends.cpu.Rope;
import dev.trestle.backends.cpu.RowQuantizer;
import dev.trestle.common.TrestleException;
import dev.trestle.engine.gguf.GgufMetadata;
import dev.trestle.engine.kv.KvCache;

/**
 * A decoder-only transformer in llama.cpp's graph shape. This class holds the shared builders (norm, qkv,
 * attention, ffn, moeFfn) and the forward pass; each architecture subclass states only its differences by
 * overriding the hooks below.
 */
public abstract class DecoderModel {
    /** Expert gating function (llama.cpp's LLAMA_EXPERT_GATING_FUNC_TYPE). */
    public enum Gating { SOFTMAX, SIGMOID }

    /** FFN activation shape. */
    public enum FfnKind { SWIGLU, GEGLU, SWIGLU_FUSED_UP }

    protected ModelConfig cfg;
    protected ModelWeights w;

    // ---- architecture hooks -------------------------------------------------------------------------

    /** NEOX rope ordering (qwen, phi3, gemma, olmoe) instead of adjacent pairs (llama). */
    protected boolean neoxRope() {
        return true;
    }

    /** Multiplier applied to the token embeddings (0 = none; gemma: sqrt(n_embd)). */
    protected float embeddingScale() {
        return 0f;
    }

    /** Q is multiplied by this before attention (0 = none); the attention scale is then {@link #kqScale}. */
    protected float queryPreScale() {
        return 0f;
    }

    /** Scale on attention scores. */
    protected float kqScale() {
        return (float) (1.0 / Math.sqrt(cfg.headDim()));
    }

    /** Per-head RMS norm of Q and K before rope (qwen3, gemma3). */
    protected boolean perHeadQkNorm() {
        return false;
    }

    /** Whole-row RMS norm of Q and K before the head split (olmoe). */
    protected boolean fullRowQkNorm() {
        return false;
    }

    /** Gemma's post-attention and post-FFN norms. */
    protected boolean sandwichNorms() {
        return false;
    }

    protected FfnKind ffnKind() {
        return FfnKind.SWIGLU;
    }

    protected Gating gating() {
        return Gating.SOFTMAX;
    }

    /** Renormalize the top-k routing weights to sum 1. */
    protected boolean normalizeExpertWeights() {
        return true;
    }

    /** True when layer {@code il} uses sliding-window attention. */
    protected boolean isSwaLayer(int il) {
        return false;
    }

    /** Rope parameters of layer {@code il}. */
    protected Rope rope(int il) {
        float base = isSwaLayer(il) ? cfg.ropeBaseSwa() : cfg.ropeBase();
        return new Rope(cfg.nRot(), neoxRope(), base, cfg.ropeFreqScale(), cfg.yarn() ? 1f : 0f,
                cfg.ropeAttnFactor(), cfg.yarnBetaFast(), cfg.yarnBetaSlow(), cfg.nCtxOrig());
    }

    /** Rope frequency factors of layer {@code il} (Llama-3 rope_freqs, Phi-3 long/short), or null. */
    protected float[] ropeFactors(int il, int nCtxPerSeq) {
        return w.layers()[il].ropeFactors();
    }

    /** Whether the dense FFN applies the {@code .scale} tensors (phi3's graph passes none). */
    protected boolean ffnScales() {
        return true;
    }

    /** Attention logit soft-capping (gemma2). */
    protected float attnSoftcap() {
        return 0f;
    }

    /** Final logit soft-capping (gemma2). */
    protected float finalSoftcap() {
        return 0f;
    }

    // ---- loading --------------------------------------------------------------------------------------

    /** Reads the hyperparameters every architecture shares; subclasses adjust defaults. */
    public ModelConfig readHParams(Arch arch, GgufMetadata m) {
        int nEmbd = m.getInt(HParam.EMBEDDING_LENGTH.key());
        int nHead = m.getInt(HParam.HEAD_COUNT.key());
        int headDim = m.getInt(HParam.KEY_LENGTH.key(), nHead > 0 ? nEmbd / nHead : 0);
        int nCtxTrain = m.getInt(HParam.CONTEXT_LENGTH.key(), 2048);
        int nVocab = m.contains(HParam.VOCAB_SIZE.key()) ? m.getInt(HParam.VOCAB_SIZE.key())
                : m.getStringArray("tokenizer.ggml.tokens").length;
        String scalingType = m.getString(HParam.ROPE_SCALING_TYPE.key(), "none");
        float factor = m.getFloat(HParam.ROPE_SCALING_FACTOR.key(), 0f);
        if (factor == 0f) {
            factor = m.getFloat(HParam.ROPE_SCALE_LEGACY.key(), 0f);
        }
        float freqScale = factor == 0f || "none".equals(scalingType) ? 1f : 1f / factor;
        int nSwa = m.getInt(HParam.SLIDING_WINDOW.key(), 0);
        return new ModelConfig(arch, nVocab, nCtxTrain, nEmbd, m.getInt(HParam.BLOCK_COUNT.key()), nHead,
                m.getInt(HParam.HEAD_COUNT_KV.key(), nHead), headDim,
                m.getInt(HParam.FEED_FORWARD_LENGTH.key(), 0), m.getInt(HParam.ROPE_DIMENSION_COUNT.key(), headDim),
                m.getFloat(HParam.LAYER_NORM_RMS_EPSILON.key(), 1e-5f), m.getFloat(HParam.ROPE_FREQ_BASE.key(), 10000f),
                m.getFloat(HParam.ROPE_FREQ_BASE_SWA.key(), m.getFloat(HParam.ROPE_FREQ_BASE.key(), 10000f)),
                freqScale, "yarn".equals(scalingType), m.getFloat(HParam.ROPE_SCALING_ATTN_FACTOR.key(), 1f),
                m.getFloat(HParam.ROPE_SCALING_YARN_BETA_FAST.key(), 32f),
                m.getFloat(HParam.ROPE_SCALING_YARN_BETA_SLOW.key(), 1f),
                m.getInt(HParam.ROPE_SCALING_ORIG_CTX.key(), nCtxTrain), m.getInt(HParam.EXPERT_COUNT.key(), 0),
                m.getInt(HParam.EXPERT_USED_COUNT.key(), 0), m.getInt(HParam.EXPERT_FEED_FORWARD_LENGTH.key(), 0),
                m.getInt(HParam.EXPERT_SHARED_FEED_FORWARD_LENGTH.key(), 0),
                m.getFloat(HParam.EXPERT_WEIGHTS_SCALE.key(), 0f), nSwa,
                m.getInt(HParam.SLIDING_WINDOW_PATTERN.key(), defaultSwaPattern()), 0f, 0f,
                (int) m.getLong(HParam.POOLING_TYPE.key(), -1));
    }

    /** Gemma2: every 2nd layer global; gemma3: every 6th. */
    protected int defaultSwaPattern() {
        return 1;
    }

    /** Binds the config and loads every weight (shapes checked against the config). */
    public final void load(ModelConfig config, WeightLoader l) {
        this.cfg = config;
        ModelConfig c = config;
        long e = c.nEmbd();
        CpuMatrix tok = l.matrix(TensorKind.TOKEN_EMBD, -1, e, c.nVocab());
        float[] outNorm = l.vector(TensorKind.OUTPUT_NORM, -1, e);
        Linear out = l.optionalLinear(TensorKind.OUTPUT, -1, false, e, c.nVocab());
        if (out == null) {
            out = new Linear(tok, null, 1f, false); // tied embeddings
        }
        LayerWeights[] layers = new LayerWeights[c.nLayer()];
        for (int il = 0; il < c.nLayer(); il++) {
            layers[il] = loadLayer(l, il);
        }
        this.w = new ModelWeights(tok, outNorm, out, layers);
        this.ropes = new Rope[c.nLayer()];
        for (int il = 0; il < c.nLayer(); il++) {
            ropes[il] = rope(il);
        }
    }

    private Rope[] ropes; // (n_layer) rope parameters per layer

    /** Loads one block; the default covers every supported architecture's tensor set. */
    protected LayerWeights loadLayer(WeightLoader l, int il) {
        ModelConfig c = cfg;
        long e = c.nEmbd();
        long q = c.qDim();
        long kv = c.kvDim();
        Linear wqkv = l.optionalLinear(TensorKind.ATTN_QKV, il, false, e, q + 2 * kv);
        Linear wq = wqkv != null ? null : l.linear(TensorKind.ATTN_Q, il, false, e, q);
        Linear wk = wqkv != null ? null : l.linear(TensorKind.ATTN_K, il, false, e, kv);
        Linear wv = wqkv != null ? null : l.linear(TensorKind.ATTN_V, il, false, e, kv);
        Linear wo = l.linear(TensorKind.ATTN_OUT, il, false, q, e);
        float[] qNorm = null;
        float[] kNorm = null;
        if (perHeadQkNorm()) {
            qNorm = l.vector(TensorKind.ATTN_Q_NORM, il, c.headDim());
            kNorm = l.vector(TensorKind.ATTN_K_NORM, il, c.headDim());
        } else if (fullRowQkNorm()) {
            qNorm = l.vector(TensorKind.ATTN_Q_NORM, il, q);
            kNorm = l.vector(TensorKind.ATTN_K_NORM, il, kv);
        }
        float[] postAttn = sandwichNorms() ? l.vector(TensorKind.ATTN_POST_NORM, il, e) : null;
        float[] postFfn = sandwichNorms() ? l.vector(TensorKind.FFN_POST_NORM, il, e) : null;
        Linear gate = null;
        Linear up = null;
        Linear down = null;
        Linear router = null;
        ExpertLinear gateExps = null;
        ExpertLinear upExps = null;
        ExpertLinear downExps = null;
        float[] shexpGate = null;
        Linear gateSh = null;
        Linear upSh = null;
        Linear downSh = null;
        if (c.isMoe()) {
            int ff = c.nFfExp() > 0 ? c.nFfExp() : c.nFf();
            router = l.linear(TensorKind.FFN_GATE_INP, il, false, e, c.nExpert());
            gateExps = l.experts(TensorKind.FFN_GATE_EXPS, il, e, ff, c.nExpert());
            upExps = l.experts(TensorKind.FFN_UP_EXPS, il, e, ff, c.nExpert());
            downExps = l.experts(TensorKind.FFN_DOWN_EXPS, il, ff, e, c.nExpert());
            if (c.nFfShexp() > 0 && l.has(TensorKind.FFN_UP_SHEXP, il, "weight")) {
                shexpGate = l.optionalVector(TensorKind.FFN_GATE_INP_SHEXP, il, "weight", e);
                gateSh = l.linear(TensorKind.FFN_GATE_SHEXP, il, true, e, c.nFfShexp());
                upSh = l.linear(TensorKind.FFN_UP_SHEXP, il, true, e, c.nFfShexp());
                downSh = l.linear(TensorKind.FFN_DOWN_SHEXP, il, true, c.nFfShexp(), e);
            }
        } else if (ffnKind() == FfnKind.SWIGLU_FUSED_UP) {
            up = withoutScale(l.linear(TensorKind.FFN_UP, il, true, e, 2L * c.nFf()));
            down = withoutScale(l.linear(TensorKind.FFN_DOWN, il, true, c.nFf(), e));
        } else {
            gate = l.linear(TensorKind.FFN_GATE, il, true, e, c.nFf());
            up = l.linear(TensorKind.FFN_UP, il, true, e, c.nFf());
            down = l.linear(TensorKind.FFN_DOWN, il, true, c.nFf(), e);
        }
        return new LayerWeights(l.vector(TensorKind.ATTN_NORM, il, e), wq, wk, wv, wqkv, wo, qNorm, kNorm, postAttn,
                l.vector(TensorKind.FFN_NORM, il, e), postFfn, gate, up, down, router, gateExps, upExps, downExps,
                shexpGate, gateSh, upSh, downSh, loadRopeFactors(l, il));
    }

    private Linear withoutScale(Linear l) {
        return ffnScales() ? l : new Linear(l.weight(), null, 1f, l.biasFirst());
    }

    /** Llama-3 style rope_freqs (shared by every layer). */
    protected float[] loadRopeFactors(WeightLoader l, int il) {
        return l.optionalVector(TensorKind.ROPE_FREQS, -1, "weight", cfg.nRot() / 2);
    }

    public ModelConfig config() {
        return cfg;
    }

    public ModelWeights weights() {
        return w;
    }

    // ---- forward --------------------------------------------------------------------------------------

    /**
     * Runs one micro-batch: writes its K/V into the cache cells of {@code ub} and leaves the final normed hidden
     * state of every row in {@code st.hidden()}.
     */
    public final void forward(UBatch ub, ForwardState st, KvCache kv, RunSettings rs) {
        ModelConfig c = cfg;
        int n = ub.n();
        int e = c.nEmbd();
        Trace tr = st.trace;
        // token embeddings
        for (int t = 0; t < n; t++) {
            w.tokenEmbd().getRow(ub.tokens()[t], st.x, t * e);
        }
        if (embeddingScale() != 0f) {
            CpuOps.scale(st.x, 0, n * e, embeddingScale());
        }
        tr.tensor("inp_embd", -1, st.x, n, e);
        // layers, each on the device that holds it; the hidden state moves only where the device changes
        LayerExecutor resident = null;
        for (LayerExecutor g : st.gpuExecutors) {
            g.begin(ub, kv);
        }
        for (int il = 0; il < c.nLayer(); il++) {
            LayerExecutor g = st.gpuLayers != null ? st.gpuLayers[il] : null;
            if (g != resident) {
                if (resident == null || g == null || !resident.handOver(g, n)) {
                    if (resident != null) {
                        resident.leave(st.x, n);
                    }
                    if (g != null) {
                        g.enter(st.x, n);
                    }
                }
                resident = g;
            }
            if (g != null) {
                g.layer(il, ub, st);
            } else {
                cpuLayer(il, ub, st, kv, rs);
            }
        }
        if (resident != null) {
            resident.leave(st.x, n);
        }
        // output norm
        norm(st.x, st.hidden, n, w.outputNorm());
        tr.tensor("result_norm", -1, st.hidden, n, e);
    }

    /** One block on the CPU: attention and FFN sub-blocks with their norms and residual connections. */
    private void cpuLayer(int il, UBatch ub, ForwardState st, KvCache kv, RunSettings rs) {
        ModelConfig c = cfg;
        int n = ub.n();
        int e = c.nEmbd();
        LayerWeights lw = w.layers()[il];
        Trace tr = st.trace;
        // attention norm
        norm(st.x, st.cur, n, lw.attnNorm());
        tr.tensor("attn_norm", il, st.cur, n, e);
        // self-attention: projections, q/k norms, rope, cache write, attention, output projection
        attention(il, lw, ub, st, kv, rs);
        if (sandwichNorms()) {
            normInPlace(st.proj, n, lw.attnPostNorm());
            tr.tensor("attn_post_norm", il, st.proj, n, e);
        }
        // residual connection (ffn_inp)
        CpuOps.add(st.x, 0, st.proj, 0, n * e);
        tr.tensor("ffn_inp", il, st.x, n, e);
        // ffn norm
        norm(st.x, st.cur, n, lw.ffnNorm());
        tr.tensor("ffn_norm", il, st.cur, n, e);
        if (c.isMoe()) {
            moeFfn(lw, n, st);
        } else {
            ffn(lw, n, st);
        }
        if (sandwichNorms()) {
            normInPlace(st.proj, n, lw.ffnPostNorm());
        }
        tr.tensor("ffn_out", il, st.proj, n, e);
        // residual connection (l_out)
        CpuOps.add(st.x, 0, st.proj, 0, n * e);
        tr.tensor("l_out", il, st.x, n, e);
    }

    /** Logits of {@code rows} hidden rows (packed, (rows, n_embd)) into {@code out} (rows, n_vocab). */
    public final void logits(float[] hidden, int rows, float[] out, ForwardState st) {
        if (st.output != null) {
            st.output.logits(hidden, rows, out);
        } else {
            project(w.output(), hidden, rows, out, st);
        }
        if (finalSoftcap() != 0f) {
            CpuOps.softcap(out, 0, rows * cfg.nVocab(), finalSoftcap());
        }
    }

    // ---- builders ---------------------------------------------------------------------------------------

    /** RMS norm of each row of {@code in} into {@code out}, times the norm weight. */
    protected final void norm(float[] in, float[] out, int n, float[] weight) {
        int e = cfg.nEmbd();
        System.arraycopy(in, 0, out, 0, n * e);
        normInPlace(out, n, weight);
    }

    protected final void normInPlace(float[] x, int n, float[] weight) {
        int e = cfg.nEmbd();
        for (int t = 0; t < n; t++) {
            CpuOps.rmsNorm(x, t * e, e, cfg.rmsEps(), weight);
        }
    }

    /** {@code out = in . W^T} for n rows, then bias and {@code .scale} in llama.cpp's order. */
    protected final void project(Linear l, float[] in, int n, float[] out, ForwardState st) {
        CpuMatrix m = l.weight();
        ActivationRows a = st.act(m.dotType(), m.cols(), n);
        a.load(in, 0, m.cols(), n, m.cols());
        m.matmul(st.job, a, n, out, m.rows(), 0);
        finishProjection(l, out, n);
    }

    /**
     * {@link #project} of the same input through two or three projections ({@code l2} may be null) in one pool
     * dispatch, when their matrices take the same activations; returns false (nothing done) otherwise.
     */
    protected final boolean projectAll(Linear l0, float[] out0, Linear l1, float[] out1, Linear l2, float[] out2,
                                       float[] in, int n, ForwardState st) {
        CpuMatrix m0 = l0.weight();
        CpuMatrix m1 = l1.weight();
        CpuMatrix m2 = l2 == null ? null : l2.weight();
        if (!sameActivations(m0, m1) || (m2 != null && !sameActivations(m0, m2))) {
            return false;
        }
        ActivationRows a = st.act(m0.dotType(), m0.cols(), n);
        a.load(in, 0, m0.cols(), n, m0.cols());
        CpuMatrix.matmulAll(st.job, a, n, m0, out0, m1, out1, m2, out2);
        finishProjection(l0, out0, n);
        finishProjection(l1, out1, n);
        if (l2 != null) {
            finishProjection(l2, out2, n);
        }
        return true;
    }

    private static boolean sameActivations(CpuMatrix a, CpuMatrix b) {
        return a.dotType() == b.dotType() && a.cols() == b.cols() && a.experts() == 1 && b.experts() == 1;
    }

    private static void finishProjection(Linear l, float[] out, int n) {
        int rows = l.rows();
        float[] b = l.bias();
        float s = l.scale();
        if (b == null && s == 1f) {
            return;
        }
        for (int t = 0; t < n; t++) {
            int o = t * rows;
            if (l.biasFirst()) {
                if (b != null) {
                    CpuOps.add(out, o, b, 0, rows);
                }
                if (s != 1f) {
                    CpuOps.scale(out, o, rows, s);
                }
            } else {
                if (s != 1f) {
                    CpuOps.scale(out, o, rows, s);
                }
                if (b != null) {
                    CpuOps.add(out, o, b, 0, rows);
                }
            }
        }
    }

    /** Q/K/V projections, norms and rope, K/V cache write, attention and the output projection into st.proj. */
    protected void attention(int il, LayerWeights lw, UBatch ub, ForwardState st, KvCache kv, RunSettings rs) {
        ModelConfig c = cfg;
        int n = ub.n();
        int hd = c.headDim();
        int qd = c.qDim();
        int kvd = c.kvDim();
        // compute Q, K and V
        if (lw.wqkv() != null) {
            project(lw.wqkv(), st.cur, n, st.qkv, st);
            int stride = qd + 2 * kvd;
            for (int t = 0; t < n; t++) {
                System.arraycopy(st.qkv, t * stride, st.q, t * qd, qd);
                System.arraycopy(st.qkv, t * stride + qd, st.k, t * kvd, kvd);
                System.arraycopy(st.qkv, t * stride + qd + kvd, st.v, t * kvd, kvd);
            }
        } else if (!projectAll(lw.wq(), st.q, lw.wk(), st.k, lw.wv(), st.v, st.cur, n, st)) {
            project(lw.wq(), st.cur, n, st.q, st);
            project(lw.wk(), st.cur, n, st.k, st);
            project(lw.wv(), st.cur, n, st.v, st);
        }
        Rope rope = ropes[il];
        float[] factors = ropeFactors(il, rs.nCtxPerSeq());
        for (int t = 0; t < n; t++) {
            // q/k norms
            if (perHeadQkNorm()) {
                for (int h = 0; h < c.nHead(); h++) {
                    CpuOps.rmsNorm(st.q, t * qd + h * hd, hd, c.rmsEps(), lw.qNorm());
                }
                for (int h = 0; h < c.nHeadKv(); h++) {
                    CpuOps.rmsNorm(st.k, t * kvd + h * hd, hd, c.rmsEps(), lw.kNorm());
                }
            } else if (fullRowQkNorm()) {
                CpuOps.rmsNorm(st.q, t * qd, qd, c.rmsEps(), lw.qNorm());
                CpuOps.rmsNorm(st.k, t * kvd, kvd, c.rmsEps(), lw.kNorm());
            }
            // rope
            rope.cache(ub.pos()[t], factors, st.ropeCache);
            rope.apply(st.q, t * qd, c.nHead(), hd, st.ropeCache);
            rope.apply(st.k, t * kvd, c.nHeadKv(), hd, st.ropeCache);
            if (queryPreScale() != 0f) {
                CpuOps.scale(st.q, t * qd, qd, queryPreScale());
            }
            // store K and V in the cache
            Attention.KvView view = kv.layer(il);
            int cell = ub.cells()[t];
            RowQuantizer.store(view.kType(), st.k, t * kvd, kvd, view.k(), cell * view.kRowBytes());
            RowQuantizer.store(view.vType(), st.v, t * kvd, kvd, view.v(), cell * view.vRowBytes());
        }
        // attention over the visible cells, heads split across threads
        Attention att = st.attention[il];
        int swa = isSwaLayer(il) ? c.nSwa() : 0;
        for (int t = 0; t < n; t++) {
            int nVis = kv.visible(ub.seq()[t], ub.pos()[t], swa, st.visible);
            st.heads.attend(att, kv.layer(il), t, nVis);
        }
        st.trace.tensor("Qcur", il, st.q, n, qd);
        st.trace.tensor("Kcur", il, st.k, n, kvd);
        st.trace.tensor("Vcur", il, st.v, n, kvd);
        st.trace.tensor("kqv_out", il, st.attn, n, qd);
        // output projection
        project(lw.wo(), st.attn, n, st.proj, st);
        st.trace.tensor("attn_out", il, st.proj, n, c.nEmbd());
    }

    /**
     * Attention kernels (per-thread scratch) for a context's cache types, one per layer; the context keeps them
     * in its ForwardState so several contexts can share one model.
     */
    public final Attention[] attentionKernels(KvCache kv, boolean flash, int threads) {
        Attention[] kernels = new Attention[cfg.nLayer()];
        for (int il = 0; il < cfg.nLayer(); il++) {
            float qs = queryPreScale();
            Attention.Shape shape = new Attention.Shape(cfg.nHead(), cfg.nHeadKv(), cfg.headDim(),
                    qs != 0f ? 1f : kqScale(), attnSoftcap(), flash);
            kernels[il] = new Attention(shape, kv.kType(), kv.vType(), threads, kv.size());
        }
        return kernels;
    }

    /** Dense FFN of st.cur into st.proj. */
    protected void ffn(LayerWeights lw, int n, ForwardState st) {
        int ff = cfg.nFf();
        switch (ffnKind()) {
            case SWIGLU_FUSED_UP -> {
                // ffn_up yields [gate | up]; swiglu(x) = silu(first half) * second half
                project(lw.ffnUp(), st.cur, n, st.up, st);
                for (int t = 0; t < n; t++) {
                    System.arraycopy(st.up, t * 2 * ff, st.gate, t * ff, ff);
                    CpuOps.swigluRow(st.gate, t * ff, st.up, t * 2 * ff + ff, ff);
                }
            }
            case SWIGLU, GEGLU -> {
                if (!projectAll(lw.ffnUp(), st.up, lw.ffnGate(), st.gate, null, null, st.cur, n, st)) {
                    project(lw.ffnUp(), st.cur, n, st.up, st);
                    project(lw.ffnGate(), st.cur, n, st.gate, st);
                }
                if (ffnKind() == FfnKind.SWIGLU) {
                    for (int t = 0; t < n; t++) {
                        CpuOps.swigluRow(st.gate, t * ff, st.up, t * ff, ff);
                    }
                } else {
                    CpuOps.geglu(st.gate, 0, st.up, 0, n * ff);
                }
            }
        }
        project(lw.ffnDown(), st.gate, n, st.proj, st);
    }

    /**
     * Routing from router logits in {@code st.router} (n, n_expert): gating, top-k experts into
     * {@code st.selected} and their (normalized, scaled) weights into {@code st.weights}.
     */
    final void route(int n, ForwardState st) {
        ModelConfig c = cfg;
        int nExp = c.nExpert();
        int k = c.nExpertUsed();
        for (int t = 0; t < n; t++) {
            if (gating() == Gating.SOFTMAX) {
                CpuOps.softmax(st.router, t * nExp, nExp);
            } else {
                for (int i = 0; i < nExp; i++) {
                    st.router[t * nExp + i] = (float) (1.0 / (1.0 + Math.exp(-st.router[t * nExp + i])));
                }
            }
            // top-k experts and their weights
            CpuOps.topK(st.router, t * nExp, nExp, k, st.selected, t * k);
            float sum = 0f;
            for (int j = 0; j < k; j++) {
                st.weights[t * k + j] = st.router[t * nExp + st.selected[t * k + j]];
                sum += st.weights[t * k + j];
            }
            if (normalizeExpertWeights()) {
                sum = Math.max(sum, 6.103515625e-5f);
                for (int j = 0; j < k; j++) {
                    st.weights[t * k + j] /= sum;
                }
            }
            if (c.expertWeightsScale() != 0f && c.expertWeightsScale() != 1f) {
                for (int j = 0; j < k; j++) {
                    st.weights[t * k + j] *= c.expertWeightsScale();
                }
            }
        }
    }

    /** Mixture-of-experts FFN of st.cur into st.proj: route, run each chosen expert, weighted sum. */
    protected void moeFfn(LayerWeights lw, int n, ForwardState st) {
        ModelConfig c = cfg;
        int nExp = c.nExpert();
        int k = c.nExpertUsed();
        int e = c.nEmbd();
        int ff = lw.upExps().weight().rows();
        // router logits and probabilities
        project(lw.router(), st.cur, n, st.router, st);
        route(n, st);
        // the rows routed to each expert (slot row = t * k + j), tokens ascending
        int[] count = st.expertCount;
        java.util.Arrays.fill(count, 0);
        for (int t = 0; t < n; t++) {
            for (int j = 0; j < k; j++) {
                int x = st.selected[t * k + j];
                st.expertTokens[x][count[x]] = t;
                st.expertSlots[x][count[x]] = t * k + j;
                count[x]++;
            }
        }
        CpuMatrix up = lw.upExps().weight();
        ActivationRows in = st.act(up.dotType(), up.cols(), n);
        in.load(st.cur, 0, e, n, e);
        ActivationRows inGate = in;
        CpuMatrix gate = lw.gateExps().weight();
        if (gate.dotType() != up.dotType()) {
            inGate = st.act(gate.dotType(), gate.cols(), n);
            inGate.load(st.cur, 0, e, n, e);
        }
        CpuMatrix down = lw.downExps().weight();
        // up and gate of every chosen expert in one dispatch
        MatmulJob job = st.job;
        job.beginGather();
        for (int x = 0; x < nExp; x++) {
            if (count[x] > 0) {
                job.addGather(up, in, st.expertTokens[x], st.expertSlots[x], count[x], st.up, ff, x);
                job.addGather(gate, inGate, st.expertTokens[x], st.expertSlots[x], count[x], st.gate, ff, x);
            }
        }
        job.runGathered();
        ActivationRows act = st.act(down.dotType(), down.cols(), n * k);
        for (int x = 0; x < nExp; x++) {
            int[] slots = st.expertSlots[x];
            for (int i = 0; i < count[x]; i++) {
                int r = slots[i];
                if (lw.upExps().scale() != null) {
                    CpuOps.scale(st.up, r * ff, ff, lw.upExps().scale()[x]);
                }
                if (lw.gateExps().scale() != null) {
                    CpuOps.scale(st.gate, r * ff, ff, lw.gateExps().scale()[x]);
                }
                CpuOps.swigluRow(st.gate, r * ff, st.up, r * ff, ff);
                act.loadRow(st.gate, r * ff, r * ff, ff);
            }
        }
        setCols(act, ff);
        // down of every chosen expert in one dispatch
        job.beginGather();
        for (int x = 0; x < nExp; x++) {
            if (count[x] > 0) {
                job.addGather(down, act, st.expertSlots[x], st.expertSlots[x], count[x], st.ffnOut, e, x);
            }
        }
        job.runGathered();
        for (int x = 0; x < nExp; x++) {
            int[] slots = st.expertSlots[x];
            for (int i = 0; i < count[x]; i++) {
                int r = slots[i];
                if (lw.downExps().scale() != null) {
                    CpuOps.scale(st.ffnOut, r * e, e, lw.downExps().scale()[x]);
                }
                CpuOps.scale(st.ffnOut, r * e, e, st.weights[r]);
            }
        }
        // sum the experts in slot order
        for (int t = 0; t < n; t++) {
            System.arraycopy(st.ffnOut, t * k * e, st.proj, t * e, e);
            for (int j = 1; j < k; j++) {
                CpuOps.add(st.proj, t * e, st.ffnOut, (t * k + j) * e, e);
            }
        }
        // shared expert (qwen2moe), gated by sigmoid(x . w)
        if (lw.upShexp() != null) {
            int sff = lw.upShexp().rows();
            project(lw.upShexp(), st.cur, n, st.up, st);
            project(lw.gateShexp(), st.cur, n, st.gate, st);
            for (int t = 0; t < n; t++) {
                CpuOps.swigluRow(st.gate, t * sff, st.up, t * sff, sff);
            }
            project(lw.downShexp(), st.gate, n, st.shared, st);
            for (int t = 0; t < n; t++) {
                if (lw.shexpGate() != null) {
                    double dot = 0;
                    for (int i = 0; i < e; i++) {
                        dot += st.cur[t * e + i] * lw.shexpGate()[i];
                    }
                    float g = (float) (1.0 / (1.0 + Math.exp(-dot)));
                    CpuOps.scale(st.shared, t * e, e, g);
                }
                CpuOps.add(st.proj, t * e, st.shared, t * e, e);
            }
        }
    }

    private static void setCols(ActivationRows act, int cols) {
        if (act.cols() != cols) {
            throw new TrestleException("internal: expert activation width mismatch", null);
        }
    }
}
