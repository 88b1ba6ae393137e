package dev.trestle.engine.model;

import dev.trestle.backends.cpu.CpuMatrix;
import dev.trestle.backends.cpu.Rope;
import dev.trestle.backends.type.GgmlType;
import dev.trestle.backends.vulkan.GpuBuffer;
import dev.trestle.backends.vulkan.GpuMatrix;
import dev.trestle.backends.vulkan.RecordedCommands;
import dev.trestle.backends.vulkan.VulkanDevice;
import dev.trestle.backends.vulkan.VulkanOps;
import dev.trestle.backends.vulkan.VulkanOps.Elementwise;
import dev.trestle.common.TrestleException;
import dev.trestle.engine.kv.KvCache;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The layers of a model that live on one Vulkan device, and their execution there: the same steps as
 * {@link DecoderModel#forward}'s CPU path (norms, projections with bias and {@code .scale}, q/k norms, rope,
 * device-resident KV cache and attention, sandwich norms, SwiGLU/GeGLU FFN), recorded into the device's command
 * buffer. The hidden state stays on the device between its layers; it crosses to the host only where the
 * next layer lives elsewhere. MoE layers route on the device (gating, top-k, weights; the chosen ids come back to
 * build the gather lists) and run the chosen experts' matmuls on the device over gathered rows; with {@code --n-cpu-moe} (or when a
 * layer has a shared expert or per-expert {@code .scale}) the expert FFN runs on the CPU instead.
 */
public final class VulkanLayers implements LayerExecutor {
    private final DecoderModel model;
    private final ModelConfig c;
    private final VulkanDevice dev;
    private final VulkanOps ops;
    private final int nUb;
    private final int nCells;
    private final GgmlType kType;
    private final GgmlType vType;
    private final Layer[] layers;      // (n_layer) null for layers elsewhere
    private final List<AutoCloseable> owned = new ArrayList<>();
    // activations, F32, row-major per token
    private final GpuBuffer x;      // (n_ub, n_embd) residual stream
    private final GpuBuffer cur;    // (n_ub, n_embd)
    private final GpuBuffer q;      // (n_ub, q_dim)
    private final GpuBuffer k;      // (n_ub, kv_dim)
    private final GpuBuffer v;      // (n_ub, kv_dim)
    private final GpuBuffer qkv;    // (n_ub, q_dim + 2 kv_dim)
    private final GpuBuffer attn;   // (n_ub, q_dim)
    private final GpuBuffer proj;   // (n_ub, n_embd)
    private final GpuBuffer gate;   // (n_ub, ff)
    private final GpuBuffer up;     // (n_ub, 2 ff)
    private final GpuBuffer router; // (n_ub, n_expert) router logits
    private final GpuBuffer slotGate; // (n_ub * n_used, ff) expert gate outputs per slot
    private final GpuBuffer slotUp;   // (n_ub * n_used, ff)
    private final GpuBuffer slotOut;  // (n_ub * n_used, n_embd) expert outputs per slot
    private final GpuBuffer slotRows; // (2, n_ub * n_used) uint pairs: (token, slot) then (slot, slot), by expert
    private final GpuBuffer slotWeights; // (n_ub * n_used) routing weights
    private final GpuBuffer routeIds;    // (n_ub * n_used) chosen experts
    private final GpuBuffer xq;     // activation rows converted to a weight type's dot format (decode matmuls)
    private final int[] rowsHost;
    private final GpuBuffer pos;    // (n_ub) int positions
    private final GpuBuffer cells;  // (n_ub) uint cache cells
    private final GpuBuffer meta;   // (2 n_cells + 2 n_ub) ints: cell seq, cell pos, token seq, token pos
    private final GpuBuffer scores; // (chunk * n_head, n_cells) attention scratch
    private final int chunk;
    private final int[] metaHost;
    // Command-buffer reuse: a micro-batch size seen before records its layers once (positions, cells and
    // visibility live in buffers written by begin, so the commands are the same) and later steps re-submit them.
    private static final int MAX_RECORDINGS = 8;
    private final boolean reuse = !Boolean.getBoolean("trestle.vulkan.noReuse");
    private final Map<Integer, RecordedCommands> recordings = new HashMap<>();
    private final Set<Integer> seenSizes = new HashSet<>();
    private final Set<Integer> notReusable = new HashSet<>(); // sizes whose layers read back to the host (MoE routing)
    private RecordedCommands replay;   // this micro-batch re-submits it at leave
    private boolean captureNext;       // the first layer of this micro-batch opens a capture
    private boolean capturing;

    /** Device copies of one block's weights plus its KV cache. */
    private record Layer(GpuLinear wq, GpuLinear wk, GpuLinear wv, GpuLinear wqkv, GpuLinear wo, GpuBuffer attnNorm,
                         GpuBuffer qNorm, GpuBuffer kNorm, GpuBuffer attnPostNorm, GpuBuffer ffnNorm,
                         GpuBuffer ffnPostNorm, GpuLinear gate, GpuLinear up, GpuLinear down, GpuBuffer ropeFactors,
                         GpuBuffer kCache, GpuBuffer vCache, Rope rope, GpuLinear router, GpuMatrix gateExps,
                         GpuMatrix upExps, GpuMatrix downExps) {
        boolean gpuExperts() {
            return upExps != null;
        }
    }

    /** A projection on the device: weight, bias and {@code .scale} in llama.cpp's order. */
    private record GpuLinear(GpuMatrix weight, GpuBuffer bias, float scale, boolean biasFirst) {
    }

    /**
     * Uploads the weights of layers {@code il} with {@code mine[il]} and allocates their KV cache (nCells cells of
     * kType/vType) and the activations for micro-batches of up to {@code nUb} rows.
     */
    public VulkanLayers(DecoderModel model, VulkanDevice dev, boolean[] mine, boolean[] cpuExperts, int nUb,
                        int nCells, GgmlType kType, GgmlType vType, int nCtxPerSeq) {
        this.model = model;
        this.c = model.config();
        this.dev = dev;
        this.ops = new VulkanOps(dev);
        this.nUb = nUb;
        this.nCells = nCells;
        this.kType = kType;
        this.vType = vType;
        if (!VulkanOps.cacheTypeSupported(kType, c.kvDim()) || !VulkanOps.cacheTypeSupported(vType, c.kvDim())) {
            throw new TrestleException("the Vulkan backend cannot hold a " + kType.llamaName() + "/"
                    + vType.llamaName() + " KV cache for rows of " + c.kvDim(), "use -ctk f16 -ctv f16, or -ngl 0");
        }
        int e = c.nEmbd();
        int qd = c.qDim();
        int kvd = c.kvDim();
        int ff = Math.max(c.nFf(), Math.max(c.nFfExp(), c.nFfShexp()));
        x = buffer(4L * nUb * e);
        cur = buffer(4L * nUb * e);
        q = buffer(4L * nUb * qd);
        k = buffer(4L * nUb * kvd);
        v = buffer(4L * nUb * kvd);
        qkv = buffer(4L * nUb * (qd + 2L * kvd));
        attn = buffer(4L * nUb * qd);
        proj = buffer(4L * nUb * e);
        gate = buffer(4L * nUb * ff);
        up = buffer(4L * nUb * 2L * ff);
        int slots = Math.max(1, c.nExpertUsed());
        router = buffer(4L * nUb * Math.max(1, c.nExpert()));
        slotGate = c.isMoe() ? buffer(4L * nUb * slots * ff) : null;
        slotUp = c.isMoe() ? buffer(4L * nUb * slots * ff) : null;
        slotOut = c.isMoe() ? buffer(4L * nUb * slots * e) : null;
        slotRows = buffer(4L * 4 * nUb * slots);
        slotWeights = buffer(4L * nUb * slots);
        routeIds = buffer(4L * nUb * slots);
        rowsHost = new int[4 * nUb * slots];
        // decode matmuls (up to DOT_MAX_ROWS rows) and expert matmuls convert their input rows first; F16's 16
        // words per 32 elements bound every format's row
        int dotRows = Math.max(Math.min(nUb, VulkanOps.DOT_MAX_ROWS), c.isMoe() ? nUb * slots : 0);
        int dotCols = Math.max(e, Math.max(qd, ff));
        xq = buffer(4L * dotRows * VulkanOps.dotRowWords(GgmlType.F16, dotCols));
        pos = buffer(4L * nUb);
        cells = buffer(4L * nUb);
        meta = buffer(4L * (2L * nCells + 2L * nUb));
        metaHost = new int[2 * nCells + 2 * nUb];
        long perToken = (long) c.nHead() * nCells;
        chunk = (int) Math.max(1, Math.min(nUb, (32L << 20) / Math.max(1, perToken)));
        scores = buffer(4L * chunk * perToken);
        layers = new Layer[c.nLayer()];
        for (int il = 0; il < c.nLayer(); il++) {
            if (mine[il]) {
                layers[il] = upload(il, model.weights().layers()[il], nCtxPerSeq, cpuExperts[il]);
            }
        }
    }

    private GpuBuffer buffer(long bytes) {
        GpuBuffer b = dev.allocate(bytes);
        owned.add(b);
        return b;
    }

    private GpuBuffer vector(float[] a) {
        if (a == null) {
            return null;
        }
        GpuBuffer b = buffer(4L * a.length);
        b.write(0, a, 0, a.length);
        return b;
    }

    private GpuLinear linear(Linear l) {
        if (l == null) {
            return null;
        }
        CpuMatrix m = l.weight();
        GpuMatrix g = new GpuMatrix(dev, m.name(), m.type(), m.data(), m.cols(), m.rows(), m.experts());
        owned.add(g);
        return new GpuLinear(g, vector(l.bias()), l.scale(), l.biasFirst());
    }

    private GpuMatrix experts(ExpertLinear x) {
        CpuMatrix m = x.weight();
        GpuMatrix g = new GpuMatrix(dev, m.name(), m.type(), m.data(), m.cols(), m.rows(), m.experts());
        owned.add(g);
        return g;
    }

    private Layer upload(int il, LayerWeights lw, int nCtxPerSeq, boolean cpuExperts) {
        int kvd = c.kvDim();
        GpuBuffer kc = buffer(4L * VulkanOps.rowWords(kType, kvd) * nCells);
        GpuBuffer vc = buffer(4L * VulkanOps.rowWords(vType, kvd) * nCells);
        boolean moe = c.isMoe();
        // the expert FFN moves to the device unless --n-cpu-moe keeps it, or it needs ops only the CPU path has
        boolean gpuMoe = moe && !cpuExperts && lw.upShexp() == null && lw.upExps().scale() == null
                && lw.gateExps().scale() == null && lw.downExps().scale() == null;
        return new Layer(linear(lw.wq()), linear(lw.wk()), linear(lw.wv()), linear(lw.wqkv()), linear(lw.wo()),
                vector(lw.attnNorm()), vector(lw.qNorm()), vector(lw.kNorm()), vector(lw.attnPostNorm()),
                vector(lw.ffnNorm()), vector(lw.ffnPostNorm()), moe ? null : linear(lw.ffnGate()),
                moe ? null : linear(lw.ffnUp()), moe ? null : linear(lw.ffnDown()),
                vector(model.ropeFactors(il, nCtxPerSeq)), kc, vc, model.rope(il), gpuMoe ? linear(lw.router()) : null,
                gpuMoe ? experts(lw.gateExps()) : null, gpuMoe ? experts(lw.upExps()) : null,
                gpuMoe ? experts(lw.downExps()) : null);
    }

    private GpuLinear output;       // the output head when it lives here
    private GpuBuffer outputNorm;   // its final norm weight
    private GpuBuffer logitRows;    // (logitChunk, n_vocab) logits of a chunk of rows
    private int logitChunk;
    // Small micro-batches that end on this device's last layer get the final norm and the head recorded into the
    // layers' own submission (and recording): the logits of every row are ready when the host asks for them.
    private final boolean fuseHead = !Boolean.getBoolean("trestle.vulkan.noFusedHead");
    private int lastLayer = -1;     // the last layer recorded (or replayed) in this micro-batch
    private int logitsReady = -1;   // rows of the current micro-batch whose logits are in logitRows
    private long fusedHeadSteps;

    @Override
    public void holdOutputHead() {
        if (output == null) {
            output = linear(model.weights().output());
            outputNorm = vector(model.weights().outputNorm());
            // rows go through cur, which holds n_ub rows; chunks stay on the decode path, which rounds the rows as
            // the CPU does
            logitChunk = Math.min(VulkanOps.DOT_MAX_ROWS, nUb);
            logitRows = buffer(4L * logitChunk * c.nVocab());
        }
    }

    @Override
    public void logits(float[] hidden, int rows, float[] out) {
        int e = c.nEmbd();
        int v = c.nVocab();
        if (logitsReady == rows) {
            // the host asks for every row of the micro-batch, in order: the fused head computed them already
            logitsReady = -1;
            logitRows.read(0, out, 0, rows * v);
            fusedHeadSteps++;
            return;
        }
        logitsReady = -1;
        for (int r0 = 0; r0 < rows; r0 += logitChunk) {
            int m = Math.min(logitChunk, rows - r0);
            cur.write(0, hidden, r0 * e, m * e);
            project(output, cur, e, m, logitRows);
            logitRows.read(0, out, r0 * v, m * v);
        }
    }

    @Override
    public boolean owns(int il) {
        return layers[il] != null;
    }

    public VulkanDevice device() {
        return dev;
    }

    /** Uploads the micro-batch's positions, cells and the cache's cell ownership (before any layer runs). */
    @Override
    public void begin(UBatch ub, KvCache kv) {
        if (capturing) {
            // a step that failed left its capture open: its work runs, as unrecorded work would, and is not kept
            capturing = false;
            RecordedCommands r = dev.endRecording();
            if (r != null) {
                dev.submit(r);
                r.close();
            }
        }
        int n = ub.n();
        pos.write(0, ub.pos(), 0, n);
        cells.write(0, ub.cells(), 0, n);
        for (int cell = 0; cell < nCells; cell++) {
            metaHost[cell] = kv.seqOf(cell);
            metaHost[nCells + cell] = kv.posOf(cell);
        }
        System.arraycopy(ub.seq(), 0, metaHost, 2 * nCells, n);
        System.arraycopy(ub.pos(), 0, metaHost, 2 * nCells + n, n);
        meta.write(0, metaHost, 0, 2 * nCells + 2 * n);
        logitsReady = -1;
        lastLayer = -1;
        replay = reuse ? recordings.get(n) : null;
        captureNext = reuse && replay == null && !seenSizes.add(n) && !notReusable.contains(n)
                && recordings.size() < MAX_RECORDINGS;
    }

    /** Micro-batches whose logits came from the head fused into the layers' submission (for tests and reports). */
    public long fusedHeadSteps() {
        return fusedHeadSteps;
    }

    /** Micro-batch sizes whose layers are recorded for re-submission (for tests and reports). */
    public Set<Integer> recordedSizes() {
        return Set.copyOf(recordings.keySet());
    }

    /** Hidden state of {@code n} rows from the host. */
    @Override
    public void enter(float[] hx, int n) {
        x.write(0, hx, 0, n * c.nEmbd());
    }

    /** Hidden state of {@code n} rows back to the host (waits for the recorded layers). */
    @Override
    public void leave(float[] hx, int n) {
        boolean head = fuseHead && output != null && lastLayer == c.nLayer() - 1 && n <= logitChunk;
        if (head && replay == null) {
            // final norm and output head on the device (recorded with the layers when they are being captured)
            int e = c.nEmbd();
            ops.elementwise(Elementwise.COPY, cur, 0, e, x, 0, e, e, n, 0f);
            ops.rmsNorm(cur, 0, e, e, n, c.rmsEps(), outputNorm, 0);
            project(output, cur, e, n, logitRows);
        }
        logitsReady = head ? n : -1;
        if (replay != null) {
            dev.submit(replay);
            replay = null; // a later run of layers on this device in the same micro-batch records as usual
        } else if (capturing) {
            capturing = false;
            RecordedCommands r = dev.endRecording();
            if (r != null) {
                recordings.put(n, r);
                dev.submit(r);
            } else {
                notReusable.add(n);
            }
        }
        x.read(0, hx, 0, n * c.nEmbd());
    }

    /**
     * Records layer {@code il} for the micro-batch. MoE layers download the FFN input, run routing and the expert
     * matmuls on the CPU ({@code st}'s buffers) and upload the result: expert weights stay in host RAM, as with
     * {@code --cpu-moe}.
     */
    @Override
    public void layer(int il, UBatch ub, ForwardState st) {
        lastLayer = il;
        if (replay != null) {
            return; // recorded for this micro-batch size; leave() submits it
        }
        if (captureNext) {
            captureNext = false;
            capturing = true;
            dev.beginRecording();
        }
        Layer L = layers[il];
        LayerWeights lw = model.weights().layers()[il];
        int n = ub.n();
        int e = c.nEmbd();
        // attention norm
        norm(L.attnNorm(), n);
        attention(il, L, n);
        if (model.sandwichNorms()) {
            ops.rmsNorm(proj, 0, e, e, n, c.rmsEps(), L.attnPostNorm(), 0);
        }
        // residual connection (ffn_inp)
        ops.add(x, 0, proj, 0, n * e);
        // ffn norm
        norm(L.ffnNorm(), n);
        if (c.isMoe() && L.gpuExperts()) {
            moeFfn(L, n, st);
        } else if (c.isMoe()) {
            cur.read(0, st.cur, 0, n * e);
            model.moeFfn(lw, n, st);
            proj.write(0, st.proj, 0, n * e);
        } else {
            ffn(L, n);
        }
        if (model.sandwichNorms()) {
            ops.rmsNorm(proj, 0, e, e, n, c.rmsEps(), L.ffnPostNorm(), 0);
        }
        // residual connection (l_out)
        ops.add(x, 0, proj, 0, n * e);
    }

    /**
     * Experts on the device: router logits come back for routing on the host (the same code as the CPU path),
     * then each chosen expert's up/gate/down run over the rows routed to it and the slots are summed by weight.
     */
    private void moeFfn(Layer L, int n, ForwardState st) {
        int e = c.nEmbd();
        int k = c.nExpertUsed();
        int nExp = c.nExpert();
        int ff = L.upExps().rows();
        // router logits, then routing: on the device where the shader's bounds allow (only the chosen ids come
        // back, to build the gather lists; the weights stay there), else on the host with the CPU path's code
        project(L.router(), cur, e, n, router);
        boolean deviceRouting = VulkanOps.routeSupported(nExp, k);
        if (deviceRouting) {
            ops.moeRoute(router, nExp, k, n, model.gating() == DecoderModel.Gating.SIGMOID,
                    model.normalizeExpertWeights(), c.expertWeightsScale(), routeIds, slotWeights);
            routeIds.read(0, st.selected, 0, n * k);
        } else {
            router.read(0, st.router, 0, n * nExp);
            model.route(n, st);
        }
        // gather lists, expert by expert: (token, slot) pairs for up/gate, (slot, slot) for down
        int[] start = new int[nExp + 1];
        int total = n * k;
        int w = 0;
        for (int x = 0; x < nExp; x++) {
            start[x] = w;
            for (int t = 0; t < n; t++) {
                for (int j = 0; j < k; j++) {
                    if (st.selected[t * k + j] == x) {
                        int slot = t * k + j;
                        rowsHost[2 * w] = t;
                        rowsHost[2 * w + 1] = slot;
                        rowsHost[2 * (total + w)] = slot;
                        rowsHost[2 * (total + w) + 1] = slot;
                        w++;
                    }
                }
            }
        }
        start[nExp] = w;
        slotRows.write(0, rowsHost, 0, 4 * total);
        if (!deviceRouting) {
            slotWeights.write(0, st.weights, 0, total);
        }
        GgmlType upFormat = VulkanOps.dotFormat(L.upExps().type());
        boolean sharedInput = upFormat != null && upFormat == VulkanOps.dotFormat(L.gateExps().type());
        if (sharedInput) {
            ops.quantize(upFormat, cur, 0, e, e, n, xq);
        }
        expertMatmuls(L.upExps(), cur, e, n, slotUp, ff, start, 0, sharedInput);
        expertMatmuls(L.gateExps(), cur, e, n, slotGate, ff, start, 0, sharedInput);
        ops.elementwise(Elementwise.SWIGLU, slotGate, 0, ff, slotUp, 0, ff, ff, total, 0f);
        expertMatmuls(L.downExps(), slotGate, ff, total, slotOut, e, start, total, false);
        // weighted sum of the experts in slot order
        ops.moeCombine(proj, slotOut, slotWeights, e, k, n);
    }

    /**
     * Every routed expert's matmul of {@code m} over the gathered rows of {@code in} (n rows at stride inStride):
     * on activations converted to the weight's dot format (already in xq when {@code converted}), or F32.
     */
    private void expertMatmuls(GpuMatrix m, GpuBuffer in, int inStride, int n, GpuBuffer out, int outStride, int[] start,
                         int pairBase, boolean converted) {
        GgmlType format = VulkanOps.dotFormat(m.type());
        if (format != null && !converted) {
            ops.quantize(format, in, 0, inStride, m.cols(), n, xq);
        }
        for (int x = 0; x + 1 < start.length; x++) {
            int count = start[x + 1] - start[x];
            if (count == 0) {
                continue;
            }
            if (format != null) {
                ops.matmulDot(m, x, xq, count, out, 0, outStride, slotRows, pairBase + start[x]);
            } else {
                ops.matmul(m, x, in, 0, inStride, count, out, 0, outStride, slotRows, pairBase + start[x]);
            }
        }
    }

    /** The dot format n rows into {@code m} are converted to, or null when they stay F32 (F32 weights, prefill). */
    private static GgmlType dotPath(GpuMatrix m, int n) {
        return n <= VulkanOps.DOT_MAX_ROWS ? VulkanOps.dotFormat(m.type()) : null;
    }

    /** Converts n rows of in for every listed projection at once when they share a dot format; true if done. */
    private boolean convertShared(GpuBuffer in, int inStride, int n, GpuLinear... ls) {
        GgmlType f = dotPath(ls[0].weight(), n);
        for (GpuLinear l : ls) {
            if (f == null || dotPath(l.weight(), n) != f || l.weight().cols() != ls[0].weight().cols()) {
                return false;
            }
        }
        ops.quantize(f, in, 0, inStride, ls[0].weight().cols(), n, xq);
        return true;
    }

    private void norm(GpuBuffer weight, int n) {
        int e = c.nEmbd();
        ops.elementwise(Elementwise.COPY, cur, 0, e, x, 0, e, e, n, 0f);
        ops.rmsNorm(cur, 0, e, e, n, c.rmsEps(), weight, 0);
    }

    private void project(GpuLinear l, GpuBuffer in, int inStride, int n, GpuBuffer out) {
        project(l, in, inStride, n, out, false);
    }

    /** A projection; {@code converted}: xq already holds in's rows in the weight's dot format. */
    private void project(GpuLinear l, GpuBuffer in, int inStride, int n, GpuBuffer out, boolean converted) {
        GpuMatrix m = l.weight();
        int rows = m.rows();
        GgmlType format = dotPath(m, n);
        if (format != null) {
            if (!converted) {
                ops.quantize(format, in, 0, inStride, m.cols(), n, xq);
            }
            ops.matmulDot(m, 0, xq, n, out, 0, rows, null, 0);
        } else {
            ops.matmul(m, 0, in, 0, inStride, n, out, 0, rows);
        }
        boolean scaled = l.scale() != 1f;
        if (l.biasFirst() && l.bias() != null) {
            ops.elementwise(Elementwise.ADD, out, 0, rows, l.bias(), 0, 0, rows, n, 0f);
        }
        if (scaled) {
            ops.scale(out, 0, n * rows, l.scale());
        }
        if (!l.biasFirst() && l.bias() != null) {
            ops.elementwise(Elementwise.ADD, out, 0, rows, l.bias(), 0, 0, rows, n, 0f);
        }
    }

    private void attention(int il, Layer L, int n) {
        int e = c.nEmbd();
        int hd = c.headDim();
        int qd = c.qDim();
        int kvd = c.kvDim();
        // compute Q, K and V
        if (L.wqkv() != null) {
            project(L.wqkv(), cur, e, n, qkv);
            int stride = qd + 2 * kvd;
            ops.elementwise(Elementwise.COPY, q, 0, qd, qkv, 0, stride, qd, n, 0f);
            ops.elementwise(Elementwise.COPY, k, 0, kvd, qkv, qd, stride, kvd, n, 0f);
            ops.elementwise(Elementwise.COPY, v, 0, kvd, qkv, qd + kvd, stride, kvd, n, 0f);
        } else {
            boolean shared = convertShared(cur, e, n, L.wq(), L.wk(), L.wv());
            project(L.wq(), cur, e, n, q, shared);
            project(L.wk(), cur, e, n, k, shared);
            project(L.wv(), cur, e, n, v, shared);
        }
        // q/k norms
        if (model.perHeadQkNorm()) {
            ops.rmsNorm(q, 0, hd, hd, n * c.nHead(), c.rmsEps(), L.qNorm(), 0);
            ops.rmsNorm(k, 0, hd, hd, n * c.nHeadKv(), c.rmsEps(), L.kNorm(), 0);
        } else if (model.fullRowQkNorm()) {
            ops.rmsNorm(q, 0, qd, qd, n, c.rmsEps(), L.qNorm(), 0);
            ops.rmsNorm(k, 0, kvd, kvd, n, c.rmsEps(), L.kNorm(), 0);
        }
        // rope
        ops.rope(q, 0, qd, n, c.nHead(), hd, pos, L.rope(), L.ropeFactors());
        ops.rope(k, 0, kvd, n, c.nHeadKv(), hd, pos, L.rope(), L.ropeFactors());
        if (model.queryPreScale() != 0f) {
            ops.scale(q, 0, n * qd, model.queryPreScale());
        }
        // store K and V in the device cache
        ops.setRows(L.kCache(), kType, kvd, k, 0, kvd, cells, n);
        ops.setRows(L.vCache(), vType, kvd, v, 0, kvd, cells, n);
        // attention over the visible cells
        float scale = model.queryPreScale() != 0f ? 1f : model.kqScale();
        int swa = model.isSwaLayer(il) ? c.nSwa() : 0;
        VulkanOps.AttentionShape shape = new VulkanOps.AttentionShape(c.nHead(), c.nHeadKv(), hd, scale,
                model.attnSoftcap(), swa);
        for (int t0 = 0; t0 < n; t0 += chunk) {
            ops.attention(shape, kType, vType, q, L.kCache(), L.vCache(), meta, nCells, n, t0, Math.min(chunk, n - t0),
                    scores, attn);
        }
        // output projection
        project(L.wo(), attn, qd, n, proj);
    }

    private void ffn(Layer L, int n) {
        int e = c.nEmbd();
        int ff = c.nFf();
        switch (model.ffnKind()) {
            case SWIGLU_FUSED_UP -> {
                // ffn_up yields [gate | up]; swiglu(x) = silu(first half) * second half
                project(L.up(), cur, e, n, up);
                ops.elementwise(Elementwise.COPY, gate, 0, ff, up, 0, 2 * ff, ff, n, 0f);
                ops.elementwise(Elementwise.SWIGLU, gate, 0, ff, up, ff, 2 * ff, ff, n, 0f);
            }
            case SWIGLU, GEGLU -> {
                boolean shared = convertShared(cur, e, n, L.up(), L.gate());
                project(L.up(), cur, e, n, up, shared);
                project(L.gate(), cur, e, n, gate, shared);
                ops.elementwise(model.ffnKind() == DecoderModel.FfnKind.SWIGLU ? Elementwise.SWIGLU : Elementwise.GEGLU,
                        gate, 0, ff, up, 0, ff, ff, n, 0f);
            }
        }
        project(L.down(), gate, ff, n, proj);
    }

    @Override
    public void close() {
        dev.flush();
        for (RecordedCommands r : recordings.values()) {
            r.close();
        }
        recordings.clear();
        for (int i = owned.size() - 1; i >= 0; i--) {
            try {
                owned.get(i).close();
            } catch (Exception ex) {
                throw new IllegalStateException(ex);
            }
        }
        owned.clear();
    }
}
