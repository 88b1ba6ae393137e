package dev.trestle.engine.model;

/** Qwen3-MoE (Qwen3-30B-A3B): Qwen3 attention, softmax-gated top-k experts with renormalized weights. */
public final class Qwen3MoeModel extends DecoderModel {
    @Override
    protected boolean perHeadQkNorm() {
        return true;
    }
}
