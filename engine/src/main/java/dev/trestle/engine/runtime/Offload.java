package dev.trestle.engine.runtime;

import dev.trestle.common.TrestleException;
import dev.trestle.scheduler.device.Device;
import dev.trestle.scheduler.device.DeviceKind;
import dev.trestle.scheduler.plan.Plan;
import java.util.Arrays;

/**
 * Where a context runs each layer: {@code layerDevice[il]} is -1 for the CPU or an index into
 * {@code vulkanDevices}, the Vulkan physical devices to open (one logical device per entry, so the same
 * physical device listed twice stands in for two GPUs, as the lavapipe tests do).
 *
 * @param layerDevice   (n_layer) -1 or index into vulkanDevices
 * @param vulkanDevices Vulkan physical device index of each logical GPU
 * @param nCpuMoe       layers, from the first, whose expert FFN stays in host RAM and runs on the CPU
 *                      ({@code --n-cpu-moe}; {@code --cpu-moe} = every layer)
 */
public record Offload(int[] layerDevice, int[] vulkanDevices, int nCpuMoe) {
    public Offload(int[] layerDevice, int[] vulkanDevices) {
        this(layerDevice, vulkanDevices, 0);
    }

    public Offload {
        layerDevice = layerDevice.clone();
        vulkanDevices = vulkanDevices.clone();
        for (int d : layerDevice) {
            if (d < -1 || d >= vulkanDevices.length) {
                throw new IllegalArgumentException("layer device " + d + " of " + vulkanDevices.length);
            }
        }
    }

    /** Everything on the CPU. */
    public static Offload none() {
        return new Offload(new int[0], new int[0], 0);
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

    /** True when layer {@code il}'s expert FFN runs on the CPU. */
    public boolean cpuExperts(int il) {
        return il < nCpuMoe;
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
        int g = vulkanDevices.length;
        if (g == 0 || ngl <= 0) {
            return new Offload(dev, vulkanDevices, nCpuMoe);
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
        return new Offload(dev, vulkanDevices, nCpuMoe);
    }

    /**
     * The layer homes of a scheduler plan. Plans put layers on inventory GPUs; Vulkan ones map to their device
     * index. A layer planned on a CUDA device fails: this build's engine runs GPU layers through Vulkan only.
     */
    public static Offload fromPlan(Plan plan, int nLayer) {
        int gpus = plan.inventory().gpus().size();
        int[] vk = new int[gpus];
        int[] dev = new int[nLayer];
        for (int i = 0; i < gpus; i++) {
            Device d = plan.gpu(i);
            vk[i] = d.kind() == DeviceKind.VULKAN ? d.index() : -1;
        }
        for (int il = 0; il < nLayer; il++) {
            int g = plan.layerGpu(il);
            if (g >= 0 && vk[g] < 0) {
                Device d = plan.gpu(g);
                throw new TrestleException("layer " + il + " is planned on " + d.id() + ", but the engine runs GPU "
                        + "layers through Vulkan only so far", "pass -ngl 0, or use a Vulkan device");
            }
            dev[il] = g;
        }
        for (int i = 0; i < gpus; i++) {
            vk[i] = Math.max(vk[i], 0); // unused CUDA slots are never opened
        }
        return new Offload(dev, vk, Math.max(0, plan.layout().nCpuMoe()));
    }
}
