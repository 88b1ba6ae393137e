package dev.trestle.scheduler.plan;

import dev.trestle.scheduler.device.Device;

/**
 * What host RAM must hold.
 *
 * @param cpu       the host
 * @param weights   host-resident weight bytes
 * @param residency how those weights are held
 * @param kv        KV cache of the layers computed on the CPU
 * @param compute   host compute buffers, input embeddings and the logits
 * @param pinned    pinned staging buffers for streaming host weights to a GPU
 */
public record HostBudget(Device cpu, long weights, Residency residency, long kv, long compute, long pinned) {

    /** How host weights are held. */
    public enum Residency {
        /** mmap'd: page cache, evictable, shared with other processes reading the file. */
        PAGE_CACHE,
        /** mmap'd and locked with --mlock. */
        LOCKED,
        /** read into anonymous memory (--no-mmap). */
        ANONYMOUS
    }

    public long total() {
        return weights + kv + compute + pinned;
    }

    public long free() {
        return cpu.freeBytes();
    }

    /**
     * Page-cache weights count too: weights that do not stay resident are re-read from disk for every
     * token, which is not a usable plan.
     */
    public boolean fits() {
        return total() <= free();
    }

    public long shortfall() {
        return Math.max(0, total() - free());
    }
}
