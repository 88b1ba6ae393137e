package dev.trestle.engine.runtime;

import dev.trestle.common.TrestleException;
import dev.trestle.scheduler.device.Device;
import dev.trestle.scheduler.device.DeviceKind;
import dev.trestle.scheduler.plan.Plan;
import dev.trestle.scheduler.plan.Home;
import dev.trestle.scheduler.profile.TensorProfile;
import dev.trestle.scheduler.profile.TensorRole;
import java.util.Arrays;
import java.util.List;

/**
 * Where a context runs each layer: {@code layerDevice[il]} is -1 for the CPU or an index into
 * {@code vulkanDevices}, the devices to open (one logical device per entry, so the same physical device
 * listed twice stands in for two GPUs, as the lavapipe tests and scripts/gpu-check.sh do).
 *
 * @param layerDevice   (n_layer) -1 or index into vulkanDevices
 * @param vulkanDevices index of each logical GPU among the devices of its kind (Vulkan physical device index,
 *                      or CUDA device ordinal; see {@code kinds})
 * @param cpuExperts    (n_layer) true where the layer's expert FFN stays in host RAM and runs on the CPU
 *                      ({@code --n-cpu-moe N}: the first N layers; {@code --cpu-moe}: all; {@code -ot exps=CPU})
 * @param outputDevice  device of the output head (index into vulkanDevices), -1 = CPU
 * @param kinds         the backend of each logical GPU (VULKAN or CUDA)
 * @param rowSplit      {@code -sm row}: each logical GPU's share of every projection's rows (summing to 1; the
 *                      layers themselves, KV cache and attention live on the main GPU, {@code layerDevice}); empty
 *                      for the layer split. See {@code RowSlices} for the cut.
 * @param streamExpertsFrom micro-batches of at least this many tokens copy a layer's host-resident experts to its
 *                      CUDA GPU and run them there instead of on the CPU ({@code Plan.streamExpertsFromTokens});
 *                      {@link Integer#MAX_VALUE}: never
 */
public record Offload(int[] layerDevice, int[] vulkanDevices, boolean[] cpuExperts, int outputDevice,
                      DeviceKind[] kinds, double[] rowSplit, int streamExpertsFrom) {
    public Offload(int[] layerDevice, int[] vulkanDevices) {
        this(layerDevice, vulkanDevices, new boolean[layerDevice.length], -1);
    }

    /** Homes on Vulkan devices. */
    public Offload(int[] layerDevice, int[] vulkanDevices, boolean[] cpuExperts, int outputDevice) {
        this(layerDevice, vulkanDevices, cpuExperts, outputDevice, kindsOf(DeviceKind.VULKAN, vulkanDevices.length));
    }

    /** Layer split (no row split). */
    public Offload(int[] layerDevice, int[] vulkanDevices, boolean[] cpuExperts, int outputDevice,
                   DeviceKind[] kinds) {
        this(layerDevice, vulkanDevices, cpuExperts, outputDevice, kinds, new double[0], Integer.MAX_VALUE);
    }

    /** Without expert streaming. */
    public Offload(int[] layerDevice, int[] vulkanDevices, boolean[] cpuExperts, int outputDevice,
                   DeviceKind[] kinds, double[] rowSplit) {
        this(layerDevice, vulkanDevices, cpuExperts, outputDevice, kinds, rowSplit, Integer.MAX_VALUE);
    }

    /** The same homes, streaming host-resident experts for micro-batches of {@code tokens}+ tokens. */
    public Offload withStreamExpertsFrom(int tokens) {
        return new Offload(layerDevice, vulkanDevices, cpuExperts, outputDevice, kinds, rowSplit, tokens);
    }

    public Offload {
        layerDevice = layerDevice.clone();
        vulkanDevices = vulkanDevices.clone();
        cpuExperts = cpuExperts.clone();
        kinds = kinds.clone();
        rowSplit = rowSplit.clone();
        if (kinds.length != vulkanDevices.length) {
            throw new IllegalArgumentException(kinds.length + " kinds for " + vulkanDevices.length + " devices");
        }
        if (rowSplit.length != 0 && rowSplit.length != vulkanDevices.length) {
            throw new IllegalArgumentException(rowSplit.length + " row shares for " + vulkanDevices.length + " devices");
        }
        for (int i = 0; i < rowSplit.length; i++) {
            if (kinds[i] != DeviceKind.CUDA) {
                throw new TrestleException("-sm row needs CUDA devices; logical GPU " + i + " is " + kinds[i],
                        "use -sm layer (the default)");
            }
        }
        for (int d : java.util.stream.IntStream.concat(Arrays.stream(layerDevice), java.util.stream.IntStream.of(outputDevice))
                .toArray()) {
            if (d < -1 || d >= vulkanDevices.length) {
                throw new IllegalArgumentException("layer device " + d + " of " + vulkanDevices.length);
            }
        }
    }

    private static DeviceKind[] kindsOf(DeviceKind k, int n) {
        DeviceKind[] a = new DeviceKind[n];
        Arrays.fill(a, k);
        return a;
    }

    /** The same homes on devices of {@code kind} (CUDA ordinals instead of Vulkan indices, for tests). */
    public Offload on(DeviceKind kind) {
        return new Offload(layerDevice, vulkanDevices, cpuExperts, outputDevice, kindsOf(kind, vulkanDevices.length),
                rowSplit, streamExpertsFrom);
    }

    /** True for {@code -sm row} over more than one logical GPU. */
    public boolean isRowSplit() {
        return rowSplit.length > 1;
    }

    /**
     * llama.cpp's row split ({@code -sm row}) on CUDA: the last {@code ngl} layers (and the output head when
     * {@code ngl > nLayer}) live on {@code cudaDevices[mainGpu]}, and each of their projections is cut by rows
     * across all the devices in {@code split} proportions (null: equal).
     */
    public static Offload rows(int nLayer, int ngl, int[] cudaDevices, double[] split, int mainGpu) {
        int g = cudaDevices.length;
        int[] dev = new int[nLayer];
        Arrays.fill(dev, -1);
        for (int il = Math.max(0, nLayer - ngl); il < nLayer; il++) {
            dev[il] = mainGpu;
        }
        double[] s = new double[g];
        double total = 0;
        for (int i = 0; i < g; i++) {
            s[i] = split == null || split.length == 0 ? 1.0 : i < split.length ? split[i] : 0;
            total += s[i];
        }
        for (int i = 0; i < g; i++) {
            s[i] /= total;
        }
        return new Offload(dev, cudaDevices, new boolean[nLayer], ngl > nLayer ? mainGpu : -1,
                kindsOf(DeviceKind.CUDA, g), s);
    }

    /** Everything on the CPU. */
    public static Offload none() {
        return new Offload(new int[0], new int[0], new boolean[0], -1);
    }

    /** True when no layer runs on a GPU. */
    public boolean isCpuOnly() {
        if (outputDevice >= 0) {
            return false;
        }
        for (int d : layerDevice) {
            if (d >= 0) {
                return false;
            }
        }
        return true;
    }

    /** True when layer {@code il}'s expert FFN runs on the CPU. */
    public boolean cpuExperts(int il) {
        return il < cpuExperts.length && cpuExperts[il];
    }

    /** The layer split of {@code -ngl}, the output head included (the test suites' shorthand for plans). */
    public static Offload layers(int nLayer, int ngl, int[] vulkanDevices) {
        return layers(nLayer, ngl, vulkanDevices, null, 0);
    }

    /** The device of layer {@code il} (-1 = CPU). */
    public int device(int il) {
        return il < layerDevice.length ? layerDevice[il] : -1;
    }

    /**
     * llama.cpp's layer split: the last {@code ngl} of {@code nLayer} layers go to the GPUs in {@code split}
     * proportions (null: equal), consecutive layers per GPU, in order.
     */
    public static Offload layers(int nLayer, int ngl, int[] vulkanDevices, double[] split) {
        return layers(nLayer, ngl, vulkanDevices, split, 0);
    }

    /** {@link #layers(int, int, int[], double[])} with the experts of the first {@code nCpuMoe} layers on the CPU. */
    public static Offload layers(int nLayer, int ngl, int[] vulkanDevices, double[] split, int nCpuMoe) {
        int[] dev = new int[nLayer];
        Arrays.fill(dev, -1);
        boolean[] cpuExperts = new boolean[nLayer];
        for (int il = 0; il < Math.min(nCpuMoe, nLayer); il++) {
            cpuExperts[il] = true;
        }
        int g = vulkanDevices.length;
        if (g == 0 || ngl <= 0) {
            return new Offload(dev, vulkanDevices, cpuExperts, -1);
        }
        double[] s = split != null && split.length > 0 ? split : new double[g];
        if (split == null || split.length == 0) {
            Arrays.fill(s, 1.0);
        }
        double total = 0;
        for (int i = 0; i < g; i++) {
            total += i < s.length ? s[i] : 0;
        }
        int n = Math.min(ngl, nLayer);
        int first = nLayer - n;
        double acc = 0;
        int[] end = new int[g];
        for (int i = 0; i < g; i++) {
            acc += i < s.length ? s[i] : 0;
            end[i] = (int) Math.round(n * acc / total);
        }
        for (int i = 0; i < n; i++) {
            int d = 0;
            while (d < g - 1 && i >= end[d]) {
                d++;
            }
            dev[first + i] = d;
        }
        // as in llama.cpp, -ngl above the layer count also moves the output head (to the last layer's GPU)
        return new Offload(dev, vulkanDevices, cpuExperts, ngl > nLayer ? dev[nLayer - 1] : -1);
    }

    /**
     * The homes of a scheduler plan. Plans put layers on inventory GPUs; each maps to its backend (Vulkan or CUDA)
     * and its index among that backend's devices. Expert tensors the plan keeps in host RAM ({@code --n-cpu-moe},
     * {@code --cpu-moe}, {@code -ot exps=CPU}) run on the CPU. Fails, naming the tensor, where the plan asks for
     * what the engine cannot run yet: row split, or a non-expert tensor (or experts) away from its layer's device.
     */
    public static Offload fromPlan(Plan plan, int nLayer) {
        int gpus = plan.inventory().gpus().size();
        int[] idx = new int[gpus];
        DeviceKind[] kinds = new DeviceKind[gpus];
        int[] dev = new int[nLayer];
        boolean[] cpuExperts = new boolean[nLayer];
        for (int i = 0; i < gpus; i++) {
            Device d = plan.gpu(i);
            idx[i] = d.index();
            kinds[i] = d.kind();
        }
        for (int il = 0; il < nLayer; il++) {
            int g = plan.layerGpu(il);
            if (g >= 0 && kinds[g] != DeviceKind.VULKAN && kinds[g] != DeviceKind.CUDA) {
                throw new TrestleException("layer " + il + " is planned on " + plan.gpu(g).id()
                        + ", which no engine executor drives", "pass -ngl 0");
            }
            dev[il] = g;
        }
        List<TensorProfile> tensors = plan.model().tensors();
        boolean rowSplit = false;
        for (int i = 0; i < tensors.size(); i++) {
            TensorProfile t = tensors.get(i);
            Home h = plan.home(i);
            rowSplit |= h.rowSplit();
            if (!t.inLayer() || t.layer() >= nLayer) {
                continue;
            }
            int layerGpu = dev[t.layer()];
            if (t.role() == TensorRole.FFN_EXPERT && h.isCpu()) {
                cpuExperts[t.layer()] = true;
            } else if (h.gpu() != layerGpu) {
                throw new TrestleException(t.name() + " is placed on " + (h.isCpu() ? "CPU" : plan.gpu(h.gpu()).id())
                        + " but its layer runs on " + (layerGpu < 0 ? "CPU" : plan.gpu(layerGpu).id())
                        + "; the engine runs a layer's tensors where the layer runs (experts may stay on the CPU)",
                        "limit -ot to expert tensors (e.g. -ot 'exps=CPU'), or move whole layers with -ngl/-ts");
            }
        }
        boolean cuda = true;
        for (DeviceKind k : kinds) {
            cuda &= k == DeviceKind.CUDA;
        }
        return new Offload(dev, idx, cpuExperts, plan.outputGpu(), kinds,
                rowSplit ? plan.layout().split() : new double[0],
                cuda ? plan.streamExpertsFromTokens() : Integer.MAX_VALUE);
    }
}
