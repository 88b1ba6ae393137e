package dev.trestle.engine.hub;

import dev.trestle.common.TrestleException;
import dev.trestle.engine.gguf.GgufValue;
import dev.trestle.engine.gguf.GgufWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A small random-weight {@code llama} model that Trestle writes itself, so a fresh install can run its
 * whole path (tokenizer, chat template, engine, server, clients) with no download. Its output is
 * nonsense by construction, and its name says so.
 *
 * <p>Everything is deterministic: the same bytes on every machine and JDK (own PRNG, {@link StrictMath}).
 * The vocabulary is SentencePiece-style like stories260K's: control tokens, the 256 byte-fallback
 * tokens, single characters, then BPE merges learned from a fixed text, scored so earlier merges win;
 * every merged piece is the concatenation of two earlier pieces, so SPM merging can reach it.
 */
public final class DemoModel {
    /** File name inside the cache's demo folder; bump the version when the content changes. */
    public static final String FILE_NAME = "trestle-demo-llama-v1.gguf";
    /** What the startup log should say when serving it. */
    public static final String NOTICE = "demo model: random weights, its output is nonsense"
            + " (it only shows that tokenizer, template, engine and server work end to end)";
    public static final String NAME = "Trestle demo - random weights, output is nonsense";

    static final int N_EMBD = 64;
    static final int N_LAYER = 2;
    static final int N_HEAD = 4;
    static final int N_HEAD_KV = 2;
    static final int N_FF = 128;
    static final int N_CTX = 2048;
    static final int VOCAB = 512;
    static final int HEAD_DIM = N_EMBD / N_HEAD;

    static final int UNK = 0;
    static final int BOS = 1;
    static final int EOS = 2;
    static final int IM_START = 3;
    static final int IM_END = 4;
    static final int FIRST_BYTE = 5;

    // llama.cpp token types
    private static final int TYPE_NORMAL = 1;
    private static final int TYPE_UNKNOWN = 2;
    private static final int TYPE_CONTROL = 3;
    private static final int TYPE_BYTE = 6;

    private static final String SPACE = "\u2581";
    private static final String SINGLE_CHARS =
            "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,!?'\"-:;()";
    static final String CHAT_TEMPLATE = "{% for message in messages %}"
            + "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
            + "{% endfor %}"
            + "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

    /** The text the merges are learned from (plain English about what this model is). */
    private static final String CORPUS = """
            This is the demo model of Trestle. It has random weights, so the words it writes are nonsense.
            The model exists to test the whole path on a new machine: the tokenizer turns text into tokens,
            the chat template wraps the messages of the user and the assistant, the engine runs the layers
            of the transformer on the CPU or on the GPU, and the server answers requests from clients.
            When that works, download a real model from the hub and serve it instead. A real model was
            trained on a lot of text and gives useful answers; this one was never trained at all.
            Once upon a time there was a little model that could not speak, but it could still count
            the tokens, follow the template, and stream every word back to the client as fast as it can.
            """;

    private DemoModel() {
    }

    /** The vocabulary: pieces, scores and token types, all of length {@link #VOCAB}. */
    record Vocab(String[] tokens, float[] scores, int[] types) {
    }

    /** Writes the demo model to {@code path} (atomically). */
    public static void write(Path path) {
        Vocab v = vocab();
        GgufWriter w = new GgufWriter();
        w.putString("general.architecture", "llama");
        w.putString("general.name", NAME);
        w.putString("general.description", NOTICE);
        w.putString("general.license", "CC0-1.0");
        w.putUint32("general.file_type", 0);
        w.putUint32("llama.context_length", N_CTX);
        w.putUint32("llama.embedding_length", N_EMBD);
        w.putUint32("llama.block_count", N_LAYER);
        w.putUint32("llama.feed_forward_length", N_FF);
        w.putUint32("llama.attention.head_count", N_HEAD);
        w.putUint32("llama.attention.head_count_kv", N_HEAD_KV);
        w.putUint32("llama.rope.dimension_count", HEAD_DIM);
        w.putFloat32("llama.rope.freq_base", 10000f);
        w.putFloat32("llama.attention.layer_norm_rms_epsilon", 1e-5f);
        w.putUint32("llama.vocab_size", VOCAB);
        w.putString("tokenizer.ggml.model", "llama");
        w.putString("tokenizer.ggml.pre", "default");
        w.putArray("tokenizer.ggml.tokens", GgufValue.GgufArray.ofStrings(v.tokens()));
        w.putArray("tokenizer.ggml.scores", GgufValue.GgufArray.ofFloats(v.scores()));
        w.putArray("tokenizer.ggml.token_type", GgufValue.GgufArray.ofInts(v.types()));
        w.putUint32("tokenizer.ggml.bos_token_id", BOS);
        w.putUint32("tokenizer.ggml.eos_token_id", IM_END);
        w.putUint32("tokenizer.ggml.eot_token_id", IM_END);
        w.putUint32("tokenizer.ggml.unknown_token_id", UNK);
        w.putBool("tokenizer.ggml.add_bos_token", true);
        w.putBool("tokenizer.ggml.add_eos_token", false);
        w.putString("tokenizer.chat_template", CHAT_TEMPLATE);

        Rng rng = new Rng(0x7e57_1e_d3_30L);
        float embScale = 1f;
        float projScale = (float) (1 / StrictMath.sqrt(N_EMBD));
        float downScale = (float) (1 / StrictMath.sqrt(N_FF));
        int kvDim = N_HEAD_KV * HEAD_DIM;
        w.tensorF32("token_embd.weight", new long[] {N_EMBD, VOCAB}, rng.gaussians(N_EMBD * VOCAB, embScale));
        w.tensorF32("output_norm.weight", new long[] {N_EMBD}, ones(N_EMBD));
        w.tensorF32("output.weight", new long[] {N_EMBD, VOCAB}, rng.gaussians(N_EMBD * VOCAB, projScale));
        for (int l = 0; l < N_LAYER; l++) {
            String b = "blk." + l + ".";
            w.tensorF32(b + "attn_norm.weight", new long[] {N_EMBD}, ones(N_EMBD));
            w.tensorF32(b + "attn_q.weight", new long[] {N_EMBD, N_EMBD}, rng.gaussians(N_EMBD * N_EMBD, projScale));
            w.tensorF32(b + "attn_k.weight", new long[] {N_EMBD, kvDim}, rng.gaussians(N_EMBD * kvDim, projScale));
            w.tensorF32(b + "attn_v.weight", new long[] {N_EMBD, kvDim}, rng.gaussians(N_EMBD * kvDim, projScale));
            w.tensorF32(b + "attn_output.weight", new long[] {N_EMBD, N_EMBD}, rng.gaussians(N_EMBD * N_EMBD, projScale));
            w.tensorF32(b + "ffn_norm.weight", new long[] {N_EMBD}, ones(N_EMBD));
            w.tensorF32(b + "ffn_gate.weight", new long[] {N_EMBD, N_FF}, rng.gaussians(N_EMBD * N_FF, projScale));
            w.tensorF32(b + "ffn_up.weight", new long[] {N_EMBD, N_FF}, rng.gaussians(N_EMBD * N_FF, projScale));
            w.tensorF32(b + "ffn_down.weight", new long[] {N_FF, N_EMBD}, rng.gaussians(N_FF * N_EMBD, downScale));
        }
        w.write(path);
    }

    /**
     * The demo model in {@code cache}, written (and indexed) when missing or not byte-identical to what
     * this version writes.
     */
    public static Path ensure(ModelCache cache) {
        Path target = cache.demoPath(FILE_NAME);
        Path fresh = target.resolveSibling(FILE_NAME + ".new" + ProcessHandle.current().pid());
        try {
            write(fresh);
            String sha = ModelCache.hashFile(fresh);
            boolean same = Files.isRegularFile(target) && Files.size(target) == Files.size(fresh)
                    && cache.sha256(target).equals(sha);
            if (same) {
                Files.delete(fresh);
            } else {
                Files.move(fresh, target, StandardCopyOption.REPLACE_EXISTING);
            }
            if (!same || cache.entryFor(target).isEmpty()) {
                cache.record(target, "demo", null, null, FILE_NAME, null, sha, Files.size(target));
            }
            return target;
        } catch (IOException e) {
            throw new TrestleException("cannot write the demo model to " + target + ": " + e.getMessage(),
                    "check --cache-dir / TRESTLE_CACHE points at a writable folder");
        } finally {
            try {
                Files.deleteIfExists(fresh);
            } catch (IOException ignored) {
                // best effort: a stray temp file is harmless
            }
        }
    }

    /** Builds the vocabulary (deterministic). */
    static Vocab vocab() {
        List<String> tokens = new ArrayList<>();
        List<Float> scores = new ArrayList<>();
        List<Integer> types = new ArrayList<>();
        add(tokens, scores, types, "<unk>", 0f, TYPE_UNKNOWN);
        add(tokens, scores, types, "<s>", 0f, TYPE_CONTROL);
        add(tokens, scores, types, "</s>", 0f, TYPE_CONTROL);
        add(tokens, scores, types, "<|im_start|>", 0f, TYPE_CONTROL);
        add(tokens, scores, types, "<|im_end|>", 0f, TYPE_CONTROL);
        for (int b = 0; b < 256; b++) {
            add(tokens, scores, types, String.format(java.util.Locale.ROOT, "<0x%02X>", b), 0f, TYPE_BYTE);
        }
        // Single characters are starting symbols, never merge results, so their score is never consulted.
        add(tokens, scores, types, SPACE, -1000f, TYPE_NORMAL);
        for (int i = 0; i < SINGLE_CHARS.length(); i++) {
            add(tokens, scores, types, String.valueOf(SINGLE_CHARS.charAt(i)), -1000f, TYPE_NORMAL);
        }
        List<String> merges = learnMerges(VOCAB - tokens.size());
        for (int r = 0; r < merges.size(); r++) {
            add(tokens, scores, types, merges.get(r), -r, TYPE_NORMAL);
        }
        if (tokens.size() != VOCAB) {
            throw new IllegalStateException("demo vocabulary has " + tokens.size() + " tokens, expected " + VOCAB);
        }
        float[] s = new float[VOCAB];
        int[] t = new int[VOCAB];
        for (int i = 0; i < VOCAB; i++) {
            s[i] = scores.get(i);
            t[i] = types.get(i);
        }
        return new Vocab(tokens.toArray(String[]::new), s, t);
    }

    /**
     * Byte-pair merges over the corpus's SentencePiece words ("▁word"): repeatedly join the most frequent
     * adjacent pair (ties: the lexicographically smaller pair), {@code n} times.
     */
    private static List<String> learnMerges(int n) {
        Map<String, Integer> wordCounts = new LinkedHashMap<>();
        for (String w : CORPUS.strip().split("\\s+")) {
            wordCounts.merge(SPACE + w, 1, Integer::sum);
        }
        List<List<String>> words = new ArrayList<>();
        List<Integer> counts = new ArrayList<>();
        for (Map.Entry<String, Integer> e : wordCounts.entrySet()) {
            List<String> syms = new ArrayList<>();
            e.getKey().codePoints().forEach(cp -> syms.add(new String(Character.toChars(cp))));
            words.add(syms);
            counts.add(e.getValue());
        }
        List<String> merges = new ArrayList<>();
        java.util.Set<String> known = new java.util.HashSet<>();
        while (merges.size() < n) {
            Map<String, Integer> pairs = new HashMap<>();
            for (int i = 0; i < words.size(); i++) {
                List<String> syms = words.get(i);
                for (int j = 0; j + 1 < syms.size(); j++) {
                    pairs.merge(syms.get(j) + "\u0000" + syms.get(j + 1), counts.get(i), Integer::sum);
                }
            }
            String best = null;
            int bestCount = 0;
            for (Map.Entry<String, Integer> e : pairs.entrySet()) {
                String joined = e.getKey().replace("\u0000", "");
                if (known.contains(joined)) {
                    continue;
                }
                if (e.getValue() > bestCount || (e.getValue() == bestCount && e.getKey().compareTo(best) < 0)) {
                    best = e.getKey();
                    bestCount = e.getValue();
                }
            }
            if (best == null) {
                throw new IllegalStateException("demo corpus too small for " + n + " merges (got " + merges.size() + ")");
            }
            String left = best.substring(0, best.indexOf('\u0000'));
            String right = best.substring(best.indexOf('\u0000') + 1);
            String joined = left + right;
            merges.add(joined);
            known.add(joined);
            for (List<String> syms : words) {
                for (int j = 0; j + 1 < syms.size(); j++) {
                    if (syms.get(j).equals(left) && syms.get(j + 1).equals(right)) {
                        syms.set(j, joined);
                        syms.remove(j + 1);
                    }
                }
            }
        }
        return merges;
    }

    private static void add(List<String> tokens, List<Float> scores, List<Integer> types, String t, float s, int type) {
        tokens.add(t);
        scores.add(s);
        types.add(type);
    }

    private static float[] ones(int n) {
        float[] f = new float[n];
        java.util.Arrays.fill(f, 1f);
        return f;
    }

    /** splitmix64 with Box-Muller through StrictMath: identical numbers on every JVM. */
    private static final class Rng {
        private long state;

        Rng(long seed) {
            this.state = seed;
        }

        long next() {
            long z = (state += 0x9E3779B97F4A7C15L);
            z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
            z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
            return z ^ (z >>> 31);
        }

        /** Uniform in (0, 1]. */
        double uniform() {
            return ((next() >>> 11) + 1) * 0x1.0p-53;
        }

        float[] gaussians(int n, float scale) {
            float[] out = new float[n];
            for (int i = 0; i < n; i += 2) {
                double r = StrictMath.sqrt(-2 * StrictMath.log(uniform()));
                double a = 2 * StrictMath.PI * uniform();
                out[i] = (float) (r * StrictMath.cos(a)) * scale;
                if (i + 1 < n) {
                    out[i + 1] = (float) (r * StrictMath.sin(a)) * scale;
                }
            }
            return out;
        }
    }
}
