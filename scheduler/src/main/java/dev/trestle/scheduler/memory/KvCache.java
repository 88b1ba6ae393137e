package dev.trestle.scheduler.memory;

import dev.trestle.backends.type.GgmlType;
import dev.trestle.common.TrestleException;
import dev.trestle.scheduler.profile.LayerGeometry;

/**
 * Closed-form KV cache sizes, as llama.cpp allocates them.
 *
 * <p>A full-attention layer keeps {@code n_ctx} cells (padded to 256); a sliding-window layer keeps
 * {@code min(n_ctx, window * n_seq + n_ubatch)} cells, padded to 256, because older tokens fall out of
 * its window. A cell holds one K row of {@code n_head_kv * head_dim_k} elements and one V row of
 * {@code n_head_kv * head_dim_v} elements, each stored in its cache type including the block
 * overhead of quantized types (q8_0: 34 bytes per 32 values).
 */
public final class KvCache {
    /** llama.cpp pads the context and the SWA cache to multiples of 256 cells. */
    public static final int CELL_PAD = 256;

    private KvCache() {
    }

    /** Total context cells after padding. */
    public static long contextCells(int nCtx) {
        return pad(nCtx);
    }

    /** Cells one layer keeps. */
    public static long cells(LayerGeometry g, ContextSettings c) {
        long base = pad(c.nCtx());
        if (!g.isSliding()) {
            return base;
        }
        long swa = (long) g.slidingWindow() * c.nParallel() + c.effectiveUbatch();
        return pad(Math.min(base, swa));
    }

    /** K plus V bytes of one layer. */
    public static long layerBytes(LayerGeometry g, ContextSettings c) {
        if (g.nHeadKv() == 0) {
            return 0;
        }
        return cells(g, c) * (rowBytes(c.typeK(), g.kRow(), "-ctk") + rowBytes(c.typeV(), g.vRow(), "-ctv"));
    }

    /** K bytes of one layer. */
    public static long layerKBytes(LayerGeometry g, ContextSettings c) {
        return g.nHeadKv() == 0 ? 0 : cells(g, c) * rowBytes(c.typeK(), g.kRow(), "-ctk");
    }

    /** V bytes of one layer. */
    public static long layerVBytes(LayerGeometry g, ContextSettings c) {
        return g.nHeadKv() == 0 ? 0 : cells(g, c) * rowBytes(c.typeV(), g.vRow(), "-ctv");
    }

    /** Bytes of {@code elements} values of {@code type}; a row that does not fill whole blocks is rejected. */
    public static long rowBytes(GgmlType type, long elements, String flag) {
        long b = type.bytesFor(elements);
        if (b < 0) {
            throw new TrestleException(flag + " " + type.llamaName() + " cannot store rows of " + elements
                    + " values (blocks of " + type.blockSize() + ")", "use " + flag + " f16 or q8_0 for this model");
        }
        return b;
    }

    private static long pad(long n) {
        return (n + CELL_PAD - 1) / CELL_PAD * CELL_PAD;
    }
}
