package dev.trestle.engine.model;

import dev.trestle.engine.gguf.GgufWriter;
import java.nio.file.Path;
import java.util.Random;

/** Writes small random-weight GGUF models with llama.cpp's tensor names for architectures /work/shared lacks. */
final class SyntheticModels {
    static final int VOCAB = 64;
    static final int EMBD = 64;
    static final int HEADS = 4;
    static final int HEADS_KV = 2;
    static final int HEAD_DIM = 16;
    static final int FF = 96;
    static final int LAYERS = 2;
    static final int EXPERTS = 4;
    static final int USED = 2;

    private SyntheticModels() {
    }

    /** Writes a model of {@code arch} to {@code path}; weights are N(0, 1/sqrt(fan_in)) from {@code seed}. */
    static Path write(String arch, Path path, long seed) {
        Random rnd = new Random(seed);
        boolean moe = arch.equals("qwen2moe") || arch.equals("olmoe");
        GgufWriter w = new GgufWriter();
        w.putString("general.architecture", arch);
        w.putUint32(arch + ".vocab_size", VOCAB);
        w.putUint32(arch + ".context_length", 256);
        w.putUint32(arch + ".embedding_length", EMBD);
        w.putUint32(arch + ".block_count", LAYERS);
        w.putUint32(arch + ".feed_forward_length", FF);
        w.putUint32(arch + ".attention.head_count", HEADS);
        w.putUint32(arch + ".attention.head_count_kv", HEADS_KV);
        w.putUint32(arch + ".attention.key_length", HEAD_DIM);
        w.putUint32(arch + ".attention.value_length", HEAD_DIM);
        w.putFloat32(arch + ".attention.layer_norm_rms_epsilon", 1e-6f);
        w.putFloat32(arch + ".rope.freq_base", 10000f);
        if (moe) {
            w.putUint32(arch + ".expert_count", EXPERTS);
            w.putUint32(arch + ".expert_used_count", USED);
            w.putUint32(arch + ".expert_feed_forward_length", FF);
        }
        if (arch.equals("qwen2moe")) {
            w.putUint32(arch + ".expert_shared_feed_forward_length", FF);
        }
        if (arch.equals("gemma2")) {
            w.putUint32(arch + ".attention.sliding_window", 4);
            w.putFloat32(arch + ".attn_logit_softcapping", 50f);
            w.putFloat32(arch + ".final_logit_softcapping", 30f);
        }
        w.tensorF32("token_embd.weight", new long[] {EMBD, VOCAB}, normal(rnd, EMBD * VOCAB, 1f));
        w.tensorF32("output_norm.weight", new long[] {EMBD}, ones(rnd, EMBD));
        if (!arch.startsWith("gemma")) {
            w.tensorF32("output.weight", new long[] {EMBD, VOCAB}, normal(rnd, EMBD * VOCAB, 4f / (float) Math.sqrt(EMBD)));
        }
        int q = HEADS * HEAD_DIM;
        int kv = HEADS_KV * HEAD_DIM;
        for (int l = 0; l < LAYERS; l++) {
            String b = "blk." + l + ".";
            w.tensorF32(b + "attn_norm.weight", new long[] {EMBD}, ones(rnd, EMBD));
            matrix(w, rnd, b + "attn_q.weight", EMBD, q);
            matrix(w, rnd, b + "attn_k.weight", EMBD, kv);
            matrix(w, rnd, b + "attn_v.weight", EMBD, kv);
            matrix(w, rnd, b + "attn_output.weight", q, EMBD);
            if (arch.equals("qwen2") || arch.equals("qwen2moe")) {
                w.tensorF32(b + "attn_q.bias", new long[] {q}, normal(rnd, q, 0.1f));
                w.tensorF32(b + "attn_k.bias", new long[] {kv}, normal(rnd, kv, 0.1f));
                w.tensorF32(b + "attn_v.bias", new long[] {kv}, normal(rnd, kv, 0.1f));
            }
            if (arch.equals("olmoe")) {
                w.tensorF32(b + "attn_q_norm.weight", new long[] {q}, ones(rnd, q));
                w.tensorF32(b + "attn_k_norm.weight", new long[] {kv}, ones(rnd, kv));
            }
            if (arch.equals("gemma2")) {
                w.tensorF32(b + "post_attention_norm.weight", new long[] {EMBD}, ones(rnd, EMBD));
                w.tensorF32(b + "post_ffw_norm.weight", new long[] {EMBD}, ones(rnd, EMBD));
            }
            w.tensorF32(b + "ffn_norm.weight", new long[] {EMBD}, ones(rnd, EMBD));
            if (moe) {
                w.tensorF32(b + "ffn_gate_inp.weight", new long[] {EMBD, EXPERTS},
                        normal(rnd, EMBD * EXPERTS, 4f / (float) Math.sqrt(EMBD)));
                experts(w, rnd, b + "ffn_gate_exps.weight", EMBD, FF);
                experts(w, rnd, b + "ffn_up_exps.weight", EMBD, FF);
                experts(w, rnd, b + "ffn_down_exps.weight", FF, EMBD);
                if (arch.equals("qwen2moe")) {
                    w.tensorF32(b + "ffn_gate_inp_shexp.weight", new long[] {EMBD}, normal(rnd, EMBD, 0.1f));
                    matrix(w, rnd, b + "ffn_gate_shexp.weight", EMBD, FF);
                    matrix(w, rnd, b + "ffn_up_shexp.weight", EMBD, FF);
                    matrix(w, rnd, b + "ffn_down_shexp.weight", FF, EMBD);
                }
            } else {
                matrix(w, rnd, b + "ffn_gate.weight", EMBD, FF);
                matrix(w, rnd, b + "ffn_up.weight", EMBD, FF);
                matrix(w, rnd, b + "ffn_down.weight", FF, EMBD);
            }
        }
        w.write(path);
        return path;
    }

    private static void matrix(GgufWriter w, Random rnd, String name, int cols, int rows) {
        w.tensorF32(name, new long[] {cols, rows}, normal(rnd, cols * rows, 1f / (float) Math.sqrt(cols)));
    }

    private static void experts(GgufWriter w, Random rnd, String name, int cols, int rows) {
        w.tensorF32(name, new long[] {cols, rows, EXPERTS},
                normal(rnd, cols * rows * EXPERTS, 1f / (float) Math.sqrt(cols)));
    }

    private static float[] normal(Random rnd, int n, float sd) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) rnd.nextGaussian() * sd;
        }
        return v;
    }

    private static float[] ones(Random rnd, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = 1f + 0.1f * (float) rnd.nextGaussian();
        }
        return v;
    }
}
