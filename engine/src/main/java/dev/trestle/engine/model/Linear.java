package dev.trestle.engine.model;

import dev.trestle.backends.cpu.CpuMatrix;

/**
 * A projection: weight, optional bias and optional per-tensor {@code .scale} (llama.cpp multiplies it onto
 * the matmul output; for attention projections before the bias, for dense FFN projections after it).
 *
 * @param weight      the matrix
 * @param bias        (rows) or null
 * @param scale       the {@code .scale} value, or 1
 * @param biasFirst   true when the bias is added before the scale (build_ffn), false for build_qkv/o
 */
public record Linear(CpuMatrix weight, float[] bias, float scale, boolean biasFirst) {
    /** Output width. */
    public int rows() {
        return weight.rows();
    }
}
