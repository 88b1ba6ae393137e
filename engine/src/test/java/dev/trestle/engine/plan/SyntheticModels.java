package dev.trestle.engine.plan;

import dev.trestle.backends.type.GgmlType;
import dev.trestle.engine.gguf.GgufValue;
import dev.trestle.engine.gguf.GgufWriter;
import java.nio.file.Path;

/**
 * Sparse GGUF files with the headers of real models (tensor names, shapes and the Q4_K_M type mix),
 * whose data sections are holes: a 40 GB model costs a few KB of disk.
 */
final class SyntheticModels {
    private SyntheticModels() {
    }

    /** Qwen3-30B-A3B Q4_K_M: 48 layers, 128 experts (8 active), n_embd 2048, expert FFN 768, 32/4 heads of 128. */
    static Path qwen3moe30b(Path dir) {
        GgufWriter w = header("qwen3moe", "Qwen3-30B-A3B-Q4_K_M", 48, 2048, 32, 4, 128, 40960, 151936);
        w.putUint32("qwen3moe.expert_count", 128).putUint32("qwen3moe.expert_used_count", 8)
                .putUint32("qwen3moe.expert_feed_forward_length", 768).putUint32("qwen3moe.feed_forward_length", 6144);
        tokenAndOutput(w, 2048, 151936);
        for (int il = 0; il < 48; il++) {
            attention(w, il, 48, 2048, 32, 4, 128, true);
            String b = "blk." + il + ".";
            w.tensor(b + "ffn_norm.weight", GgmlType.F32, new long[] {2048}, SyntheticModels::noData);
            w.tensor(b + "ffn_gate_inp.weight", GgmlType.F32, new long[] {2048, 128}, SyntheticModels::noData);
            w.tensor(b + "ffn_gate_exps.weight", GgmlType.Q4_K, new long[] {2048, 768, 128}, SyntheticModels::noData);
            w.tensor(b + "ffn_up_exps.weight", GgmlType.Q4_K, new long[] {2048, 768, 128}, SyntheticModels::noData);
            w.tensor(b + "ffn_down_exps.weight", moreBits(il, 48) ? GgmlType.Q6_K : GgmlType.Q4_K,
                    new long[] {768, 2048, 128}, SyntheticModels::noData);
        }
        return write(w, dir.resolve("qwen3-30b-a3b-q4_k_m.gguf"));
    }

    /** Llama-3.1-8B Q4_K_M: 32 layers, n_embd 4096, 32/8 heads of 128, FFN 14336, vocab 128256. */
    static Path llama8b(Path dir) {
        return llama(dir, "Llama-3.1-8B-Q4_K_M", 32, 4096, 32, 8, 14336);
    }

    /** Llama-3.1-70B Q4_K_M: 80 layers, n_embd 8192, 64/8 heads of 128, FFN 28672, vocab 128256. */
    static Path llama70b(Path dir) {
        return llama(dir, "Llama-3.1-70B-Q4_K_M", 80, 8192, 64, 8, 28672);
    }

    private static Path llama(Path dir, String name, int nLayer, int nEmbd, int nHead, int nHeadKv, int nFf) {
        GgufWriter w = header("llama", name, nLayer, nEmbd, nHead, nHeadKv, 128, 131072, 128256);
        w.putUint32("llama.feed_forward_length", nFf);
        tokenAndOutput(w, nEmbd, 128256);
        w.tensor("rope_freqs.weight", GgmlType.F32, new long[] {64}, SyntheticModels::noData);
        for (int il = 0; il < nLayer; il++) {
            attention(w, il, nLayer, nEmbd, nHead, nHeadKv, 128, false);
            String b = "blk." + il + ".";
            w.tensor(b + "ffn_norm.weight", GgmlType.F32, new long[] {nEmbd}, SyntheticModels::noData);
            w.tensor(b + "ffn_gate.weight", GgmlType.Q4_K, new long[] {nEmbd, nFf}, SyntheticModels::noData);
            w.tensor(b + "ffn_up.weight", GgmlType.Q4_K, new long[] {nEmbd, nFf}, SyntheticModels::noData);
            w.tensor(b + "ffn_down.weight", moreBits(il, nLayer) ? GgmlType.Q6_K : GgmlType.Q4_K,
                    new long[] {nFf, nEmbd}, SyntheticModels::noData);
        }
        return write(w, dir.resolve(name.toLowerCase(java.util.Locale.ROOT) + ".gguf"));
    }

    private static GgufWriter header(String arch, String name, int nLayer, int nEmbd, int nHead, int nHeadKv,
                                     int headDim, int ctx, int vocab) {
        GgufWriter w = new GgufWriter();
        w.putString("general.architecture", arch).putString("general.name", name)
                .putUint32(arch + ".block_count", nLayer).putUint32(arch + ".embedding_length", nEmbd)
                .putUint32(arch + ".context_length", ctx).putUint32(arch + ".attention.head_count", nHead)
                .putUint32(arch + ".attention.head_count_kv", nHeadKv)
                .putUint32(arch + ".attention.key_length", headDim).putUint32(arch + ".attention.value_length", headDim)
                .putUint32(arch + ".vocab_size", vocab)
                .put("general.file_type", GgufValue.ofUint32(15));
        return w;
    }

    private static void tokenAndOutput(GgufWriter w, int nEmbd, int vocab) {
        w.tensor("token_embd.weight", GgmlType.Q4_K, new long[] {nEmbd, vocab}, SyntheticModels::noData);
        w.tensor("output_norm.weight", GgmlType.F32, new long[] {nEmbd}, SyntheticModels::noData);
        w.tensor("output.weight", GgmlType.Q6_K, new long[] {nEmbd, vocab}, SyntheticModels::noData);
    }

    private static void attention(GgufWriter w, int il, int nLayer, int nEmbd, int nHead, int nHeadKv, int headDim,
                                  boolean qkNorm) {
        String b = "blk." + il + ".";
        w.tensor(b + "attn_norm.weight", GgmlType.F32, new long[] {nEmbd}, SyntheticModels::noData);
        w.tensor(b + "attn_q.weight", GgmlType.Q4_K, new long[] {nEmbd, (long) nHead * headDim}, SyntheticModels::noData);
        w.tensor(b + "attn_k.weight", GgmlType.Q4_K, new long[] {nEmbd, (long) nHeadKv * headDim}, SyntheticModels::noData);
        w.tensor(b + "attn_v.weight", moreBits(il, nLayer) ? GgmlType.Q6_K : GgmlType.Q4_K,
                new long[] {nEmbd, (long) nHeadKv * headDim}, SyntheticModels::noData);
        w.tensor(b + "attn_output.weight", GgmlType.Q4_K, new long[] {(long) nHead * headDim, nEmbd}, SyntheticModels::noData);
        if (qkNorm) {
            w.tensor(b + "attn_q_norm.weight", GgmlType.F32, new long[] {headDim}, SyntheticModels::noData);
            w.tensor(b + "attn_k_norm.weight", GgmlType.F32, new long[] {headDim}, SyntheticModels::noData);
        }
    }

    /** llama.cpp's Q4_K_M rule: the first and last eighth of the layers and every third between get Q6_K. */
    static boolean moreBits(int il, int n) {
        return il < n / 8 || il >= 7 * n / 8 || (il - n / 8) % 3 == 2;
    }

    private static void noData(java.io.OutputStream out) {
        throw new IllegalStateException("sparse files have no tensor data");
    }

    private static Path write(GgufWriter w, Path p) {
        w.writeSparse(p);
        return p;
    }
}
