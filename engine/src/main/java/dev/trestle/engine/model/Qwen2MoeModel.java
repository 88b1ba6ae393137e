package dev.trestle.engine.model;

/** Qwen2-MoE: softmax-gated experts without renormalization, plus a sigmoid-gated shared expert. */
public final class Qwen2MoeModel extends DecoderModel {
    @Override
    protected boolean normalizeExpertWeights() {
        return false;
    }
}
