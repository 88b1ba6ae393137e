package dev.trestle.engine.model;

/**
 * The weights of one block; absent optional tensors are null. Vectors are F32 copies of 1-D tensors.
 *
 * @param attnNorm     (n_embd)
 * @param wq           Q projection (or null with a fused wqkv)
 * @param wk           K projection
 * @param wv           V projection
 * @param wqkv         fused QKV projection (phi3 variants)
 * @param wo           output projection
 * @param qNorm        (head_dim) or (n_embd) for whole-row q norm
 * @param kNorm        (head_dim) or (kv_dim)
 * @param attnPostNorm (n_embd) gemma post-attention norm
 * @param ffnNorm      (n_embd)
 * @param ffnPostNorm  (n_embd) gemma post-FFN norm
 * @param ffnGate      dense gate
 * @param ffnUp        dense up (phi3: gate and up fused, 2 x n_ff rows)
 * @param ffnDown      dense down
 * @param router       ffn_gate_inp (n_embd x n_expert)
 * @param gateExps     expert gates
 * @param upExps       expert ups
 * @param downExps     expert downs
 * @param shexpGate    shared-expert gate (sigmoid input, n_embd) or null
 * @param gateShexp    shared expert gate projection
 * @param upShexp      shared expert up projection
 * @param downShexp    shared expert down projection
 * @param ropeFactors  (n_rot / 2) rope frequency factors for this layer, or null
 */
public record LayerWeights(float[] attnNorm, Linear wq, Linear wk, Linear wv, Linear wqkv, Linear wo, float[] qNorm,
                           float[] kNorm, float[] attnPostNorm, float[] ffnNorm, float[] ffnPostNorm, Linear ffnGate,
                           Linear ffnUp, Linear ffnDown, Linear router, ExpertLinear gateExps, ExpertLinear upExps,
                           ExpertLinear downExps, float[] shexpGate, Linear gateShexp, Linear upShexp,
                           Linear downShexp, float[] ropeFactors) {
}
