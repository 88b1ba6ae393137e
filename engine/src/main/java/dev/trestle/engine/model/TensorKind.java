package dev.trestle.engine.model;

/** Tensor names as llama.cpp spells them ({@code %d} = layer), with the role the scheduler sees. */
public enum TensorKind {
    TOKEN_EMBD("token_embd", LayerRole.EMBEDDING),
    OUTPUT_NORM("output_norm", LayerRole.OUTPUT),
    OUTPUT("output", LayerRole.OUTPUT),
    ROPE_FREQS("rope_freqs", LayerRole.EMBEDDING),
    ROPE_FACTORS_LONG("rope_factors_long", LayerRole.EMBEDDING),
    ROPE_FACTORS_SHORT("rope_factors_short", LayerRole.EMBEDDING),
    ATTN_NORM("blk.%d.attn_norm", LayerRole.ATTENTION),
    ATTN_Q("blk.%d.attn_q", LayerRole.ATTENTION),
    ATTN_K("blk.%d.attn_k", LayerRole.ATTENTION),
    ATTN_V("blk.%d.attn_v", LayerRole.ATTENTION),
    ATTN_QKV("blk.%d.attn_qkv", LayerRole.ATTENTION),
    ATTN_OUT("blk.%d.attn_output", LayerRole.ATTENTION),
    ATTN_Q_NORM("blk.%d.attn_q_norm", LayerRole.ATTENTION),
    ATTN_K_NORM("blk.%d.attn_k_norm", LayerRole.ATTENTION),
    ATTN_POST_NORM("blk.%d.post_attention_norm", LayerRole.ATTENTION),
    FFN_NORM("blk.%d.ffn_norm", LayerRole.DENSE_FFN),
    FFN_POST_NORM("blk.%d.post_ffw_norm", LayerRole.DENSE_FFN),
    FFN_GATE("blk.%d.ffn_gate", LayerRole.DENSE_FFN),
    FFN_UP("blk.%d.ffn_up", LayerRole.DENSE_FFN),
    FFN_DOWN("blk.%d.ffn_down", LayerRole.DENSE_FFN),
    FFN_GATE_INP("blk.%d.ffn_gate_inp", LayerRole.EXPERT_FFN),
    FFN_GATE_EXPS("blk.%d.ffn_gate_exps", LayerRole.EXPERT_FFN),
    FFN_UP_EXPS("blk.%d.ffn_up_exps", LayerRole.EXPERT_FFN),
    FFN_DOWN_EXPS("blk.%d.ffn_down_exps", LayerRole.EXPERT_FFN),
    FFN_GATE_INP_SHEXP("blk.%d.ffn_gate_inp_shexp", LayerRole.DENSE_FFN),
    FFN_GATE_SHEXP("blk.%d.ffn_gate_shexp", LayerRole.DENSE_FFN),
    FFN_UP_SHEXP("blk.%d.ffn_up_shexp", LayerRole.DENSE_FFN),
    FFN_DOWN_SHEXP("blk.%d.ffn_down_shexp", LayerRole.DENSE_FFN);

    /** What part of the model a tensor belongs to (for placement). */
    public enum LayerRole {
        EMBEDDING, ATTENTION, DENSE_FFN, EXPERT_FFN, OUTPUT
    }

    private final String pattern;
    private final LayerRole role;

    TensorKind(String pattern, LayerRole role) {
        this.pattern = pattern;
        this.role = role;
    }

    public LayerRole role() {
        return role;
    }

    /**
     * The kind and layer of a tensor name ("blk.3.attn_q.weight" gives ATTN_Q, 3; "output.weight" gives OUTPUT,
     * -1), or null for names no supported architecture reads.
     */
    public static Classified classify(String name) {
        int layer = -1;
        String base = name;
        if (name.startsWith("blk.")) {
            int dot = name.indexOf('.', 4);
            if (dot < 0) {
                return null;
            }
            try {
                layer = Integer.parseInt(name.substring(4, dot));
            } catch (NumberFormatException e) {
                return null;
            }
            base = "blk.%d" + name.substring(dot);
        }
        int suffix = base.lastIndexOf('.');
        if (suffix < 0) {
            return null;
        }
        String stem = base.substring(0, suffix);
        for (TensorKind k : values()) {
            if (k.pattern.equals(stem)) {
                return new Classified(k, layer, base.substring(suffix + 1));
            }
        }
        return null;
    }

    /** A tensor name resolved against the table. */
    public record Classified(TensorKind kind, int layer, String suffix) {
    }

    /** "blk.3.attn_q.weight" for layer 3 and suffix "weight". */
    public String name(int layer, String suffix) {
        String base = pattern.contains("%d") ? pattern.replace("%d", Integer.toString(layer)) : pattern;
        return base + "." + suffix;
    }
}
