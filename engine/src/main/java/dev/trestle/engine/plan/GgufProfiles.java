package dev.trestle.engine.plan;

import dev.trestle.common.TrestleException;
import dev.trestle.engine.gguf.GgufFile;
import dev.trestle.engine.gguf.GgufMetadata;
import dev.trestle.engine.gguf.GgufTensorInfo;
import dev.trestle.engine.gguf.GgufValue;
import dev.trestle.scheduler.profile.LayerGeometry;
import dev.trestle.scheduler.profile.ModelProfile;
import dev.trestle.scheduler.profile.TensorProfile;
import dev.trestle.scheduler.profile.TensorRole;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Builds the planner's {@link ModelProfile} from a GGUF header and tensor table (no tensor data is
 * read), classifying tensors by llama.cpp's names. This is the planner's view of an architecture; the
 * architecture tables in engine/model can replace the classifier later.
 */
public final class GgufProfiles {
    private static final Pattern BLOCK = Pattern.compile("^blk\\.(\\d+)\\.(.+)$");
    private static final String[] SUFFIXES = {".weight", ".bias", ".scale", ".input_scale"};

    // hparams, llama.cpp's key names ("%s" is general.architecture)
    private static final String BLOCK_COUNT = "%s.block_count";
    private static final String EMBEDDING_LENGTH = "%s.embedding_length";
    private static final String FEED_FORWARD_LENGTH = "%s.feed_forward_length";
    private static final String EXPERT_FEED_FORWARD_LENGTH = "%s.expert_feed_forward_length";
    private static final String CONTEXT_LENGTH = "%s.context_length";
    private static final String HEAD_COUNT = "%s.attention.head_count";
    private static final String HEAD_COUNT_KV = "%s.attention.head_count_kv";
    private static final String KEY_LENGTH = "%s.attention.key_length";
    private static final String VALUE_LENGTH = "%s.attention.value_length";
    private static final String SLIDING_WINDOW = "%s.attention.sliding_window";
    private static final String SLIDING_WINDOW_PATTERN = "%s.attention.sliding_window_pattern";
    private static final String EXPERT_COUNT = "%s.expert_count";
    private static final String EXPERT_USED_COUNT = "%s.expert_used_count";
    private static final String VOCAB_SIZE = "%s.vocab_size";
    private static final String TOKENS = "tokenizer.ggml.tokens";
    private static final String NAME = "general.name";

    /**
     * Architectures whose sliding-window layout llama.cpp hard-codes rather than reading from the file:
     * with period n, layer il slides when il % n < n - 1.
     */
    private static final Map<String, Integer> SWA_PERIOD = Map.of(
            "gemma2", 2, "gemma3", 6, "cohere2", 4, "gpt-oss", 2, "gemma3n", 5);

    private GgufProfiles() {
    }

    /** Opens {@code path}, reads its header and tensor table, and builds the profile. */
    public static ModelProfile of(Path path) {
        try (GgufFile f = GgufFile.open(path)) {
            return of(f);
        }
    }

    /** The profile of an opened GGUF file. */
    public static ModelProfile of(GgufFile f) {
        GgufMetadata md = f.metadata();
        String arch = md.architecture();
        if (arch == null) {
            throw new TrestleException(f.path() + " has no general.architecture",
                    "this is not a model file (a vocab-only GGUF?); pass the model with -m");
        }
        int nLayer = md.getInt(BLOCK_COUNT);
        int nEmbd = md.getInt(EMBEDDING_LENGTH);
        int[] nHead = perLayer(md, HEAD_COUNT, nLayer, 0);
        int maxHead = max(nHead);
        int[] nHeadKv = md.contains(HEAD_COUNT_KV) ? perLayer(md, HEAD_COUNT_KV, nLayer, 0) : nHead.clone();
        int defaultHeadDim = maxHead > 0 ? nEmbd / maxHead : 0;
        int headDimK = md.getInt(KEY_LENGTH, defaultHeadDim);
        int headDimV = md.getInt(VALUE_LENGTH, headDimK);
        int window = md.getInt(SLIDING_WINDOW, 0);
        boolean[] sliding = slidingLayers(md, arch, nLayer, window);

        List<LayerGeometry> layers = new ArrayList<>(nLayer);
        for (int il = 0; il < nLayer; il++) {
            layers.add(new LayerGeometry(nHeadKv[il], headDimK, headDimV, sliding[il] ? window : 0));
        }

        List<TensorProfile> tensors = new ArrayList<>();
        long nFf = 0;
        long nFfExpert = 0;
        long vocab = 0;
        boolean hasOutput = false;
        GgufTensorInfo embd = null;
        for (GgufTensorInfo t : f.tensors().values()) {
            TensorProfile p = classify(t, nLayer);
            tensors.add(p);
            String base = baseName(t.name());
            if (p.role() == TensorRole.FFN_DENSE && (base.endsWith("ffn_up") || base.endsWith("ffn_gate"))) {
                nFf = Math.max(nFf, t.dim(1));
            } else if (p.role() == TensorRole.FFN_EXPERT && (base.endsWith("ffn_up_exps") || base.endsWith("ffn_gate_exps"))) {
                nFfExpert = Math.max(nFfExpert, t.dim(1));
            } else if (p.role() == TensorRole.OUTPUT) {
                hasOutput = true;
                vocab = Math.max(vocab, t.dim(1));
            } else if (t.name().equals("token_embd.weight")) {
                embd = t;
                vocab = Math.max(vocab, t.dim(1));
            }
        }
        if (!hasOutput && embd != null) {
            // tied embeddings: llama.cpp places a second copy with the output layer
            tensors.add(new TensorProfile("output.weight", TensorRole.OUTPUT, TensorProfile.OUTPUT_LAYER, embd.type(),
                    embd.shape(), embd.bytes(), embd.name()));
        }
        if (md.contains(TOKENS)) {
            vocab = Math.max(vocab, md.getArray(TOKENS).length());
        }
        vocab = Math.max(vocab, md.getLong(VOCAB_SIZE, 0));
        if (nFf == 0 && md.contains(FEED_FORWARD_LENGTH)) {
            nFf = max(perLayer(md, FEED_FORWARD_LENGTH, nLayer, 0));
        }
        if (nFfExpert == 0) {
            nFfExpert = md.getLong(EXPERT_FEED_FORWARD_LENGTH, 0);
        }
        return new ModelProfile(arch, md.getString(NAME, f.path().getFileName().toString()), nLayer, nEmbd, maxHead,
                (int) vocab, (int) nFf, md.getInt(EXPERT_COUNT, 0), md.getInt(EXPERT_USED_COUNT, 0), (int) nFfExpert,
                md.getInt(CONTEXT_LENGTH, 0), layers, tensors);
    }

    /** The role and layer of one tensor, from its llama.cpp name. */
    static TensorProfile classify(GgufTensorInfo t, int nLayer) {
        Matcher m = BLOCK.matcher(t.name());
        if (m.matches()) {
            int layer;
            try {
                layer = Integer.parseInt(m.group(1));
            } catch (NumberFormatException e) {
                layer = -1;
            }
            if (layer < 0 || layer >= nLayer) {
                throw new TrestleException("tensor " + t.name() + " names layer " + m.group(1) + " but the model has "
                        + nLayer + " layers", "the model file is corrupt or mislabelled");
            }
            return new TensorProfile(t.name(), layerRole(baseName(m.group(2))), layer, t.type(), t.shape(), t.bytes());
        }
        String base = baseName(t.name());
        if (base.equals("token_embd") || base.equals("token_types") || base.equals("position_embd")
                || base.startsWith("token_embd_")) {
            return new TensorProfile(t.name(), TensorRole.TOKEN_EMBD, TensorProfile.INPUT, t.type(), t.shape(), t.bytes());
        }
        TensorRole role = base.equals("output") ? TensorRole.OUTPUT
                : base.contains("norm") ? TensorRole.NORM : TensorRole.OTHER;
        return new TensorProfile(t.name(), role, TensorProfile.OUTPUT_LAYER, t.type(), t.shape(), t.bytes());
    }

    private static TensorRole layerRole(String base) {
        if (base.contains("norm")) {
            return TensorRole.NORM;
        }
        if (base.contains("_exps")) {
            return TensorRole.FFN_EXPERT;
        }
        if (base.contains("_shexp")) {
            return TensorRole.FFN_SHARED_EXPERT;
        }
        if (base.startsWith("ffn_gate_inp") || base.equals("exp_probs_b")) {
            return TensorRole.ROUTER;
        }
        if (base.startsWith("ffn_")) {
            return TensorRole.FFN_DENSE;
        }
        if (base.startsWith("attn_")) {
            return TensorRole.ATTENTION;
        }
        return TensorRole.OTHER;
    }

    /** "blk.0.ffn_up_exps.scale" -> "blk.0.ffn_up_exps"; "attn_q.weight" -> "attn_q". */
    static String baseName(String name) {
        for (String s : SUFFIXES) {
            if (name.endsWith(s)) {
                return name.substring(0, name.length() - s.length());
            }
        }
        return name;
    }

    private static boolean[] slidingLayers(GgufMetadata md, String arch, int nLayer, int window) {
        boolean[] out = new boolean[nLayer];
        if (window <= 0) {
            return out;
        }
        if (md.contains(SLIDING_WINDOW_PATTERN)) {
            GgufValue v = md.get(SLIDING_WINDOW_PATTERN);
            if (v.value() instanceof GgufValue.GgufArray a) {
                for (int il = 0; il < nLayer && il < a.length(); il++) {
                    out[il] = a.getLong(il) != 0;
                }
                return out;
            }
            return periodic(nLayer, (int) v.asLong());
        }
        Integer period = SWA_PERIOD.get(arch);
        // unknown layout: every layer keeps the full context, which can only overestimate
        return period == null ? out : periodic(nLayer, period);
    }

    /** llama.cpp's set_swa_pattern(n): layer il slides when il % n < n - 1 (n = 0: all slide). */
    private static boolean[] periodic(int nLayer, int n) {
        boolean[] out = new boolean[nLayer];
        for (int il = 0; il < nLayer; il++) {
            out[il] = n == 0 || il % n < n - 1;
        }
        return out;
    }

    /** A key that is either one integer for every layer or an array with one per layer. */
    private static int[] perLayer(GgufMetadata md, String key, int nLayer, int fallback) {
        int[] out = new int[nLayer];
        if (!md.contains(key)) {
            java.util.Arrays.fill(out, fallback);
            return out;
        }
        GgufValue v = md.get(key);
        if (v.value() instanceof GgufValue.GgufArray) {
            int[] a = md.getIntArray(key);
            if (a.length < nLayer) {
                throw new TrestleException("GGUF key " + md.resolve(key) + " has " + a.length + " entries for "
                        + nLayer + " layers", "the model file is corrupt");
            }
            System.arraycopy(a, 0, out, 0, nLayer);
            return out;
        }
        java.util.Arrays.fill(out, md.getInt(key));
        return out;
    }

    private static int max(int[] a) {
        int m = 0;
        for (int x : a) {
            m = Math.max(m, x);
        }
        return m;
    }
}
