package dev.trestle.engine.model;

/** Llama 2/3/3.1/3.2, Mistral, TinyLlama, SmolLM and Mixtral-style MoE: the base graph with adjacent-pair rope. */
public final class LlamaModel extends DecoderModel {
    @Override
    protected boolean neoxRope() {
        return false;
    }
}
