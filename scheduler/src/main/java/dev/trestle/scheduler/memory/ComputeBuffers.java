package dev.trestle.scheduler.memory;

import dev.trestle.scheduler.profile.LayerGeometry;
import dev.trestle.scheduler.profile.ModelProfile;

/**
 * Estimates the compute (activation) buffer a device needs for one ubatch graph.
 *
 * <p>The graph allocator reuses memory between ops, so the peak is what is alive at once: inside a
 * layer, the residual stream and its scratch copies plus the larger of the attention step (Q/K/V and
 * either the score matrix, which softmax overwrites in place, or, with flash attention, f16 copies
 * of a quantized cache) and the FFN step (dense, or the active experts plus router logits); at the
 * end, on the device that holds the output head, the normed hidden state and the logits of the whole
 * ubatch. All activations are f32, as in llama.cpp. For Llama-3 8B fully offloaded at -c 512 -ub 512
 * without flash attention this gives 267 MiB, where a llama.cpp log shows a 258.5 MiB CUDA compute
 * buffer.
 */
public final class ComputeBuffers {
    private static final long F32 = 4;
    private static final long F16 = 2;

    private ComputeBuffers() {
    }

    /** Compute buffer of a device that runs layers; {@code holdsOutput} adds the logits. */
    public static long forLayers(ModelProfile m, ContextSettings c, boolean holdsOutput) {
        long ub = c.effectiveUbatch();
        int hK = 0;
        int hV = 0;
        int kvHeads = 0;
        for (LayerGeometry g : m.layers()) {
            hK = Math.max(hK, g.headDimK());
            hV = Math.max(hV, g.headDimV());
            kvHeads = Math.max(kvHeads, g.nHeadKv());
        }
        long cells = KvCache.contextCells(c.nCtx());
        long residual = 4 * ub * m.nEmbd() * F32;
        long qkv = ub * ((long) m.nHead() * hK + (long) kvHeads * (hK + hV)) * F32;
        long attnOut = ub * m.nHead() * (long) hV * F32;
        long attention;
        if (c.flashAttn().enabled()) {
            boolean quantized = c.typeK().isQuantized() || c.typeV().isQuantized();
            attention = attnOut + (quantized ? cells * kvHeads * (long) (hK + hV) * F16 : 0);
        } else {
            attention = attnOut + ub * cells * m.nHead() * F32;
        }
        long dense = 3 * ub * m.nFf() * F32;
        long moe = m.isMoe()
                ? 3 * ub * m.nExpertUsed() * (long) m.nFfExpert() * F32 + ub * m.nExpert() * F32
                        + ub * m.nExpertUsed() * (long) m.nEmbd() * F32
                : 0;
        long layerPeak = residual + Math.max(qkv + attention, Math.max(dense, moe));
        long headPeak = holdsOutput ? 2 * ub * m.nEmbd() * F32 + ub * m.nVocab() * F32 : 0;
        return Math.max(layerPeak, headPeak);
    }

    /** A GPU that only computes row slices in row-split mode: input copy plus partial results. */
    public static long forRowSlices(ModelProfile m, ContextSettings c) {
        long ub = c.effectiveUbatch();
        int headDim = 0;
        for (LayerGeometry g : m.layers()) {
            headDim = Math.max(headDim, Math.max(g.headDimK(), g.headDimV()));
        }
        long widest = Math.max(m.nFf(), Math.max((long) m.nHead() * headDim, m.nEmbd()));
        return ub * (m.nEmbd() + widest) * F32;
    }

    /** Host buffers that exist whatever the placement: input embeddings and the logits handed to sampling. */
    public static long hostBase(ModelProfile m, ContextSettings c) {
        return 2L * c.effectiveUbatch() * m.nEmbd() * F32 + (long) m.nVocab() * c.nParallel() * F32;
    }
}
