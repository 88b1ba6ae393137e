package dev.trestle.scheduler.profile;

/**
 * The KV-cache geometry of one layer.
 *
 * @param nHeadKv       key/value heads (0: the layer keeps no KV cache)
 * @param headDimK      key head size
 * @param headDimV      value head size
 * @param slidingWindow attention window in tokens for sliding-window layers, 0 for full attention
 */
public record LayerGeometry(int nHeadKv, int headDimK, int headDimV, int slidingWindow) {

    public LayerGeometry {
        if (nHeadKv < 0 || headDimK < 0 || headDimV < 0 || slidingWindow < 0) {
            throw new IllegalArgumentException("negative layer geometry");
        }
    }

    public boolean isSliding() {
        return slidingWindow > 0;
    }

    /** n_embd_k_gqa: the K row length per cell. */
    public long kRow() {
        return (long) nHeadKv * headDimK;
    }

    /** n_embd_v_gqa: the V row length per cell. */
    public long vRow() {
        return (long) nHeadKv * headDimV;
    }
}
