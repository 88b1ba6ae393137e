package dev.trestle.engine.runtime;

import dev.trestle.common.TrestleException;
import dev.trestle.scheduler.device.Device;
import dev.trestle.scheduler.device.DeviceKind;
import dev.trestle.scheduler.plan.Plan;
import dev.trestle.scheduler.profile.TensorProfile;
import dev.trestle.scheduler.profile.TensorRole;
import java.util.Arrays;
import java.util.List;

/**
 * Where a context runs each layer: {@code layerDevice[il]} is -1 for the CPU or an index into
 * {@code vulkanDevices}, the devices to open (one logical device per entry, so the same physical device listed
 * twice stands in for two GPUs, as the lavapipe tests and scripts/gpu-check.sh do).
 *
 * @param layerDevice   (n_layer) -1 or index into vulkanDevices
 * @param vulkanDevices index of each logical GPU among the devices of its kind (Vulkan physical device index,
 *                      or CUDA device ordinal)
 * @param kinds         the backend of each logical GPU (VULKAN or CUDA)
 * @param cpuExperts    (n_layer, or empty = none) true where a GPU layer's expert FFN stays in host RAM and
 *                      runs on the CPU ({@code --n-cpu-moe}, {@code -ot exps=CPU}); the Vulkan executor keeps
 *                      every layer's experts on the CPU
 */
public record Offload(int[] layerDevice, int[] vulkanDevices, DeviceKind[] kinds, boolean[] cpuExperts) {
    public Offload {
        layerDevice = layerDevice.clone();
        vulkanDevices = vulkanDevices.clone();
        kinds = kinds.clone();
        cpuExperts = cpuExperts.clone();
        if (kinds.length != vulkanDevices.length) {
            throw new IllegalArgumentException(kinds.length + " kinds for " + vulkanDevices.length + " devices");
        }
        for (int d : layerDevice) {
            if (d < -1 || d >= vulkanDevices.length) {
                throw new IllegalArgumentException("layer device " + d + " of " + vulkanDevices.length);
            }
        }
    }

    /** Layers on Vulkan devices only. */
    public Offload(int[] layerDevice, int[] vulkanDevices) {
        this(layerDevice, vulkanDevices, kindsOf(DeviceKind.VULKAN, vulkanDevices.length), new boolean[0]);
    }

    /** Layers on devices of the given kinds, experts with their layers. */
    public Offload(int[] layerDevice, int[] vulkanDevices, DeviceKind[] kinds) {
        this(layerDevice, vulkanDevices, kinds, new boolean[0]);
    }

    /** True when layer {@code il}'s expert FFN runs on the CPU although the layer is on a GPU. */
    public boolean cpuExperts(int il) {
        return il < cpuExperts.length && cpuExperts[il];
    }

    /** The same homes with the expert FFN of layers {@code cpuExperts[il]} on the CPU. */
    public Offload withCpuExperts(boolean[] cpuExperts) {
        return new Offload(layerDevice, vulkanDevices, kinds, cpuExperts);
    }

    private static DeviceKind[] kindsOf(DeviceKind k, int n) {
        DeviceKind[] a = new DeviceKind[n];
        Arrays.fill(a, k);
        return a;
    }

    /** The same layer homes on devices of {@code kind} (e.g. CUDA ordinals instead of Vulkan indices). */
    public Offload on(DeviceKind kind) {
        return new Offload(layerDevice, vulkanDevices, kindsOf(kind, vulkanDevices.length), cpuExperts);
    }

    /** Everything on the CPU. */
    public static Offload none() {
        return new Offload(new int[0], new int[0]);
    }

    /** True when no layer runs on a GPU. */
    public boolean isCpuOnly() {
        for (int d : layerDevice) {
            if (d >= 0) {
                return false;
            }
        }
        return true;
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
        int[] dev = new int[nLayer];
        Arrays.fill(dev, -1);
        int g = vulkanDevices.length;
        if (g == 0 || ngl <= 0) {
            return new Offload(dev, vulkanDevices);
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
        return new Offload(dev, vulkanDevices);
    }

    /**
     * The layer homes of a scheduler plan. Plans put layers on inventory GPUs; each maps to its backend (Vulkan
     * or CUDA) and its index among that backend's devices.
     */
    public static Offload fromPlan(Plan plan, int nLayer) {
        int gpus = plan.inventory().gpus().size();
        int[] idx = new int[gpus];
        DeviceKind[] kinds = new DeviceKind[gpus];
        int[] dev = new int[nLayer];
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
        // experts the plan leaves in host RAM (--n-cpu-moe, --cpu-moe, -ot) run on the CPU
        boolean[] cpuExp = new boolean[nLayer];
        List<TensorProfile> ts = plan.model().tensors();
        for (int i = 0; i < ts.size(); i++) {
            TensorProfile t = ts.get(i);
            if (t.role() == TensorRole.FFN_EXPERT && t.layer() >= 0 && t.layer() < nLayer && plan.home(i).isCpu()) {
                cpuExp[t.layer()] = true;
            }
        }
        return new Offload(dev, idx, kinds, cpuExp);
    }
}
