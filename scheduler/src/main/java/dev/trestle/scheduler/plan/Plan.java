package dev.trestle.scheduler.plan;

import dev.trestle.scheduler.device.Device;
import dev.trestle.scheduler.device.Inventory;
import dev.trestle.scheduler.profile.ModelProfile;
import dev.trestle.scheduler.profile.TensorProfile;
import java.util.List;

/**
 * A complete placement: the home of every tensor and KV layer, the memory budget of every device,
 * and the bytes each memory serves per generated token. Immutable; built by {@link Planner}.
 */
public final class Plan {
    private final ModelProfile model;
    private final Inventory inventory;
    private final PlacementRequest request;
    private final Layout layout;
    private final List<Home> homes;          // (n_tensors) parallel to model.tensors()
    private final long[][] rowShares;        // (n_tensors)(n_gpu) bytes per GPU of a row-split tensor, else null
    private final int[] layerGpu;            // (n_layer) GPU index of each layer's KV and compute, -1 = CPU
    private final int outputGpu;
    private final List<DeviceBudget> gpuBudgets;
    private final HostBudget host;
    private final List<Traffic> traffic;
    private final List<String> notes;
    private final boolean fitted;

    Plan(ModelProfile model, Inventory inventory, PlacementRequest request, Layout layout, List<Home> homes,
         long[][] rowShares, int[] layerGpu, int outputGpu, List<DeviceBudget> gpuBudgets, HostBudget host,
         List<Traffic> traffic, List<String> notes, boolean fitted) {
        this.model = model;
        this.inventory = inventory;
        this.request = request;
        this.layout = layout;
        this.homes = List.copyOf(homes);
        this.rowShares = rowShares;
        this.layerGpu = layerGpu.clone();
        this.outputGpu = outputGpu;
        this.gpuBudgets = List.copyOf(gpuBudgets);
        this.host = host;
        this.traffic = List.copyOf(traffic);
        this.notes = List.copyOf(notes);
        this.fitted = fitted;
    }

    Plan withNotes(List<String> more, boolean fit) {
        List<String> all = new java.util.ArrayList<>(notes);
        all.addAll(more);
        return new Plan(model, inventory, request, layout, homes, rowShares, layerGpu, outputGpu, gpuBudgets, host,
                traffic, all, fit);
    }

    public ModelProfile model() {
        return model;
    }

    public Inventory inventory() {
        return inventory;
    }

    public PlacementRequest request() {
        return request;
    }

    /** The knobs this plan uses (chosen by --fit or given). */
    public Layout layout() {
        return layout;
    }

    /** True when --fit chose the layout. */
    public boolean fitted() {
        return fitted;
    }

    /** Home of tensor {@code i} of {@code model().tensors()}. */
    public Home home(int i) {
        return homes.get(i);
    }

    /** Home of the named tensor. */
    public Home home(String tensorName) {
        List<TensorProfile> ts = model.tensors();
        for (int i = 0; i < ts.size(); i++) {
            if (ts.get(i).name().equals(tensorName)) {
                return homes.get(i);
            }
        }
        throw new IllegalArgumentException("no tensor " + tensorName);
    }

    /** Bytes of a row-split tensor on each GPU, or null when it is not split. */
    public long[] rowShare(String tensorName) {
        List<TensorProfile> ts = model.tensors();
        for (int i = 0; i < ts.size(); i++) {
            if (ts.get(i).name().equals(tensorName)) {
                return rowShares[i] == null ? null : rowShares[i].clone();
            }
        }
        throw new IllegalArgumentException("no tensor " + tensorName);
    }

    /** GPU of layer {@code il} (its KV cache and non-expert compute), -1 for the CPU. */
    public int layerGpu(int il) {
        return layerGpu[il];
    }

    /** GPU of the output head, -1 for the CPU. */
    public int outputGpu() {
        return outputGpu;
    }

    public List<DeviceBudget> gpuBudgets() {
        return gpuBudgets;
    }

    public HostBudget host() {
        return host;
    }

    public List<Traffic> traffic() {
        return traffic;
    }

    /** Decisions and warnings worth printing (what --fit chose, context shrunk, ignored flags). */
    public List<String> notes() {
        return notes;
    }

    /** True when every device and the host fit. */
    public boolean fits() {
        for (DeviceBudget b : gpuBudgets) {
            if (!b.fits()) {
                return false;
            }
        }
        return host.fits();
    }

    /** Sum of shortfalls over all memories. */
    long totalShortfall() {
        long s = host.shortfall();
        for (DeviceBudget b : gpuBudgets) {
            s += b.shortfall();
        }
        return s;
    }

    /** Bytes in VRAM over all GPUs, margins excluded. */
    public long vramUsed() {
        long s = 0;
        for (DeviceBudget b : gpuBudgets) {
            s += b.used();
        }
        return s;
    }

    /** KV cache bytes over all memories. */
    public long kvTotal() {
        long s = host.kv();
        for (DeviceBudget b : gpuBudgets) {
            s += b.kv();
        }
        return s;
    }

    /**
     * Upper bound on generated tokens per second from memory bandwidth alone: each token reads its
     * bytes from every memory in turn (layers run one after another); row slices are read in parallel.
     * 0 when a memory with traffic has no known bandwidth.
     *
     * @param fullContext include reading the whole KV cache (a full context) or not (an empty one)
     */
    public double tokensPerSecondCeiling(boolean fullContext) {
        double seconds = 0;
        double parallel = 0;
        for (Traffic t : traffic) {
            long bytes = t.weightBytes() - t.rowSplitBytes() + (fullContext ? t.kvBytesFullCtx() : 0);
            if (bytes + t.rowSplitBytes() == 0) {
                continue;
            }
            if (t.bandwidth() <= 0) {
                return 0;
            }
            seconds += bytes / t.bandwidth();
            parallel = Math.max(parallel, t.rowSplitBytes() / t.bandwidth());
        }
        seconds += parallel;
        return seconds == 0 ? 0 : 1 / seconds;
    }

    /** The flags that reproduce this placement, e.g. "-ngl 49 --n-cpu-moe 30 -ts 61,39 -c 32768". */
    public String flags() {
        StringBuilder sb = new StringBuilder();
        int nGpu = inventory.gpus().size();
        sb.append("-ngl ").append(nGpu == 0 ? 0 : layout.gpuLayers());
        if (layout.nCpuMoe() > 0 && model.isMoe()) {
            sb.append(layout.nCpuMoe() >= model.nLayer() ? " --cpu-moe" : " --n-cpu-moe " + layout.nCpuMoe());
        }
        if (nGpu > 1 && request.splitMode() != SplitMode.NONE) {
            sb.append(" -ts ").append(TensorSplit.percent(layout.split()));
        }
        if (request.splitMode() != SplitMode.LAYER) {
            sb.append(" -sm ").append(request.splitMode());
        }
        sb.append(" -c ").append(layout.context().nCtx());
        return sb.toString();
    }

    /**
     * The smallest micro-batch from which prefill streams the host-resident experts of a layer to the main GPU
     * instead of running them on the CPU ({@link ExpertStreaming}, for the layer with the most expert bytes in
     * host RAM); {@link Integer#MAX_VALUE} when no experts stay in host RAM, there is no GPU, or streaming never
     * pays. Bandwidths: {@code --bandwidth cpu=..., pcie=..., cuda0=...} or the assumptions of the report.
     */
    public int streamExpertsFromTokens() {
        if (inventory.gpus().isEmpty() || !model.isMoe()) {
            return Integer.MAX_VALUE;
        }
        int worst = -1;
        long worstBytes = 0;
        List<TensorProfile> ts = model.tensors();
        long[] cpuExpertBytes = new long[model.nLayer()];
        for (int i = 0; i < ts.size(); i++) {
            TensorProfile t = ts.get(i);
            if (t.role() == dev.trestle.scheduler.profile.TensorRole.FFN_EXPERT && t.inLayer() && homes.get(i).isCpu()) {
                cpuExpertBytes[t.layer()] += t.bytes();
                if (cpuExpertBytes[t.layer()] > worstBytes) {
                    worstBytes = cpuExpertBytes[t.layer()];
                    worst = t.layer();
                }
            }
        }
        if (worst < 0) {
            return Integer.MAX_VALUE;
        }
        int main = request.mainGpu();
        double cpuBw = bandwidthOf(0);
        double gpuBw = bandwidthOf(main + 1);
        Double bus = request.bandwidths().get("pcie");
        int threads = Runtime.getRuntime().availableProcessors();
        ExpertStreaming cost = ExpertStreaming.forLayer(model.tensorsOf(worst), model.nExpertUsed(), cpuBw,
                threads * ExpertStreaming.CPU_FLOPS_PER_THREAD, bus != null ? bus : ExpertStreaming.BUS_ASSUMED,
                gpuBw > 0 ? gpuBw : 10 * cpuBw);
        return cost.fromTokens();
    }

    private double bandwidthOf(int memory) {
        return memory < traffic.size() ? traffic.get(memory).bandwidth() : 0;
    }

    /** The device a GPU index refers to. */
    public Device gpu(int index) {
        return inventory.gpus().get(index);
    }
}
