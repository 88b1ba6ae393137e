package dev.trestle.engine.synthetic;

import dev.trestle.backends.quant.Codecs;
import dev.trestle.backends.quant.QuantCodec;
import dev.trestle.backends.type.GgmlType;
import dev.trestle.common.TrestleException;
import dev.trestle.engine.gguf.GgufValue;
import dev.trestle.engine.gguf.GgufWriter;
import dev.trestle.engine.synthetic.QuantMix.Role;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;

/**
 * Writes random-weight GGUF models of real shapes ({@link SyntheticSpec}) that both Trestle and llama.cpp load:
 * llama.cpp's tensor names and metadata keys, and an SPM vocabulary with as many tokens as token_embd has rows
 * (llama.cpp takes n_vocab from the tokenizer and refuses a mismatch).
 *
 * <p>Quantizing a billion random floats with the reference quantizers would take many minutes, so each tensor's
 * rows are drawn from a pool of rows that were really quantized: every byte is a valid block of the type, and
 * reading it costs exactly what reading a real model costs.
 */
public final class SyntheticModel {
    /** Bump when the written bytes change, so cached files are rewritten. */
    public static final int FORMAT_VERSION = 1;

    private static final int POOL_ROWS = 16;
    private static final int TYPE_NORMAL = 1;
    private static final int TYPE_UNKNOWN = 2;
    private static final int TYPE_CONTROL = 3;
    private static final int TYPE_BYTE = 6;

    private SyntheticModel() {
    }

    /** The default cache folder: {@code trestle-synthetic} in the system temp folder. */
    public static Path defaultCacheDir() {
        return Path.of(System.getProperty("java.io.tmpdir"), "trestle-synthetic");
    }

    /** The model for {@code spec} in {@code cacheDir}, written first when it is not there yet. */
    public static Path ensure(SyntheticSpec spec, Path cacheDir) {
        Path path = cacheDir.resolve(spec.fileName());
        if (Files.isRegularFile(path)) {
            return path;
        }
        try {
            Files.createDirectories(cacheDir);
        } catch (IOException e) {
            throw new TrestleException("cannot create the synthetic model folder " + cacheDir + ": " + e.getMessage(),
                    "pass --cache-dir with a writable folder");
        }
        try {
            write(spec, path);
        } catch (UncheckedIOException e) {
            throw new TrestleException("cannot write " + path + ": " + e.getMessage(),
                    "free disk space or pass --cache-dir on a larger disk");
        }
        return path;
    }

    /** Writes the model for {@code spec} to {@code path} (atomically). */
    public static void write(SyntheticSpec spec, Path path) {
        SyntheticShape s = spec.shape();
        QuantMix mix = spec.mix();
        String a = s.arch();
        GgufWriter w = new GgufWriter();
        w.putString("general.architecture", a);
        w.putString("general.name", "synthetic " + spec.text() + " (random weights)");
        w.putString("general.description", "random weights of a real shape, written by trestle bench --synthetic;"
                + " for speed measurements only, its output is nonsense");
        w.putUint32("general.file_type", mix.fileType().id());
        w.putUint32(a + ".context_length", s.nCtxTrain());
        w.putUint32(a + ".embedding_length", s.nEmbd());
        w.putUint32(a + ".block_count", s.nLayer());
        w.putUint32(a + ".feed_forward_length", s.nFf());
        w.putUint32(a + ".attention.head_count", s.nHead());
        w.putUint32(a + ".attention.head_count_kv", s.nHeadKv());
        w.putFloat32(a + ".rope.freq_base", s.ropeBase());
        w.putUint32(a + ".vocab_size", s.nVocab());
        if (a.equals("qwen3moe")) {
            w.putUint32(a + ".attention.key_length", s.headDim());
            w.putUint32(a + ".attention.value_length", s.headDim());
            w.putFloat32(a + ".attention.layer_norm_rms_epsilon", 1e-6f);
            w.putUint32(a + ".expert_count", s.nExpert());
            w.putUint32(a + ".expert_used_count", s.nExpertUsed());
            w.putUint32(a + ".expert_feed_forward_length", s.nFfExp());
        } else {
            w.putUint32(a + ".rope.dimension_count", s.headDim());
            w.putFloat32(a + ".attention.layer_norm_rms_epsilon", 1e-5f);
        }
        putVocab(w, s.nVocab());

        SplittableRandom seeds = new SplittableRandom(0x5eed_7e57L ^ spec.fileName().hashCode());
        int e = s.nEmbd();
        int nl = s.nLayer();
        weight(w, mix, "token_embd.weight", Role.TOKEN_EMBD, 0, nl, s.tiedEmbd(), seeds, e, s.nVocab());
        if (!s.tiedEmbd()) {
            weight(w, mix, "output.weight", Role.OUTPUT, 0, nl, false, seeds, e, s.nVocab());
        }
        weight(w, mix, "output_norm.weight", Role.NORM, 0, nl, false, seeds, e);
        for (int l = 0; l < nl; l++) {
            String b = "blk." + l + ".";
            weight(w, mix, b + "attn_norm.weight", Role.NORM, l, nl, false, seeds, e);
            weight(w, mix, b + "attn_q.weight", Role.ATTN_Q, l, nl, false, seeds, e, s.qDim());
            weight(w, mix, b + "attn_k.weight", Role.ATTN_K, l, nl, false, seeds, e, s.kvDim());
            weight(w, mix, b + "attn_v.weight", Role.ATTN_V, l, nl, false, seeds, e, s.kvDim());
            weight(w, mix, b + "attn_output.weight", Role.ATTN_OUT, l, nl, false, seeds, s.qDim(), e);
            if (a.equals("qwen3moe")) {
                weight(w, mix, b + "attn_q_norm.weight", Role.NORM, l, nl, false, seeds, s.headDim());
                weight(w, mix, b + "attn_k_norm.weight", Role.NORM, l, nl, false, seeds, s.headDim());
            }
            weight(w, mix, b + "ffn_norm.weight", Role.NORM, l, nl, false, seeds, e);
            if (s.isMoe()) {
                weight(w, mix, b + "ffn_gate_inp.weight", Role.ROUTER, l, nl, false, seeds, e, s.nExpert());
                weight(w, mix, b + "ffn_gate_exps.weight", Role.FFN_GATE, l, nl, false, seeds, e, s.nFfExp(),
                        s.nExpert());
                weight(w, mix, b + "ffn_up_exps.weight", Role.FFN_UP, l, nl, false, seeds, e, s.nFfExp(),
                        s.nExpert());
                weight(w, mix, b + "ffn_down_exps.weight", Role.FFN_DOWN, l, nl, false, seeds, s.nFfExp(), e,
                        s.nExpert());
            } else {
                weight(w, mix, b + "ffn_gate.weight", Role.FFN_GATE, l, nl, false, seeds, e, s.nFf());
                weight(w, mix, b + "ffn_up.weight", Role.FFN_UP, l, nl, false, seeds, e, s.nFf());
                weight(w, mix, b + "ffn_down.weight", Role.FFN_DOWN, l, nl, false, seeds, s.nFf(), e);
            }
        }
        w.write(path);
    }

    /** An SPM vocabulary of {@code n} tokens: unk, bos, eos, the 256 byte tokens, then numbered pieces. */
    private static void putVocab(GgufWriter w, int n) {
        String[] tokens = new String[n];
        float[] scores = new float[n];
        int[] types = new int[n];
        tokens[0] = "<unk>";
        types[0] = TYPE_UNKNOWN;
        tokens[1] = "<s>";
        types[1] = TYPE_CONTROL;
        tokens[2] = "</s>";
        types[2] = TYPE_CONTROL;
        int bytes = Math.min(256, n - 3);
        for (int b = 0; b < bytes; b++) {
            tokens[3 + b] = String.format(java.util.Locale.ROOT, "<0x%02X>", b);
            types[3 + b] = TYPE_BYTE;
        }
        for (int i = 3 + bytes; i < n; i++) {
            tokens[i] = "\u2581t" + i;
            scores[i] = -i;
            types[i] = TYPE_NORMAL;
        }
        w.putString("tokenizer.ggml.model", "llama");
        w.putArray("tokenizer.ggml.tokens", GgufValue.GgufArray.ofStrings(tokens));
        w.putArray("tokenizer.ggml.scores", GgufValue.GgufArray.ofFloats(scores));
        w.putArray("tokenizer.ggml.token_type", GgufValue.GgufArray.ofInts(types));
        w.putUint32("tokenizer.ggml.bos_token_id", 1);
        w.putUint32("tokenizer.ggml.eos_token_id", 2);
        w.putUint32("tokenizer.ggml.unknown_token_id", 0);
        w.putBool("tokenizer.ggml.add_bos_token", true);
        w.putBool("tokenizer.ggml.add_eos_token", false);
    }

    /** Adds one weight of shape {@code ne} (ggml order: row length first) with random rows of its mix type. */
    private static void weight(GgufWriter w, QuantMix mix, String name, Role role, int layer, int nLayer, boolean tied,
                               SplittableRandom seeds, long... ne) {
        int rowLength = (int) ne[0];
        long rows = 1;
        for (int i = 1; i < ne.length; i++) {
            rows *= ne[i];
        }
        GgmlType type = mix.typeOf(role, layer, nLayer, rowLength, tied);
        long seed = seeds.nextLong();
        if (role == Role.NORM) {
            float[] ones = new float[rowLength];
            java.util.Arrays.fill(ones, 1f);
            w.tensorF32(name, ne, ones);
            return;
        }
        long rowCount = rows;
        // values uniform in [-a, a] with variance 1/rowLength keep activations O(1) through the layers
        float scale = role == Role.TOKEN_EMBD && !tied ? 1f : (float) Math.sqrt(3.0 / rowLength);
        w.tensor(name, type, ne, out -> {
            SplittableRandom rng = new SplittableRandom(seed);
            int poolRows = (int) Math.min(POOL_ROWS, rowCount);
            int rowBytes = (int) type.bytesFor(rowLength);
            byte[] pool = new byte[poolRows * rowBytes];
            float[] values = new float[rowLength];
            QuantCodec codec = Codecs.quantizerOf(type);
            MemorySegment poolSeg = MemorySegment.ofArray(pool);
            for (int r = 0; r < poolRows; r++) {
                for (int i = 0; i < rowLength; i++) {
                    values[i] = (float) ((rng.nextDouble() * 2 - 1) * scale);
                }
                codec.quantize(values, 0, poolSeg, (long) r * rowBytes, rowLength);
            }
            for (long r = 0; r < rowCount; r++) {
                out.write(pool, rng.nextInt(poolRows) * rowBytes, rowBytes);
            }
        });
    }
}
