package dev.trestle.engine.model;

/** Qwen2: llama with NEOX rope and q/k/v biases (biases load as optional tensors). */
public final class Qwen2Model extends DecoderModel {
}
