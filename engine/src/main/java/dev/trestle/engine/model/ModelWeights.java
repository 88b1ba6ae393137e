package dev.trestle.engine.model;

import dev.trestle.backends.cpu.CpuMatrix;

/**
 * Every weight of a model (immutable views into the mapped file).
 *
 * @param tokenEmbd  (n_embd x n_vocab)
 * @param outputNorm (n_embd)
 * @param output     (n_embd x n_vocab), the token embedding when tied
 * @param layers     (n_layer)
 */
public record ModelWeights(CpuMatrix tokenEmbd, float[] outputNorm, Linear output, LayerWeights[] layers) {
}
