package dev.trestle.scheduler.profile;

import java.util.ArrayList;
import java.util.List;

/**
 * What the planner needs to know about a model: every weight tensor and the shapes that size the
 * KV cache and the compute buffers. The engine builds it from a GGUF header; tests build it from
 * synthetic headers.
 *
 * @param architecture general.architecture
 * @param name         display name
 * @param nLayer       repeating layers
 * @param nEmbd        hidden size
 * @param nHead        query heads (largest over layers)
 * @param nVocab       vocabulary size
 * @param nFf          dense FFN inner size (largest over layers, 0 when none)
 * @param nExpert      routed experts per MoE layer (0 for a dense model)
 * @param nExpertUsed  experts active per token
 * @param nFfExpert    expert FFN inner size
 * @param nCtxTrain    training context length
 * @param layers       per-layer KV geometry, {@code nLayer} entries
 * @param tensors      every weight tensor, in file order
 */
public record ModelProfile(String architecture, String name, int nLayer, int nEmbd, int nHead, int nVocab, int nFf,
                           int nExpert, int nExpertUsed, int nFfExpert, int nCtxTrain,
                           List<LayerGeometry> layers, List<TensorProfile> tensors) {

    public ModelProfile {
        layers = List.copyOf(layers);
        tensors = List.copyOf(tensors);
        if (layers.size() != nLayer) {
            throw new IllegalArgumentException("need " + nLayer + " layer geometries, got " + layers.size());
        }
        for (TensorProfile t : tensors) {
            if (t.layer() >= nLayer || t.layer() < TensorProfile.OUTPUT_LAYER) {
                throw new IllegalArgumentException("tensor " + t.name() + " has layer " + t.layer()
                        + " outside 0.." + (nLayer - 1));
            }
        }
    }

    public boolean isMoe() {
        return nExpert > 0;
    }

    /** Bytes of all stored tensors (ties counted once): the file's data size. */
    public long storedBytes() {
        long b = 0;
        for (TensorProfile t : tensors) {
            if (t.tiedTo() == null) {
                b += t.bytes();
            }
        }
        return b;
    }

    /** Tensors of one layer (or of {@link TensorProfile#INPUT} / {@link TensorProfile#OUTPUT_LAYER}). */
    public List<TensorProfile> tensorsOf(int layer) {
        List<TensorProfile> out = new ArrayList<>();
        for (TensorProfile t : tensors) {
            if (t.layer() == layer) {
                out.add(t);
            }
        }
        return out;
    }
}
