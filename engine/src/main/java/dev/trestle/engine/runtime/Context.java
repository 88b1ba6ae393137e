package dev.trestle.engine.runtime;

import dev.trestle.backends.cpu.CpuBackend;
import dev.trestle.backends.type.GgmlType;
import dev.trestle.common.TrestleException;
import dev.trestle.engine.kv.KvCache;
import dev.trestle.engine.model.DecoderModel;
import dev.trestle.engine.model.ForwardState;
import dev.trestle.engine.model.ModelConfig;
import dev.trestle.engine.model.RunSettings;
import dev.trestle.engine.model.Trace;
import dev.trestle.engine.model.UBatch;
import dev.trestle.backends.vulkan.VulkanDevice;
import dev.trestle.backends.cuda.CudaBackend;
import dev.trestle.engine.model.CudaLayers;
import dev.trestle.engine.model.LayerExecutor;
import dev.trestle.engine.model.VulkanLayers;
import dev.trestle.scheduler.device.DeviceKind;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * An inference context: the KV cache ({@code n_ctx} cells shared by up to {@code n_seq} sequences), the CPU
 * backend's threads and the forward buffers. Not thread-safe: one caller decodes at a time.
 */
public final class Context implements AutoCloseable {
    private final Model model;
    private final DecoderModel impl;
    private final ModelConfig cfg;
    private final EngineOptions options;
    private final int nCtx;
    private final KvCache kv;
    private final CpuBackend backend;
    private final ForwardState state;
    private final RunSettings settings;
    private final int[] ubTokens;  // (n_ubatch)
    private final int[] ubPos;     // (n_ubatch)
    private final int[] ubSeq;     // (n_ubatch)
    private final int[] ubCells;   // (n_ubatch)
    private float[] logits = new float[0];   // (n_outputs, n_vocab)
    private float[] hidden = new float[0];   // (batch size, n_embd) final normed hidden states
    private int[] outputRow = new int[0];    // batch index -> logits row or -1
    private int[] batchSeq = new int[0];     // batch index -> sequence of the last decode
    private int lastBatchSize;

    private final List<LayerExecutor> gpu = new ArrayList<>(); // executors of the GPU-resident layers
    private final List<AutoCloseable> gpuDevices = new ArrayList<>(); // the devices they run on

    Context(Model model, EngineOptions options) {
        this(model, options, Offload.none());
    }

    Context(Model model, EngineOptions options, Offload offload) {
        this.model = model;
        this.impl = model.impl();
        this.cfg = model.config();
        this.options = options;
        if (options.nCtx() < 0) {
            throw new TrestleException("-c must be >= 0 (0 = the model's context length), got " + options.nCtx(),
                    "pass e.g. -c 4096");
        }
        this.nCtx = options.nCtx() == 0 ? cfg.nCtxTrain() : options.nCtx();
        if (options.nSeqMax() < 1 || options.nSeqMax() > nCtx) {
            throw new TrestleException("-np must be between 1 and the context size, got " + options.nSeqMax(),
                    "pass -np 1");
        }
        if (options.nUbatch() < 1 || options.nBatch() < 1) {
            throw new TrestleException("-b and -ub must be positive", "pass -b 2048 -ub 512");
        }
        if (options.threads() < 1) {
            throw new TrestleException("-t must be positive, got " + options.threads(), "omit -t to use all cores");
        }
        int ub = Math.min(Math.min(options.nUbatch(), options.nBatch()), nCtx);
        boolean flash = options.flashAttn().resolve();
        for (GgmlType t : new GgmlType[] {options.kType(), options.vType()}) {
            if (cfg.headDim() % t.blockSize() != 0) {
                throw new TrestleException("KV cache type " + t.llamaName() + " needs a head size that is a multiple of "
                        + t.blockSize() + "; this model's is " + cfg.headDim(), "use -ctk f16 -ctv f16");
            }
        }
        long kvBytes = (long) cfg.nLayer() * nCtx
                * (options.kType().bytesFor(cfg.kvDim()) + options.vType().bytesFor(cfg.kvDim()));
        try {
            this.kv = new KvCache(cfg.nLayer(), nCtx, cfg.kvDim(), options.kType(), options.vType());
        } catch (OutOfMemoryError | IllegalArgumentException e) {
            throw new TrestleException(String.format("the KV cache for -c %d needs %.2f GiB, which could not be allocated",
                    nCtx, kvBytes / (1024.0 * 1024 * 1024)), "lower -c, or quantize the cache with -ctk q8_0 -ctv q8_0");
        }
        dev.trestle.backends.cpu.Attention[] attention;
        try {
            attention = impl.attentionKernels(kv, flash, options.threads());
        } catch (RuntimeException e) {
            kv.close();
            throw e;
        }
        this.backend = new CpuBackend(options.threads());
        this.state = new ForwardState(cfg, ub, nCtx, backend.pool(), attention);
        this.settings = new RunSettings(backend.pool(), flash, nCtx / options.nSeqMax());
        bindGpu(offload, ub, flash);
        ubTokens = new int[ub];
        ubPos = new int[ub];
        ubSeq = new int[ub];
        ubCells = new int[ub];
    }

    /** Opens one device (Vulkan or CUDA) per logical GPU that holds layers and uploads those layers to it. */
    private void bindGpu(Offload offload, int ub, boolean flash) {
        if (offload.isCpuOnly()) {
            return;
        }
        LayerExecutor[] perLayer = new LayerExecutor[cfg.nLayer()];
        try {
            // -sm row: every logical GPU with a share holds slices of the main GPU's projections
            CudaLayers.RowSplit rows = null;
            if (offload.isRowSplit()) {
                int main = offload.outputDevice();
                for (int il = 0; il < cfg.nLayer() && main < 0; il++) {
                    main = offload.device(il);
                }
                CudaBackend[] backends = new CudaBackend[offload.vulkanDevices().length];
                for (int d = 0; d < backends.length; d++) {
                    if (d == main || offload.rowSplit()[d] > 0) {
                        backends[d] = CudaBackend.open(offload.vulkanDevices()[d]);
                        gpuDevices.add(backends[d]);
                    }
                }
                rows = new CudaLayers.RowSplit(backends, offload.rowSplit(), main);
            }
            for (int d = 0; d < offload.vulkanDevices().length; d++) {
                boolean[] mine = new boolean[cfg.nLayer()];
                boolean[] cpuExperts = new boolean[cfg.nLayer()];
                boolean any = false;
                for (int il = 0; il < cfg.nLayer(); il++) {
                    mine[il] = offload.device(il) == d;
                    cpuExperts[il] = offload.cpuExperts(il);
                    any |= mine[il];
                }
                boolean output = offload.outputDevice() == d;
                if (!any && !output) {
                    continue;
                }
                LayerExecutor g;
                if (offload.kinds()[d] == DeviceKind.CUDA) {
                    CudaBackend dev = rows != null ? rows.backends()[d] : CudaBackend.open(offload.vulkanDevices()[d]);
                    if (rows == null) {
                        gpuDevices.add(dev);
                    }
                    g = new CudaLayers(impl, dev, mine, cpuExperts, ub, nCtx, options.kType(), options.vType(),
                            nCtx / options.nSeqMax(), flash, rows, offload.streamExpertsFrom());
                } else {
                    VulkanDevice dev = VulkanDevice.open(offload.vulkanDevices()[d]);
                    gpuDevices.add(dev);
                    g = new VulkanLayers(impl, dev, mine, cpuExperts, ub, nCtx, options.kType(), options.vType(),
                            nCtx / options.nSeqMax());
                }
                gpu.add(g);
                if (output) {
                    g.holdOutputHead();
                    state.bindOutput(g);
                }
                for (int il = 0; il < cfg.nLayer(); il++) {
                    if (mine[il]) {
                        perLayer[il] = gpu.get(gpu.size() - 1);
                    }
                }
            }
        } catch (RuntimeException ex) {
            closeGpu();
            throw ex;
        }
        state.bindGpu(perLayer);
    }

    /** The executors of the GPU-resident layers (for tests and reports). */
    public List<LayerExecutor> gpuExecutors() {
        return List.copyOf(gpu);
    }

    private void closeGpu() {
        for (LayerExecutor g : gpu) {
            g.close();
        }
        gpu.clear();
        for (AutoCloseable d : gpuDevices) {
            try {
                d.close();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
        gpuDevices.clear();
    }

    public Model model() {
        return model;
    }

    /** KV cells (the resolved {@code -c}). */
    public int nCtx() {
        return nCtx;
    }

    public EngineOptions options() {
        return options;
    }

    /** Cells in use. */
    public int kvUsed() {
        return kv.used();
    }

    /**
     * Decodes a batch: every entry's K/V goes into the cache, and logits are computed for entries that asked.
     * Entries are processed in micro-batches of {@code -ub}. Fails (cache unchanged for the failing
     * micro-batch) when a token id is out of range or the cache is full.
     */
    public void decode(Batch batch) {
        int n = batch.size();
        if (n == 0) {
            throw new TrestleException("empty batch", "pass at least one token");
        }
        int nOut = 0;
        for (int i = 0; i < n; i++) {
            int tok = batch.token(i);
            if (tok < 0 || tok >= cfg.nVocab()) {
                throw new TrestleException("token id " + tok + " is out of range (vocabulary size " + cfg.nVocab() + ")",
                        "pass token ids below " + cfg.nVocab());
            }
            if (batch.seq(i) < 0 || batch.seq(i) >= options.nSeqMax()) {
                throw new TrestleException("sequence id " + batch.seq(i) + " is out of range (-np " + options.nSeqMax()
                        + ")", "raise -np");
            }
            if (batch.pos(i) < 0) {
                throw new TrestleException("negative position " + batch.pos(i), "positions start at 0");
            }
            if (batch.wantsLogits(i)) {
                nOut++;
            }
        }
        int free = nCtx - kv.used();
        if (n > free) {
            throw new TrestleException("the context is full: " + n + " new tokens, " + free + " of " + nCtx
                    + " cells free", "raise -c (context size) or shorten the prompt");
        }
        int e = cfg.nEmbd();
        if (logits.length < nOut * cfg.nVocab()) {
            logits = new float[nOut * cfg.nVocab()];
        }
        if (hidden.length < n * e) {
            hidden = new float[n * e];
            outputRow = new int[n];
            batchSeq = new int[n];
        }
        int out = 0;
        int ubSize = ubTokens.length;
        for (int start = 0; start < n; start += ubSize) {
            int m = Math.min(ubSize, n - start);
            for (int i = 0; i < m; i++) {
                int b = start + i;
                ubTokens[i] = batch.token(b);
                ubPos[i] = batch.pos(b);
                ubSeq[i] = batch.seq(b);
                int existing = kv.find(ubSeq[i], ubPos[i]);
                if (existing >= 0) {
                    kv.remove(ubSeq[i], ubPos[i]); // overwriting a position drops it and everything after
                }
                ubCells[i] = kv.claim(ubSeq[i], ubPos[i]);
                batchSeq[b] = ubSeq[i];
            }
            impl.forward(new UBatch(m, ubTokens, ubPos, ubSeq, ubCells), state, kv, settings);
            System.arraycopy(state.hidden(), 0, hidden, start * e, m * e);
            // logits of the rows that asked for them
            int rows = 0;
            for (int i = 0; i < m; i++) {
                if (batch.wantsLogits(start + i)) {
                    System.arraycopy(state.hidden(), i * e, state.hidden(), rows * e, e);
                    outputRow[start + i] = out + rows;
                    rows++;
                } else {
                    outputRow[start + i] = -1;
                }
            }
            if (rows > 0) {
                float[] part = rows == nOut && out == 0 ? logits : new float[rows * cfg.nVocab()];
                impl.logits(state.hidden(), rows, part, state);
                if (part != logits) {
                    System.arraycopy(part, 0, logits, out * cfg.nVocab(), rows * cfg.nVocab());
                }
                out += rows;
            }
        }
        lastBatchSize = n;
    }

    /** Index of the last entry of the last decode (where a prompt's next-token logits are). */
    public int lastOutputIndex() {
        return lastBatchSize - 1;
    }

    /** Logits of batch entry {@code i} of the last decode (it must have asked for logits); a view, copy to keep. */
    public float[] logits(int i) {
        if (i < 0 || i >= lastBatchSize || outputRow[i] < 0) {
            throw new IllegalArgumentException("batch entry " + i + " has no logits");
        }
        return Arrays.copyOfRange(logits, outputRow[i] * cfg.nVocab(), (outputRow[i] + 1) * cfg.nVocab());
    }

    /**
     * The pooled, L2-normalized embedding of sequence {@code seq} over the entries of the last decode, by the
     * model's {@code pooling_type} (mean, cls = first, last; unspecified = last).
     */
    public float[] embedding(int seq) {
        int e = cfg.nEmbd();
        float[] acc = new float[e];
        int count = 0;
        int first = -1;
        int last = -1;
        for (int i = 0; i < lastBatchSize; i++) {
            if (batchSeq[i] == seq) {
                if (first < 0) {
                    first = i;
                }
                last = i;
                for (int j = 0; j < e; j++) {
                    acc[j] += hidden[i * e + j];
                }
                count++;
            }
        }
        if (count == 0) {
            throw new IllegalArgumentException("sequence " + seq + " was not in the last batch");
        }
        float[] v = new float[e];
        switch (cfg.poolingType()) {
            case 1 -> {
                for (int j = 0; j < e; j++) {
                    v[j] = acc[j] / count;
                }
            }
            case 2 -> System.arraycopy(hidden, first * e, v, 0, e);
            default -> System.arraycopy(hidden, last * e, v, 0, e);
        }
        double norm = 0;
        for (float x : v) {
            norm += x * x;
        }
        float inv = norm > 0 ? (float) (1.0 / Math.sqrt(norm)) : 0f;
        for (int j = 0; j < e; j++) {
            v[j] *= inv;
        }
        return v;
    }

    /** Sends the named intermediate tensors of every following decode to {@code trace} (null: stop). */
    public void setTrace(Trace trace) {
        state.setTrace(trace);
    }

    /** Removes positions {@code >= fromPos} of {@code seq} from the cache (prompt-cache reuse). */
    public void seqRemove(int seq, int fromPos) {
        kv.remove(seq, fromPos);
    }

    /** Removes every cell of {@code seq}. */
    public void seqClear(int seq) {
        kv.clear(seq);
    }

    /** Next free position of {@code seq} (its largest position plus one). */
    public int seqNextPos(int seq) {
        return kv.maxPos(seq) + 1;
    }

    @Override
    public void close() {
        state.bindGpu(null);
        closeGpu();
        backend.close();
        kv.close();
    }
}
