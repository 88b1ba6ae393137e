package dev.trestle.scheduler.profile;

/** What a weight tensor does, which decides where the planner puts it. */
public enum TensorRole {
    /** Token (and position) embeddings: only one row per token is read, so they stay in host RAM. */
    TOKEN_EMBD,
    /** The output head (lm_head), read whole for every token. */
    OUTPUT,
    /** Attention projections, their biases and sinks. */
    ATTENTION,
    /** The MoE router (ffn_gate_inp) and expert selection biases. */
    ROUTER,
    /** A dense feed-forward block. */
    FFN_DENSE,
    /** Routed expert FFN tensors (3-D *_exps); only the active experts are read per token. */
    FFN_EXPERT,
    /** Shared expert FFN tensors (*_shexp), read for every token. */
    FFN_SHARED_EXPERT,
    /** Normalization weights. */
    NORM,
    /** Anything else (rope factors, classifier heads, per-layer scales). */
    OTHER
}
