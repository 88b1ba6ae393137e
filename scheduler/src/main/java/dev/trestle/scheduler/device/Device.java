package dev.trestle.scheduler.device;

/**
 * One device the planner can place tensors on.
 *
 * @param kind       backend family
 * @param index      index among the devices of that kind (0 for the CPU)
 * @param name       human-readable name ("NVIDIA GeForce RTX 4090", "AMD EPYC 9654")
 * @param totalBytes total memory (system RAM for the CPU)
 * @param freeBytes  memory free for us now (MemAvailable for the CPU)
 * @param info       compute capability, driver or core count, free text
 */
public record Device(DeviceKind kind, int index, String name, long totalBytes, long freeBytes, String info) {

    /** The buffer name llama.cpp uses and {@code -ot} accepts: "CPU", "CUDA0", "Vulkan1". */
    public String id() {
        return kind == DeviceKind.CPU ? "CPU" : kind.prefix() + index;
    }

    public boolean isGpu() {
        return kind != DeviceKind.CPU;
    }
}
