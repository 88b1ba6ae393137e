package dev.trestle.scheduler.plan;

import dev.trestle.scheduler.device.Device;

/**
 * What one GPU must hold. A GPU that holds nothing fits whatever its margin.
 *
 * @param device  the GPU
 * @param weights weight bytes placed there (row slices included)
 * @param kv      KV cache bytes of its layers
 * @param compute compute buffer estimate (plus room to stream host-resident weights for prefill)
 * @param margin  safety margin kept free (--fit-target)
 */
public record DeviceBudget(Device device, long weights, long kv, long compute, long margin) {

    /** Bytes allocated on the device. */
    public long used() {
        return weights + kv + compute;
    }

    /** Allocated bytes plus margin (0 for an unused device). */
    public long total() {
        return used() == 0 ? 0 : used() + margin;
    }

    public long free() {
        return device.freeBytes();
    }

    public boolean fits() {
        return total() <= free();
    }

    /** Bytes missing, 0 when it fits. */
    public long shortfall() {
        return Math.max(0, total() - free());
    }
}
