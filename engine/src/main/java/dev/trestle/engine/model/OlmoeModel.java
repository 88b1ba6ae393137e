package dev.trestle.engine.model;

/** OLMoE: whole-row RMS norms on Q and K, softmax-gated experts without renormalization. */
public final class OlmoeModel extends DecoderModel {
    @Override
    protected boolean fullRowQkNorm() {
        return true;
    }

    @Override
    protected boolean normalizeExpertWeights() {
        return false;
    }
}
