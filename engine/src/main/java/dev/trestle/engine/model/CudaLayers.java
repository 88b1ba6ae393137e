package dev.trestle.engine.model;

import dev.trestle.backends.cpu.CpuMatrix;
import dev.trestle.backends.cpu.Rope;
import dev.trestle.backends.cuda.CudaBackend;
import dev.trestle.backends.cuda.CudaBuffer;
import dev.trestle.backends.cuda.CudaContext;
import dev.trestle.backends.cuda.CudaKernelNames;
import dev.trestle.backends.cuda.CudaMatrix;
import dev.trestle.backends.cuda.CudaOps;
import dev.trestle.backends.cuda.GraphCache;
import dev.trestle.backends.cuda.LaunchConfig;
import dev.trestle.backends.cuda.PeerLink;
import dev.trestle.backends.cuda.StagedUpload;
import dev.trestle.backends.type.GgmlType;
import dev.trestle.common.TrestleException;
import dev.trestle.engine.kv.KvCache;
import dev.trestle.nativ.cuda.CudaDriver;
import dev.trestle.scheduler.plan.RowSlices;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The layers of a model that live on one NVIDIA GPU, and their execution there through the CUDA kernels: the
 * same steps as {@link DecoderModel#forward}'s CPU path (norms, projections with bias and {@code .scale}, q/k
 * norms, rope, KV cache in the context's cache types, flash or plain attention, sandwich norms, SwiGLU/GeGLU
 * FFN, MoE routing and expert matmuls), queued on the device's stream. The hidden state stays on the GPU
 * between its layers. The expert FFN of a layer the plan keeps in host RAM ({@code --n-cpu-moe},
 * {@code --cpu-moe}, {@code -ot}) runs on the CPU; see {@link #layer}.
 *
 * <p>Row split ({@code -sm row}): this executor lives on the main GPU and every projection is cut by rows across
 * the logical GPUs of a {@link RowSplit}; each computes its slice of output rows on its own stream and the
 * slices are gathered on the main GPU, ordered by events ({@link PeerLink}); KV cache, attention, norms and
 * everything else run on the main GPU, as in llama.cpp.
 *
 * <p>Decode steps (up to {@link GraphCache#MAX_TOKENS} tokens) of a run of layers without host transfers or row
 * split are captured once per shape into a CUDA graph and relaunched ({@link GraphCache}; off with
 * {@code -Dtrestle.cuda.graphs=false} or TRESTLE_CUDA_DISABLE_GRAPHS=1). The hidden state moves to the next
 * GPU's executor device to device ({@link #handOver}).
 */
public final class CudaLayers implements LayerExecutor {
    private final DecoderModel model;
    private final ModelConfig c;
    private final CudaBackend backend;
    private final CudaContext ctx;
    private final CudaOps ops;
    private final int nCells;
    private final int nUb;
    private CudaLinear output;       // the output head when it lives here
    private CudaBuffer logitRows;    // (logitChunk padded to 16, n_vocab) logits of a chunk of rows
    private int logitChunk;
    private final GgmlType kType;
    private final GgmlType vType;
    private final boolean flash;
    private final Layer[] layers;      // (n_layer) null for layers elsewhere
    private final List<AutoCloseable> owned = new ArrayList<>();
    private final RowSplit rowSplit;     // null: every matrix whole on this GPU
    private final Peer[] peers;          // (logical GPUs) null for this GPU and for GPUs without a share
    private final Map<CudaLayers, PeerLink> handOvers = new HashMap<>();
    private final boolean[] capturable;  // (n_layer) no host transfer inside the layer
    private final GraphCache graphs;
    private final int streamExpertsFrom;  // micro-batches this large run host-resident experts here, streamed
    private final CudaBuffer streamed;    // one expert tensor at a time (null without streaming)
    private final StagedUpload staging;   // pinned double buffer for the streamed tensors
    // the run of layers queued since enter (or the first layer): graph bookkeeping
    private int runFirst = -1;
    private int runLast;
    private int runTokens;
    private GraphCache.Action runAction;
    private UBatch runUb;
    private ForwardState runSt;
    // activations, F32, row-major per token; rows padded to 16 for the tensor-core path
    private final CudaBuffer x;      // (n_ub, n_embd) residual stream
    private final CudaBuffer cur;    // (n_ub, n_embd)
    private final CudaBuffer q;      // (n_ub, q_dim)
    private final CudaBuffer k;      // (n_ub, kv_dim)
    private final CudaBuffer v;      // (n_ub, kv_dim)
    private final CudaBuffer attn;   // (n_ub, q_dim)
    private final CudaBuffer proj;   // (n_ub, n_embd)
    private final CudaBuffer gate;   // (n_ub, ff)
    private final CudaBuffer up;     // (n_ub, 2 ff)
    private final CudaBuffer pos;    // (n_ub) positions
    private final CudaBuffer cells;  // (n_ub) cache cells of the batch
    private final CudaBuffer visFull;    // (n_ub * n_cells) visible cells per token, causal
    private final CudaBuffer visSwa;     // (n_ub * n_cells) visible cells per token, sliding window
    private final CudaBuffer offFull;    // (n_ub + 1) offsets into visFull
    private final CudaBuffer offSwa;     // (n_ub + 1) offsets into visSwa
    private final int[] visHost;         // (n_ub * n_cells)
    private final int[] offHost;         // (n_ub + 1)
    private final int[] scratch;         // (n_cells)
    // MoE scratch (null for dense models): rows are tokens, or (token, slot) pairs
    private final CudaBuffer router;     // (n_ub, n_expert) logits, then probabilities
    private final CudaBuffer selected;   // (n_ub, n_expert_used) expert ids
    private final CudaBuffer routeW;     // (n_ub, n_expert_used) routing weights
    private final CudaBuffer expUp;      // (n_ub * n_expert_used, ff_exp)
    private final CudaBuffer expGate;    // (n_ub * n_expert_used, ff_exp)
    private final CudaBuffer expOut;     // (n_ub * n_expert_used, n_embd)
    private final CudaBuffer shared;     // (n_ub, n_embd) shared-expert output

    /** Device copies of one block's weights plus its KV cache. */
    private record Layer(CudaLinear wq, CudaLinear wk, CudaLinear wv, CudaLinear wo, CudaBuffer attnNorm,
                         CudaBuffer qNorm, CudaBuffer kNorm, CudaBuffer attnPostNorm, CudaBuffer ffnNorm,
                         CudaBuffer ffnPostNorm, CudaLinear gate, CudaLinear up, CudaLinear down,
                         CudaBuffer ropeFactors, CudaBuffer kCache, CudaBuffer vCache, Rope rope, Moe moe) {
    }

    /**
     * A layer's MoE FFN on the device (null when its experts stay on the CPU and are never streamed, or the model is
     * dense). {@code streamed}: the expert matrices are views of the shared streaming buffer, filled from host RAM
     * right before each is used (large batches only; smaller ones run the layer's MoE on the CPU).
     */
    private record Moe(CudaLinear router, CudaMatrix gateExps, CudaMatrix upExps, CudaMatrix downExps,
                       CudaBuffer gateScale, CudaBuffer upScale, CudaBuffer downScale, CudaBuffer shexpGate,
                       CudaLinear gateShexp, CudaLinear upShexp, CudaLinear downShexp, boolean streamed) {
    }

    /**
     * A projection on the device: weight, bias and {@code .scale} in llama.cpp's order. Under row split,
     * {@code weight} is this GPU's slice (rows {@code [row0, row0 + weight.rows())} of {@code rows}; null when it
     * has none) and {@code parts} the other GPUs' slices.
     */
    private record CudaLinear(CudaMatrix weight, CudaBuffer bias, float scale, boolean biasFirst, int rows, int row0,
                              Part[] parts) {
    }

    /** One other GPU's slice of a row-split projection: rows [row0, row0 + weight.rows()). */
    private record Part(Peer peer, CudaMatrix weight, int row0) {
    }

    /**
     * {@code -sm row}: the logical GPUs' backends (index {@code main} is this executor's) and their shares of
     * every projection's rows.
     */
    public record RowSplit(CudaBackend[] backends, double[] shares, int main) {
    }

    /** Another GPU of a row split: its scratch, and the links to it and back. */
    private final class Peer {
        final CudaBackend backend;
        final CudaBuffer in;       // (rows, max cols) activations copied from this GPU
        final CudaBuffer out;      // (rows, max projection rows) its slice of the output, zero elsewhere
        final CudaBuffer gather;   // on this GPU: a copy of out, added into the result
        final PeerLink there;
        final PeerLink back;

        Peer(CudaBackend backend, long inBytes, long outBytes) {
            this.backend = backend;
            CudaContext pc = backend.context();
            this.in = own(pc.allocate(inBytes));
            this.out = own(pc.allocate(outBytes));
            this.gather = buffer(outBytes);
            this.there = own(PeerLink.open(ctx, pc, inBytes));
            this.back = own(PeerLink.open(pc, ctx, outBytes));
        }
    }

    /**
     * Uploads the weights of layers {@code il} with {@code mine[il]} to {@code backend}'s GPU and allocates their
     * KV cache ({@code nCells} cells of kType/vType) and the activations for micro-batches of up to {@code nUb}.
     */
    public CudaLayers(DecoderModel model, CudaBackend backend, boolean[] mine, boolean[] cpuExperts, int nUb,
                      int nCells, GgmlType kType, GgmlType vType, int nCtxPerSeq, boolean flash) {
        this(model, backend, mine, cpuExperts, nUb, nCells, kType, vType, nCtxPerSeq, flash, null, Integer.MAX_VALUE);
    }

    /**
     * As above, with every projection cut by rows across {@code rowSplit}'s GPUs (null: no row split), and the
     * host-resident experts of {@code cpuExperts} layers streamed here for micro-batches of
     * {@code streamExpertsFrom}+ tokens ({@link Integer#MAX_VALUE}: never).
     */
    public CudaLayers(DecoderModel model, CudaBackend backend, boolean[] mine, boolean[] cpuExperts, int nUb,
                      int nCells, GgmlType kType, GgmlType vType, int nCtxPerSeq, boolean flash, RowSplit rowSplit,
                      int streamExpertsFrom) {
        this.model = model;
        this.rowSplit = rowSplit;
        this.c = model.config();
        this.backend = backend;
        this.ctx = backend.context();
        this.ops = backend.ops();
        this.nCells = nCells;
        this.nUb = nUb;
        this.kType = kType;
        this.vType = vType;
        this.flash = flash;
        CudaKernelNames.setRows(kType);
        CudaKernelNames.setRows(vType);
        if (c.headDim() > 256) {
            throw new TrestleException("the CUDA attention kernels support head sizes up to 256; this model's is "
                    + c.headDim(), "run it on the CPU (-ngl 0) or through Vulkan");
        }
        if ((kType.isQuantized() || vType.isQuantized()) && c.headDim() % 32 != 0) {
            throw new TrestleException("a quantized KV cache needs a head size that is a multiple of 32; this "
                    + "model's is " + c.headDim(), "use -ctk f16 -ctv f16");
        }
        int rows = LaunchConfig.roundUp(nUb, 16);
        int e = c.nEmbd();
        int qd = c.qDim();
        int kvd = c.kvDim();
        int ff = Math.max(c.nFf(), Math.max(c.nFfExp(), c.nFfShexp()));
        x = buffer(4L * rows * e);
        cur = buffer(4L * rows * e);
        q = buffer(4L * rows * qd);
        k = buffer(4L * rows * kvd);
        v = buffer(4L * rows * kvd);
        attn = buffer(4L * rows * qd);
        proj = buffer(4L * rows * e);
        gate = buffer(4L * rows * ff);
        up = buffer(4L * rows * 2L * ff);
        pos = buffer(4L * nUb);
        cells = buffer(4L * nUb);
        visFull = buffer(4L * nUb * nCells);
        visSwa = buffer(4L * nUb * nCells);
        offFull = buffer(4L * (nUb + 1));
        offSwa = buffer(4L * (nUb + 1));
        visHost = new int[nUb * nCells];
        offHost = new int[nUb + 1];
        scratch = new int[nCells];
        if (c.isMoe()) {
            int k = c.nExpertUsed();
            int ffExp = Math.max(1, c.nFfExp());
            for (LayerWeights lw : model.weights().layers()) {
                if (lw.upExps() != null) {
                    ffExp = Math.max(ffExp, lw.upExps().weight().rows());
                }
            }
            int pairs = LaunchConfig.roundUp(nUb * k, 16);
            router = buffer(4L * rows * c.nExpert());
            selected = buffer(4L * nUb * k);
            routeW = buffer(4L * nUb * k);
            expUp = buffer(4L * pairs * ffExp);
            expGate = buffer(4L * pairs * ffExp);
            expOut = buffer(4L * pairs * e);
            shared = buffer(4L * rows * e);
        } else {
            router = null;
            selected = null;
            routeW = null;
            expUp = null;
            expGate = null;
            expOut = null;
            shared = null;
        }
        peers = rowSplit == null ? new Peer[0] : new Peer[rowSplit.backends().length];
        if (rowSplit != null) {
            // activations in: any projection input; slices out: any projection's rows, or a chunk of logits
            long inBytes = 4L * rows * Math.max(Math.max(e, qd), 2L * ff);
            long outBytes = Math.max(4L * rows * Math.max(Math.max(e, qd), 2L * ff),
                    4L * LaunchConfig.roundUp(Math.min(16, nUb), 16) * c.nVocab());
            for (int g = 0; g < peers.length; g++) {
                if (g != rowSplit.main() && rowSplit.shares()[g] > 0) {
                    peers[g] = new Peer(rowSplit.backends()[g], inBytes, outBytes);
                }
            }
        }
        // expert streaming: room for the largest host-resident expert tensor of these layers (the plan budgets it)
        long largest = 0;
        for (int il = 0; il < c.nLayer(); il++) {
            LayerWeights lw = model.weights().layers()[il];
            if (mine[il] && cpuExperts[il] && c.isMoe() && lw.upExps() != null) {
                for (ExpertLinear xl : new ExpertLinear[] {lw.gateExps(), lw.upExps(), lw.downExps()}) {
                    largest = Math.max(largest, xl.weight().data().byteSize());
                }
            }
        }
        boolean streaming = largest > 0 && streamExpertsFrom < Integer.MAX_VALUE;
        this.streamExpertsFrom = streaming ? streamExpertsFrom : Integer.MAX_VALUE;
        this.streamed = streaming ? buffer(largest) : null;
        this.staging = streaming ? own(new StagedUpload(ctx, Math.min(largest, 64L << 20))) : null;
        layers = new Layer[c.nLayer()];
        capturable = new boolean[c.nLayer()];
        for (int il = 0; il < c.nLayer(); il++) {
            if (mine[il]) {
                layers[il] = upload(il, model.weights().layers()[il], nCtxPerSeq, cpuExperts[il]);
                Moe moe = layers[il].moe();
                capturable[il] = rowSplit == null && (!c.isMoe() || moe != null && !moe.streamed());
            }
        }
        CudaDriver cu = ctx.driver();
        boolean wanted = GraphCache.wanted();
        graphs = new GraphCache(wanted && cu.hasGraphs(), wanted ? "the driver has no graph API" : "turned off");
    }

    private <T extends AutoCloseable> T own(T resource) {
        owned.add(resource);
        return resource;
    }

    public CudaBackend backend() {
        return backend;
    }

    private CudaBuffer buffer(long bytes) {
        CudaBuffer b = ctx.allocate(bytes);
        owned.add(b);
        return b;
    }

    private CudaBuffer vector(float[] a, int from, int n) {
        if (a == null) {
            return null;
        }
        CudaBuffer b = buffer(4L * n);
        b.write(0, a, from, n);
        return b;
    }

    private CudaBuffer vector(float[] a) {
        return a == null ? null : vector(a, 0, a.length);
    }

    /**
     * Rows [row0, row0 + rows) of a projection (a fused QKV weight is uploaded as three); under row split each GPU
     * gets its slice of those rows ({@link RowSlices}), the bias stays whole on this GPU.
     */
    private CudaLinear linear(Linear l, int row0, int rows) {
        return linear(l, row0, rows, true);
    }

    /** {@code split = false}: whole on this GPU even under row split (the MoE router, as the planner places it). */
    private CudaLinear linear(Linear l, int row0, int rows, boolean split) {
        if (l == null) {
            return null;
        }
        CpuMatrix m = l.weight();
        CudaBuffer bias = l.bias() != null ? vector(l.bias(), row0, rows) : null;
        if (rowSplit == null || !split) {
            return new CudaLinear(slice(ctx, m, row0, rows), bias, l.scale(), l.biasFirst(), rows, 0, new Part[0]);
        }
        int[] b = RowSlices.boundaries(rows, m.type(), rowSplit.shares());
        int main = rowSplit.main();
        List<Part> parts = new ArrayList<>();
        for (int g = 0; g < peers.length; g++) {
            if (g != main && peers[g] != null && b[g + 1] > b[g]) {
                parts.add(new Part(peers[g], slice(peers[g].backend.context(), m, row0 + b[g], b[g + 1] - b[g]),
                        b[g]));
            }
        }
        CudaMatrix mine = b[main + 1] > b[main] ? slice(ctx, m, row0 + b[main], b[main + 1] - b[main]) : null;
        return new CudaLinear(mine, bias, l.scale(), l.biasFirst(), rows, b[main], parts.toArray(new Part[0]));
    }

    /** Rows [row0, row0 + rows) of {@code m} uploaded to {@code on}. */
    private CudaMatrix slice(CudaContext on, CpuMatrix m, int row0, int rows) {
        long rb = m.type().bytesFor(m.cols());
        return own(new CudaMatrix(on, m.name(), m.type(), m.data().asSlice(row0 * rb, rows * rb), m.cols(), rows, 1));
    }

    private CudaLinear linear(Linear l) {
        return l == null ? null : linear(l, 0, l.rows());
    }

    private CudaMatrix experts(ExpertLinear x) {
        CpuMatrix m = x.weight();
        CudaMatrix g = new CudaMatrix(ctx, m.name(), m.type(), m.data(), m.cols(), m.rows(), m.experts());
        owned.add(g);
        return g;
    }

    /** A view of the streaming buffer shaped as {@code x}. */
    private CudaMatrix streamedView(ExpertLinear x) {
        CpuMatrix m = x.weight();
        return CudaMatrix.over(streamed, m.name(), m.type(), m.cols(), m.rows(), m.experts());
    }

    private Moe moe(LayerWeights lw, boolean stream) {
        Linear router = lw.router();
        return new Moe(linear(router, 0, router.rows(), false),
                stream ? streamedView(lw.gateExps()) : experts(lw.gateExps()),
                stream ? streamedView(lw.upExps()) : experts(lw.upExps()),
                stream ? streamedView(lw.downExps()) : experts(lw.downExps()),
                vector(lw.gateExps().scale()), vector(lw.upExps().scale()), vector(lw.downExps().scale()),
                vector(lw.shexpGate()), linear(lw.gateShexp()), linear(lw.upShexp()), linear(lw.downShexp()), stream);
    }

    private Layer upload(int il, LayerWeights lw, int nCtxPerSeq, boolean cpuExperts) {
        int kvd = c.kvDim();
        int qd = c.qDim();
        CudaBuffer kc = buffer(kType.bytesFor(kvd) * nCells);
        CudaBuffer vc = buffer(vType.bytesFor(kvd) * nCells);
        boolean moe = c.isMoe();
        CudaLinear wq = lw.wqkv() != null ? linear(lw.wqkv(), 0, qd) : linear(lw.wq());
        CudaLinear wk = lw.wqkv() != null ? linear(lw.wqkv(), qd, kvd) : linear(lw.wk());
        CudaLinear wv = lw.wqkv() != null ? linear(lw.wqkv(), qd + kvd, kvd) : linear(lw.wv());
        return new Layer(wq, wk, wv, linear(lw.wo()), vector(lw.attnNorm()), vector(lw.qNorm()), vector(lw.kNorm()),
                vector(lw.attnPostNorm()), vector(lw.ffnNorm()), vector(lw.ffnPostNorm()),
                moe ? null : linear(lw.ffnGate()), moe ? null : linear(lw.ffnUp()), moe ? null : linear(lw.ffnDown()),
                vector(model.ropeFactors(il, nCtxPerSeq)), kc, vc, model.rope(il),
                !moe ? null : !cpuExperts ? moe(lw, false) : streamed != null ? moe(lw, true) : null);
    }

    @Override
    public void holdOutputHead() {
        if (output == null) {
            output = linear(model.weights().output());
            logitChunk = Math.min(16, nUb); // rows go through cur, which holds n_ub rows
            logitRows = buffer(4L * LaunchConfig.roundUp(logitChunk, 16) * c.nVocab());
        }
    }

    @Override
    public void logits(float[] hidden, int rows, float[] out) {
        int e = c.nEmbd();
        int v = c.nVocab();
        for (int r0 = 0; r0 < rows; r0 += logitChunk) {
            int m = Math.min(logitChunk, rows - r0);
            cur.write(0, hidden, r0 * e, m * e);
            project(output, cur, m, logitRows);
            logitRows.read(0, out, r0 * v, m * v);
        }
    }

    @Override
    public boolean owns(int il) {
        return layers[il] != null;
    }

    @Override
    public void begin(UBatch ub, KvCache kv) {
        int n = ub.n();
        pos.write(0, ub.pos(), 0, n);
        cells.write(0, ub.cells(), 0, n);
        // visible cells per token, causal and (if the model has them) sliding-window, as the CPU path lists them
        uploadVisibility(ub, kv, 0, visFull, offFull);
        if (c.nSwa() > 0) {
            uploadVisibility(ub, kv, c.nSwa(), visSwa, offSwa);
        }
    }

    private void uploadVisibility(UBatch ub, KvCache kv, int swa, CudaBuffer vis, CudaBuffer off) {
        int n = ub.n();
        int total = 0;
        for (int t = 0; t < n; t++) {
            offHost[t] = total;
            int m = kv.visible(ub.seq()[t], ub.pos()[t], swa, scratch);
            System.arraycopy(scratch, 0, visHost, total, m);
            total += m;
        }
        offHost[n] = total;
        if (total > 0) {
            vis.write(0, visHost, 0, total);
        }
        off.write(0, offHost, 0, n + 1);
    }

    @Override
    public void enter(float[] hx, int n) {
        x.write(0, hx, 0, n * c.nEmbd());
    }

    @Override
    public void leave(float[] hx, int n) {
        finishRun();
        x.read(0, hx, 0, n * c.nEmbd());
    }

    /** The hidden state goes straight to the next CUDA executor's device (peer to peer, or via pinned memory). */
    @Override
    public boolean handOver(LayerExecutor next, int n) {
        if (!(next instanceof CudaLayers to)) {
            return false;
        }
        finishRun();
        PeerLink link = handOvers.get(to);
        if (link == null) {
            link = own(PeerLink.open(ctx, to.ctx, x.bytes()));
            handOvers.put(to, link);
        }
        link.copy(x, 0, to.x, 0, 4L * n * c.nEmbd());
        return true;
    }

    /**
     * Layer {@code il} of the micro-batch: queued now, or into the run's graph capture, or skipped because the
     * run's stored graph will be launched when the hidden state leaves (see {@link GraphCache}).
     */
    @Override
    public void layer(int il, UBatch ub, ForwardState st) {
        if (runFirst < 0) {
            startRun(il, ub, st);
        }
        runLast = il;
        switch (runAction) {
            case EAGER -> run(il, ub, st);
            case REPLAY -> { }
            case CAPTURE -> {
                try {
                    run(il, ub, st);
                } catch (RuntimeException e) {
                    abandonCapture(e);
                }
            }
        }
    }

    private void startRun(int il, UBatch ub, ForwardState st) {
        int n = ub.n();
        boolean ok = true;
        for (int j = il; j < layers.length && layers[j] != null; j++) {
            ok &= capturable[j];
        }
        runFirst = il;
        runTokens = n;
        runUb = ub;
        runSt = st;
        runAction = graphs.action(il, n, ok, ops.scratchGeneration());
        destroyGraphs(graphs.stale());
        if (runAction == GraphCache.Action.CAPTURE) {
            try {
                ctx.makeCurrent();
                ctx.driver().streamBeginCapture(ctx.stream());
            } catch (RuntimeException e) {
                destroyGraphs(graphs.disable("cuStreamBeginCapture failed: " + e.getMessage()));
                runAction = GraphCache.Action.EAGER;
            }
        }
    }

    /** Ends the run started by the first layer after enter: instantiates and launches, or launches the stored graph. */
    private void finishRun() {
        if (runFirst < 0) {
            return;
        }
        CudaDriver cu = ctx.driver();
        try {
            if (runAction == GraphCache.Action.CAPTURE) {
                MemorySegment exec;
                try {
                    ctx.makeCurrent();
                    MemorySegment graph = cu.streamEndCapture(ctx.stream());
                    try {
                        exec = cu.graphInstantiate(graph);
                    } finally {
                        cu.graphDestroy(graph);
                    }
                } catch (RuntimeException e) {
                    destroyGraphs(graphs.disable("capture failed: " + e.getMessage()));
                    rerunEagerly(runLast);
                    return;
                }
                graphs.store(runFirst, runTokens, exec);
                cu.graphLaunch(exec, ctx.stream());
            } else if (runAction == GraphCache.Action.REPLAY) {
                ctx.makeCurrent();
                cu.graphLaunch(graphs.get(runFirst, runTokens), ctx.stream());
            }
        } finally {
            runFirst = -1;
            runUb = null;
            runSt = null;
        }
    }

    /** A capture broke inside the run's last layer: end it, turn graphs off, queue the run's layers eagerly. */
    private void abandonCapture(RuntimeException cause) {
        try {
            ctx.makeCurrent();
            MemorySegment g = ctx.driver().streamEndCapture(ctx.stream());
            ctx.driver().graphDestroy(g);
        } catch (RuntimeException ignored) {
            // the capture is invalidated; ending it only returns the stream to normal mode
        }
        destroyGraphs(graphs.disable("capture failed: " + cause.getMessage()));
        rerunEagerly(runLast);
    }

    /** Queues layers runFirst..last of the current run eagerly; the run goes on eagerly. */
    private void rerunEagerly(int last) {
        runAction = GraphCache.Action.EAGER;
        for (int j = runFirst; j <= last; j++) {
            run(j, runUb, runSt);
        }
    }

    private void destroyGraphs(List<MemorySegment> execs) {
        if (execs.isEmpty()) {
            return;
        }
        ctx.synchronize();
        for (MemorySegment e : execs) {
            ctx.driver().graphExecDestroy(e);
        }
    }

    /**
     * Queues layer {@code il}. A MoE layer whose experts stay in host RAM downloads the FFN input, runs routing
     * and the expert matmuls on the CPU ({@code st}'s buffers) and uploads the result.
     */
    private void run(int il, UBatch ub, ForwardState st) {
        Layer L = layers[il];
        LayerWeights lw = model.weights().layers()[il];
        int n = ub.n();
        int e = c.nEmbd();
        // attention norm
        ops.rmsNorm(x, 0, e, n, c.rmsEps(), L.attnNorm(), cur, 0);
        attention(il, L, n);
        if (model.sandwichNorms()) {
            ops.rmsNorm(proj, 0, e, n, c.rmsEps(), L.attnPostNorm(), proj, 0);
        }
        // residual connection (ffn_inp)
        ops.add(x, 0, proj, 0, (long) n * e, x, 0, (long) n * e);
        // ffn norm
        ops.rmsNorm(x, 0, e, n, c.rmsEps(), L.ffnNorm(), cur, 0);
        if (c.isMoe() && L.moe() != null && (!L.moe().streamed() || n >= streamExpertsFrom)) {
            moeFfn(L.moe(), lw, n);
        } else if (c.isMoe()) {
            cur.read(0, st.cur, 0, n * e);
            model.moeFfn(lw, n, st);
            proj.write(0, st.proj, 0, n * e);
        } else {
            ffn(L, n);
        }
        if (model.sandwichNorms()) {
            ops.rmsNorm(proj, 0, e, n, c.rmsEps(), L.ffnPostNorm(), proj, 0);
        }
        // residual connection (l_out)
        ops.add(x, 0, proj, 0, (long) n * e, x, 0, (long) n * e);
    }

    private void project(CudaLinear l, CudaBuffer in, int n, CudaBuffer out) {
        int rows = l.rows();
        long total = (long) n * rows;
        if (l.parts().length == 0) {
            ops.matmul(l.weight(), in, 0, n, out, 0, rows);
        } else {
            splitMatmul(l, in, n, out);
        }
        if (l.biasFirst() && l.bias() != null) {
            ops.add(out, 0, l.bias(), 0, rows, out, 0, total);
        }
        if (l.scale() != 1f) {
            ops.scale(out, 0, total, l.scale());
        }
        if (!l.biasFirst() && l.bias() != null) {
            ops.add(out, 0, l.bias(), 0, rows, out, 0, total);
        }
    }

    /**
     * A row-split matmul. The input goes to every other GPU (after the work that produced it); each multiplies
     * its slice on its own stream while this GPU multiplies its own; the slices come back and this stream waits
     * for them. One token: each slice is a contiguous piece of the output row and is copied in place. More
     * tokens: each GPU writes its columns into a zeroed full-width buffer and this GPU adds them (x + 0 is
     * exact), which keeps the gather to plain copies and the existing add kernel.
     */
    private void splitMatmul(CudaLinear l, CudaBuffer in, int n, CudaBuffer out) {
        int rows = l.rows();
        int cols = l.parts()[0].weight().cols();
        long inBytes = 4L * n * cols;
        long outBytes = 4L * n * rows;
        boolean single = n == 1;
        for (Part p : l.parts()) {
            Peer pe = p.peer();
            pe.there.copy(in, 0, pe.in, 0, inBytes);
            if (single) {
                pe.backend.ops().matmul(p.weight(), pe.in, 0, 1, pe.out, 0, p.weight().rows());
            } else {
                pe.out.clear(0, outBytes);
                pe.backend.ops().matmul(p.weight(), pe.in, 0, n, pe.out, p.row0(), rows);
            }
        }
        if (!single) {
            out.clear(0, outBytes);
        }
        if (l.weight() != null) {
            ops.matmul(l.weight(), in, 0, n, out, l.row0(), rows);
        }
        for (Part p : l.parts()) {
            Peer pe = p.peer();
            if (single) {
                pe.back.copy(pe.out, 0, out, 4L * p.row0(), 4L * p.weight().rows());
            } else {
                pe.back.copy(pe.out, 0, pe.gather, 0, outBytes);
                ops.add(out, 0, pe.gather, 0, (long) n * rows, out, 0, (long) n * rows);
            }
        }
    }

    private void attention(int il, Layer L, int n) {
        int hd = c.headDim();
        int qd = c.qDim();
        int kvd = c.kvDim();
        // compute Q, K and V (a fused QKV weight was uploaded as three row slices)
        project(L.wq(), cur, n, q);
        project(L.wk(), cur, n, k);
        project(L.wv(), cur, n, v);
        // q/k norms
        if (model.perHeadQkNorm()) {
            ops.rmsNorm(q, 0, hd, n * c.nHead(), c.rmsEps(), L.qNorm(), q, 0);
            ops.rmsNorm(k, 0, hd, n * c.nHeadKv(), c.rmsEps(), L.kNorm(), k, 0);
        } else if (model.fullRowQkNorm()) {
            ops.rmsNorm(q, 0, qd, n, c.rmsEps(), L.qNorm(), q, 0);
            ops.rmsNorm(k, 0, kvd, n, c.rmsEps(), L.kNorm(), k, 0);
        }
        // rope
        ops.rope(q, 0, qd, n, c.nHead(), hd, pos, L.rope(), L.ropeFactors());
        ops.rope(k, 0, kvd, n, c.nHeadKv(), hd, pos, L.rope(), L.ropeFactors());
        if (model.queryPreScale() != 0f) {
            ops.scale(q, 0, (long) n * qd, model.queryPreScale());
        }
        // store K and V in the device cache
        long kRb = kType.bytesFor(kvd);
        long vRb = vType.bytesFor(kvd);
        ops.setRows(L.kCache(), kType, kRb, k, 0, kvd, cells, n);
        ops.setRows(L.vCache(), vType, vRb, v, 0, kvd, cells, n);
        // attention over the visible cells
        float scale = model.queryPreScale() != 0f ? 1f : model.kqScale();
        boolean swa = model.isSwaLayer(il) && c.nSwa() > 0;
        CudaOps.AttentionShape shape = new CudaOps.AttentionShape(c.nHead(), c.nHeadKv(), hd, scale,
                model.attnSoftcap(), flash);
        ops.attention(shape, kType, L.kCache(), kRb, vType, L.vCache(), vRb, q, 0, qd, swa ? visSwa : visFull,
                swa ? offSwa : offFull, n, attn, 0, qd);
        // output projection
        project(L.wo(), attn, n, proj);
    }

    private void ffn(Layer L, int n) {
        int ff = c.nFf();
        switch (model.ffnKind()) {
            case SWIGLU_FUSED_UP -> {
                // ffn_up yields [gate | up]; swiglu(x) = silu(first half) * second half
                project(L.up(), cur, n, up);
                ops.glu(false, up, 0, 2 * ff, up, ff, 2 * ff, gate, 0, n, ff);
            }
            case SWIGLU, GEGLU -> {
                project(L.up(), cur, n, up);
                project(L.gate(), cur, n, gate);
                ops.glu(model.ffnKind() == DecoderModel.FfnKind.GEGLU, gate, 0, ff, up, 0, ff, gate, 0, n, ff);
            }
        }
        project(L.down(), gate, n, proj);
    }

    /** DecoderModel.moeFfn on the device: routing, top-k, expert matmuls (mul_mat_id), weighted sum, shared expert. */
    private void moeFfn(Moe m, LayerWeights lw, int n) {
        int e = c.nEmbd();
        int nExp = c.nExpert();
        int k = c.nExpertUsed();
        int ff = m.upExps().rows();
        boolean stream = m.streamed();
        int pairs = n * k;
        // router logits and probabilities
        project(m.router(), cur, n, router);
        if (model.gating() == DecoderModel.Gating.SOFTMAX) {
            ops.softmax(router, 0, nExp, n);
        } else {
            ops.sigmoid(router, 0, (long) n * nExp);
        }
        // top-k experts and their weights
        ops.topK(router, 0, nExp, n, k, selected);
        ops.moeWeights(router, selected, routeW, n, nExp, k, model.normalizeExpertWeights(), c.expertWeightsScale());
        // each (token, slot) through its expert: up and gate share the token's input, down reads the slot's row
        // streamed experts take turns in one buffer: each copy is queued after the kernels that read the previous
        if (stream) {
            staging.copy(lw.upExps().weight().data(), streamed, 0);
        }
        ops.matmulId(m.upExps(), cur, 0, n, selected, pairs, k, expUp, 0, ff);
        if (stream) {
            staging.copy(lw.gateExps().weight().data(), streamed, 0);
        }
        ops.matmulId(m.gateExps(), cur, 0, n, selected, pairs, k, expGate, 0, ff);
        if (m.upScale() != null) {
            ops.scaleByExpert(expUp, selected, m.upScale(), ff, pairs);
        }
        if (m.gateScale() != null) {
            ops.scaleByExpert(expGate, selected, m.gateScale(), ff, pairs);
        }
        ops.glu(false, expGate, 0, ff, expUp, 0, ff, expGate, 0, pairs, ff);
        if (stream) {
            staging.copy(lw.downExps().weight().data(), streamed, 0);
        }
        ops.matmulId(m.downExps(), expGate, 0, pairs, selected, pairs, 1, expOut, 0, e);
        if (m.downScale() != null) {
            ops.scaleByExpert(expOut, selected, m.downScale(), e, pairs);
        }
        // sum the experts in slot order
        ops.moeCombine(expOut, routeW, proj, e, k, n);
        // shared expert (qwen2moe), gated by sigmoid(x . w)
        if (m.upShexp() != null) {
            int sff = m.upShexp().rows();
            project(m.upShexp(), cur, n, up);
            project(m.gateShexp(), cur, n, gate);
            ops.glu(false, gate, 0, sff, up, 0, sff, gate, 0, n, sff);
            project(m.downShexp(), gate, n, shared);
            if (m.shexpGate() != null) {
                ops.sharedExpertGate(cur, m.shexpGate(), shared, e, n);
            }
            ops.add(proj, 0, shared, 0, (long) n * e, proj, 0, (long) n * e);
        }
    }

    @Override
    public void close() {
        ctx.synchronize();
        destroyGraphs(graphs.drain());
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
