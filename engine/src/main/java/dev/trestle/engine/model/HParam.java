package dev.trestle.engine.model;

/** GGUF hyperparameter keys as llama.cpp names them ({@code %s} = general.architecture). */
public enum HParam {
    VOCAB_SIZE("%s.vocab_size"),
    CONTEXT_LENGTH("%s.context_length"),
    EMBEDDING_LENGTH("%s.embedding_length"),
    BLOCK_COUNT("%s.block_count"),
    FEED_FORWARD_LENGTH("%s.feed_forward_length"),
    EXPERT_FEED_FORWARD_LENGTH("%s.expert_feed_forward_length"),
    EXPERT_SHARED_FEED_FORWARD_LENGTH("%s.expert_shared_feed_forward_length"),
    EXPERT_COUNT("%s.expert_count"),
    EXPERT_USED_COUNT("%s.expert_used_count"),
    EXPERT_WEIGHTS_SCALE("%s.expert_weights_scale"),
    EXPERT_WEIGHTS_NORM("%s.expert_weights_norm"),
    HEAD_COUNT("%s.attention.head_count"),
    HEAD_COUNT_KV("%s.attention.head_count_kv"),
    KEY_LENGTH("%s.attention.key_length"),
    VALUE_LENGTH("%s.attention.value_length"),
    LAYER_NORM_RMS_EPSILON("%s.attention.layer_norm_rms_epsilon"),
    LAYER_NORM_EPSILON("%s.attention.layer_norm_epsilon"),
    SLIDING_WINDOW("%s.attention.sliding_window"),
    SLIDING_WINDOW_PATTERN("%s.attention.sliding_window_pattern"),
    ATTN_LOGIT_SOFTCAPPING("%s.attn_logit_softcapping"),
    FINAL_LOGIT_SOFTCAPPING("%s.final_logit_softcapping"),
    ROPE_DIMENSION_COUNT("%s.rope.dimension_count"),
    ROPE_FREQ_BASE("%s.rope.freq_base"),
    ROPE_FREQ_BASE_SWA("%s.rope.freq_base_swa"),
    ROPE_SCALING_TYPE("%s.rope.scaling.type"),
    ROPE_SCALING_FACTOR("%s.rope.scaling.factor"),
    ROPE_SCALE_LEGACY("%s.rope.scale_linear"),
    ROPE_SCALING_ATTN_FACTOR("%s.rope.scaling.attn_factor"),
    ROPE_SCALING_ORIG_CTX("%s.rope.scaling.original_context_length"),
    ROPE_SCALING_YARN_BETA_FAST("%s.rope.scaling.yarn_beta_fast"),
    ROPE_SCALING_YARN_BETA_SLOW("%s.rope.scaling.yarn_beta_slow"),
    POOLING_TYPE("%s.pooling_type");

    private final String key;

    HParam(String key) {
        this.key = key;
    }

    /** The key with {@code %s} left in; GgufMetadata resolves it. */
    public String key() {
        return key;
    }
}
