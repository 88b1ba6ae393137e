package dev.trestle.scheduler.device;

import dev.trestle.common.TrestleException;
import dev.trestle.scheduler.memory.ByteSize;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * Every device the planner may use (the CPU first, then GPUs in backend order) and the status of
 * every backend, including why an unavailable one is unavailable.
 */
public record Inventory(List<Device> devices, List<BackendStatus> statuses, boolean simulated) {

    public Inventory {
        devices = List.copyOf(devices);
        statuses = List.copyOf(statuses);
        if (devices.isEmpty() || devices.get(0).kind() != DeviceKind.CPU) {
            throw new IllegalArgumentException("an inventory starts with the CPU");
        }
    }

    /** Probes this machine with the default probes (CPU, CUDA, Vulkan). */
    public static Inventory detect() {
        return detect(List.of(new CpuProbe(), new CudaProbe(), new VulkanProbe()));
    }

    /**
     * Runs {@code probes} in order; the first must be the CPU probe. An NVIDIA GPU that CUDA lists is also a
     * Vulkan device; it is kept once, as CUDA (matched by name), so the planner never splits a model across
     * one card's two faces. Without a usable CUDA driver the Vulkan entry stays.
     */
    public static Inventory detect(List<DeviceProbe> probes) {
        List<Device> devices = new ArrayList<>();
        List<BackendStatus> statuses = new ArrayList<>();
        for (DeviceProbe p : probes) {
            DeviceProbe.Result r = p.probe();
            devices.addAll(r.devices());
            statuses.add(r.status());
        }
        java.util.Set<String> cudaNames = new java.util.HashSet<>();
        for (Device d : devices) {
            if (d.kind() == DeviceKind.CUDA) {
                cudaNames.add(d.name());
            }
        }
        List<String> hidden = new ArrayList<>();
        devices.removeIf(d -> {
            boolean dup = d.kind() == DeviceKind.VULKAN && cudaNames.contains(d.name());
            if (dup) {
                hidden.add(d.id());
            }
            return dup;
        });
        if (!hidden.isEmpty()) {
            boolean vulkanLeft = devices.stream().anyMatch(d -> d.kind() == DeviceKind.VULKAN);
            statuses.replaceAll(st -> st.kind() != DeviceKind.VULKAN ? st : new BackendStatus(DeviceKind.VULKAN,
                    st.available() && vulkanLeft, (vulkanLeft || !st.available() ? st.detail() : "unavailable: "
                    + st.detail()) + "; " + String.join(", ", hidden) + " also seen through CUDA, listed once as CUDA"));
        }
        return new Inventory(devices, statuses, false);
    }

    /**
     * A simulated machine for planning: {@code spec} is "kind:name:size[:free],..." such as
     * "cuda:RTX 5060 Ti:16GiB,cuda:RTX 4060:8GiB" (empty or null: no GPU); {@code ramBytes} is the
     * host RAM (also taken as available). A real CPU probe supplies RAM when {@code ramBytes} <= 0.
     */
    public static Inventory simulated(String spec, long ramBytes) {
        List<Device> devices = new ArrayList<>();
        Device cpu;
        if (ramBytes > 0) {
            cpu = new Device(DeviceKind.CPU, 0, "simulated CPU", ramBytes, ramBytes, "simulated (--sim-ram)");
        } else {
            cpu = new CpuProbe().probe().devices().get(0);
        }
        devices.add(cpu);
        Map<DeviceKind, Integer> next = new EnumMap<>(DeviceKind.class);
        if (spec != null && !spec.isBlank()) {
            for (String item : spec.split(",")) {
                String[] f = item.trim().split(":");
                if (f.length < 3 || f.length > 4) {
                    throw new TrestleException("--sim-devices: '" + item.trim() + "' is not kind:name:memory",
                            "write e.g. --sim-devices \"cuda:RTX 5060 Ti:16GiB,vulkan:RX 7800 XT:16GiB\"");
                }
                DeviceKind kind = DeviceKind.parse(f[0]);
                if (kind == null || kind == DeviceKind.CPU) {
                    throw new TrestleException("--sim-devices: unknown GPU kind '" + f[0] + "'",
                            "use cuda or vulkan");
                }
                long total = ByteSize.parse(f[2], "--sim-devices");
                long free = f.length == 4 ? ByteSize.parse(f[3], "--sim-devices") : total;
                if (total <= 0 || free > total) {
                    throw new TrestleException("--sim-devices: '" + item.trim() + "' has free memory above total",
                            "the optional fourth field is the free memory, at most the total");
                }
                int index = next.merge(kind, 1, Integer::sum) - 1;
                devices.add(new Device(kind, index, f[1].trim(), total, free, "simulated (--sim-devices)"));
            }
        }
        List<BackendStatus> statuses = new ArrayList<>();
        statuses.add(new BackendStatus(DeviceKind.CPU, true, ramBytes > 0 ? "simulated" : "always available (Vector API)"));
        for (DeviceKind k : List.of(DeviceKind.CUDA, DeviceKind.VULKAN)) {
            statuses.add(new BackendStatus(k, next.containsKey(k), next.containsKey(k)
                    ? "simulated" : "not simulated"));
        }
        return new Inventory(devices, statuses, true);
    }

    /** Replaces the CPU's RAM figures (for {@code --sim-ram} on a real inventory). */
    public Inventory withRam(long ramBytes) {
        List<Device> d = new ArrayList<>(devices);
        d.set(0, new Device(DeviceKind.CPU, 0, "simulated CPU", ramBytes, ramBytes, "simulated (--sim-ram)"));
        return new Inventory(d, statuses, true);
    }

    public Device cpu() {
        return devices.get(0);
    }

    /** GPUs in order; their position here is the index -ts, -mg and the plan use. */
    public List<Device> gpus() {
        return devices.subList(1, devices.size());
    }

    /** The device whose buffer name is {@code id} ("CPU", "CUDA0", "vulkan1"; case-insensitive), or null. */
    public Device byId(String id) {
        for (Device d : devices) {
            if (d.id().equalsIgnoreCase(id.trim())) {
                return d;
            }
        }
        return null;
    }
}
