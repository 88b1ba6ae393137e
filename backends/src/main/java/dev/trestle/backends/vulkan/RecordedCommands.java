package dev.trestle.backends.vulkan;

import java.util.ArrayList;
import java.util.List;
import org.lwjgl.vulkan.VkCommandBuffer;

/**
 * A command buffer captured by {@link VulkanDevice#beginRecording()} with the descriptor sets it binds, kept for
 * re-submission ({@link VulkanDevice#submit}) while the buffers it reads and writes stay alive. What changes between
 * submissions (positions, cache cells, visibility) must live in device buffers, not in push constants.
 */
public final class RecordedCommands implements AutoCloseable {
    final VulkanDevice device;
    final VkCommandBuffer cmd;
    final List<Long> pools = new ArrayList<>();
    int setsInPool;
    long dispatches;
    boolean ended;

    RecordedCommands(VulkanDevice device, VkCommandBuffer cmd) {
        this.device = device;
        this.cmd = cmd;
    }

    /** Dispatches the recording holds. */
    public long dispatches() {
        return dispatches;
    }

    @Override
    public void close() {
        device.release(this);
    }
}
