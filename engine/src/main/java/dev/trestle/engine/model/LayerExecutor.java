package dev.trestle.engine.model;

import dev.trestle.engine.kv.KvCache;

/**
 * The engine's GPU seam ("compute follows the weights"): the layers of a model that live on one GPU, and their
 * execution there. {@link DecoderModel#forward} calls {@link #begin} once per micro-batch, then for each run of
 * consecutive layers on this device {@link #enter} (hidden state to the device), {@link #layer} per layer, and
 * {@link #leave} (hidden state back) where the next layer lives elsewhere. Vulkan ({@link VulkanLayers}) and CUDA
 * ({@link CudaLayers}) implement it.
 */
public interface LayerExecutor extends AutoCloseable {
    /** True when layer {@code il} runs here. */
    boolean owns(int il);

    /** Uploads the micro-batch's positions, cells and visibility (before any layer runs). */
    void begin(UBatch ub, KvCache kv);

    /** Hidden state of {@code n} rows from the host. */
    void enter(float[] hx, int n);

    /** Hidden state of {@code n} rows back to the host (waits for the queued layers). */
    void leave(float[] hx, int n);

    /**
     * Moves the hidden state of {@code n} rows straight to {@code next}'s device instead of {@link #leave} and
     * {@code next.enter} through the host; false (nothing done) when this pair cannot.
     */
    default boolean handOver(LayerExecutor next, int n) {
        return false;
    }

    /** Runs (or queues) layer {@code il} for the micro-batch; {@code st} holds the CPU-side scratch. */
    void layer(int il, UBatch ub, ForwardState st);

    /** Uploads the output head (lm_head, or the tied embeddings) so {@link #logits} runs on this device. */
    void holdOutputHead();

    /** Logits of {@code rows} final-normed hidden rows (host, packed) into {@code out} (rows, n_vocab). */
    void logits(float[] hidden, int rows, float[] out);

    /** Frees the device buffers (not the device itself). */
    @Override
    void close();
}
