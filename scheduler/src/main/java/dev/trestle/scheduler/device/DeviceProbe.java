package dev.trestle.scheduler.device;

import java.util.List;

/**
 * Finds the devices of one backend. Probes never throw for a missing driver: they report it in
 * {@link Result#status()}, so the inventory can say why a GPU is not used instead of silently
 * falling back to the CPU.
 */
public interface DeviceProbe {

    /** What a probe found. */
    record Result(BackendStatus status, List<Device> devices) {
        public Result {
            devices = List.copyOf(devices);
        }
    }

    DeviceKind kind();

    Result probe();
}
