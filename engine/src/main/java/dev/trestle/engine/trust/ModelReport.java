package dev.trestle.engine.trust;

import dev.trestle.backends.type.GgmlType;
import dev.trestle.engine.gguf.GgufFile;
import dev.trestle.engine.gguf.GgufMetadata;
import dev.trestle.engine.gguf.GgufTensorInfo;
import dev.trestle.engine.gguf.GgufFileType;
import dev.trestle.engine.gguf.GgufValue;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What a GGUF file claims to be, and what about it looks wrong: printed when a model loads, so users
 * know what they run.
 *
 * <p>Structural lies (tensors outside the data section, overlapping tensors, counts that do not fit the
 * file) are already fatal in the reader; this report warns about what parses but is suspicious: absurd
 * hyperparameters, tokenizer arrays that disagree, special token ids outside the vocabulary, and bytes in
 * the data section that belong to no tensor (room for a hidden payload). Unknown keys, also in reserved
 * namespaces, are normal (converters add new ones all the time) and are not reported.
 *
 * @param path          the file
 * @param fileSize      bytes
 * @param architecture  {@code general.architecture}, or null
 * @param name          {@code general.name}, or null
 * @param license       {@code general.license}, or null
 * @param quant         the quant name from {@code general.file_type} ("Q4_K_M"), or the dominant tensor type
 *                      followed by " (guessed)" when the key is missing
 * @param typeBytes     tensor bytes per storage type, largest first
 * @param parameters    number of weights (elements over all tensors)
 * @param contextLength {@code ARCH.context_length}, or -1
 * @param tokenizer     {@code tokenizer.ggml.model}, or null
 * @param vocabSize     number of tokens in {@code tokenizer.ggml.tokens}, or -1
 * @param chatTemplate  whether {@code tokenizer.chat_template} is present
 * @param tensorCount   number of tensors
 * @param warnings      suspicious findings, each one sentence
 */
public record ModelReport(Path path, long fileSize, String architecture, String name, String license, String quant,
                          Map<GgmlType, Long> typeBytes, long parameters, long contextLength, String tokenizer,
                          int vocabSize, boolean chatTemplate, int tensorCount, List<String> warnings) {

    // Far beyond every released model; a file claiming more is broken or hostile.
    static final long MAX_CONTEXT = 1L << 24;
    static final long MAX_LAYERS = 4096;
    static final long MAX_EMBD = 1L << 20;
    static final long MAX_HEADS = 1L << 14;
    static final long MAX_VOCAB = 1L << 23;
    static final long MAX_STRING = 1L << 20;
    private static final long NO_TOKEN = 0xFFFF_FFFFL;
    private static final String[] SPECIAL_IDS = {"bos", "eos", "eot", "eom", "unknown", "seperator", "padding", "mask",
        "cls", "prefix", "suffix", "middle", "fim_pre", "fim_suf", "fim_mid", "fim_pad", "fim_rep", "fim_sep"};

    public ModelReport {
        warnings = List.copyOf(warnings);
    }

    /** Builds the report of an open file (reads metadata and the tensor table only). */
    public static ModelReport of(GgufFile f) {
        GgufMetadata m = f.metadata();
        List<String> warn = new ArrayList<>();
        String arch = m.architecture();
        if (arch == null) {
            warn.add("no general.architecture: this is not a model file (vocab-only or another format)");
        }
        Map<GgmlType, Long> bytes = new EnumMap<>(GgmlType.class);
        long params = 0;
        for (GgufTensorInfo t : f.tensors().values()) {
            bytes.merge(t.type(), t.bytes(), Long::sum);
            params += t.elements();
        }
        Map<GgmlType, Long> sorted = new java.util.LinkedHashMap<>();
        bytes.entrySet().stream().sorted(Map.Entry.<GgmlType, Long>comparingByValue().reversed())
                .forEach(e -> sorted.put(e.getKey(), e.getValue()));

        String quant;
        GgufValue ft = m.asMap().get("general.file_type");
        if (ft != null && ft.type().isInteger()) {
            GgufFileType t = GgufFileType.fromId(ft.asLong());
            if (t == null) {
                warn.add("general.file_type " + ft.asLong() + " is not a llama.cpp file type");
                quant = "unknown (" + ft.asLong() + ")";
            } else {
                quant = t.shortName();
            }
        } else {
            quant = sorted.isEmpty() ? "none" : sorted.keySet().iterator().next() + " (guessed)";
        }

        long ctx = -1;
        if (arch != null) {
            ctx = checkedLong(m, arch + ".context_length", MAX_CONTEXT, "context length", warn);
            checkedLong(m, arch + ".block_count", MAX_LAYERS, "layer count", warn);
            checkedLong(m, arch + ".embedding_length", MAX_EMBD, "embedding length", warn);
            checkedLong(m, arch + ".attention.head_count", MAX_HEADS, "head count", warn);
        }

        String tok = stringOrNull(m, "tokenizer.ggml.model");
        int vocab = -1;
        GgufValue tokens = m.asMap().get("tokenizer.ggml.tokens");
        if (tokens != null && tokens.value() instanceof GgufValue.GgufArray a) {
            vocab = a.length();
            if (vocab > MAX_VOCAB) {
                warn.add("vocabulary of " + vocab + " tokens is implausibly large");
            }
            for (String key : new String[] {"tokenizer.ggml.scores", "tokenizer.ggml.token_type"}) {
                GgufValue v = m.asMap().get(key);
                if (v != null && v.value() instanceof GgufValue.GgufArray other && other.length() != vocab) {
                    warn.add(key + " has " + other.length() + " entries but there are " + vocab + " tokens");
                }
            }
            for (String s : SPECIAL_IDS) {
                GgufValue v = m.asMap().get("tokenizer.ggml." + s + "_token_id");
                if (v != null && v.type().isInteger() && v.asLong() != NO_TOKEN && v.asLong() != -1
                        && (v.asLong() < 0 || v.asLong() >= vocab)) {
                    warn.add("tokenizer.ggml." + s + "_token_id = " + v.asLong() + " is outside the vocabulary of "
                            + vocab + " tokens");
                }
            }
            GgufTensorInfo embd = f.tensor("token_embd.weight");
            if (embd != null && embd.rank() >= 2 && embd.dim(1) != vocab) {
                warn.add("token_embd.weight has " + embd.dim(1) + " rows but the vocabulary has " + vocab + " tokens");
            }
        } else if (arch != null && tok != null && !tok.equals("none") && !tok.equals("no_vocab")) {
            warn.add("tokenizer.ggml.model is " + tok + " but tokenizer.ggml.tokens is missing");
        }

        for (Map.Entry<String, GgufValue> e : m.asMap().entrySet()) {
            if (e.getValue().value() instanceof String s && s.length() > MAX_STRING) {
                warn.add("metadata string " + e.getKey() + " is " + s.length() + " characters long");
            }
        }

        checkDataSection(f, warn);
        boolean template = m.asMap().get("tokenizer.chat_template") != null;
        return new ModelReport(f.path(), f.fileSize(), arch, stringOrNull(m, "general.name"),
                stringOrNull(m, "general.license"), quant, sorted, params, ctx, tok, vocab, template,
                f.tensors().size(), warn);
    }

    /** Opens {@code path}, reports, closes. */
    public static ModelReport read(Path path) {
        try (GgufFile f = GgufFile.open(path)) {
            return of(f);
        }
    }

    /** The report as log lines: what the file claims, then one line per warning. */
    public List<String> lines() {
        List<String> out = new ArrayList<>();
        out.add("model: " + path + " (" + human(fileSize) + ")");
        out.add("  claims: " + (architecture == null ? "no architecture" : architecture)
                + (name == null ? "" : ", \"" + name + "\"") + ", " + String.format(Locale.ROOT, "%.2fM", parameters / 1e6)
                + " parameters, " + quant);
        out.add("  tensors: " + tensorCount + " (" + quantMix() + ")");
        out.add("  context: " + (contextLength < 0 ? "not stated" : contextLength)
                + "; tokenizer: " + (tokenizer == null ? "none" : tokenizer + (vocabSize >= 0 ? ", " + vocabSize + " tokens" : ""))
                + "; chat template: " + (chatTemplate ? "present" : "absent"));
        out.add("  license: " + (license == null ? "not stated" : license));
        for (String w : warnings) {
            out.add("  warning: " + w);
        }
        return out;
    }

    /** "Q4_K 71.2%, Q6_K 20.1%, F32 8.7%" by bytes. */
    public String quantMix() {
        long total = typeBytes.values().stream().mapToLong(Long::longValue).sum();
        if (total == 0) {
            return "no tensor data";
        }
        StringBuilder sb = new StringBuilder();
        for (Map.Entry<GgmlType, Long> e : typeBytes.entrySet()) {
            if (!sb.isEmpty()) {
                sb.append(", ");
            }
            sb.append(e.getKey()).append(' ').append(String.format(Locale.ROOT, "%.1f%%", 100.0 * e.getValue() / total));
        }
        return sb.toString();
    }

    // Every byte of the data section should belong to a tensor or to alignment padding.
    private static void checkDataSection(GgufFile f, List<String> warn) {
        List<GgufTensorInfo> ts = new ArrayList<>(f.tensors().values());
        ts.sort(Comparator.comparingLong(GgufTensorInfo::offset));
        long align = f.alignment();
        long cursor = 0;
        long unclaimed = 0;
        for (GgufTensorInfo t : ts) {
            if (t.offset() - cursor >= align) {
                unclaimed += t.offset() - cursor;
            }
            cursor = Math.max(cursor, alignUp(t.offset() + t.bytes(), align));
        }
        if (unclaimed > 0) {
            warn.add(unclaimed + " bytes between tensors belong to no tensor");
        }
        long dataSize = Math.max(0, f.fileSize() - f.dataOffset());
        if (!ts.isEmpty() && dataSize - cursor >= align) {
            warn.add((dataSize - cursor) + " bytes after the last tensor belong to no tensor");
        }
    }

    private static long checkedLong(GgufMetadata m, String key, long max, String what, List<String> warn) {
        GgufValue v = m.asMap().get(key);
        if (v == null) {
            return -1;
        }
        if (!v.type().isInteger()) {
            warn.add(key + " (" + what + ") is " + v.type() + ", not an integer");
            return -1;
        }
        long n = v.asLong();
        if (n <= 0 || n > max) {
            warn.add(key + " claims a " + what + " of " + Long.toUnsignedString(n) + ", outside any plausible model (1.." + max + ")");
        }
        return n;
    }

    private static String stringOrNull(GgufMetadata m, String key) {
        GgufValue v = m.asMap().get(key);
        return v != null && v.value() instanceof String s ? s : null;
    }

    private static long alignUp(long x, long a) {
        return (x + a - 1) / a * a;
    }

    private static String human(long n) {
        if (n < 1024) {
            return n + " B";
        }
        double v = n;
        String[] u = {"KiB", "MiB", "GiB", "TiB"};
        int i = -1;
        while (v >= 1024 && i < u.length - 1) {
            v /= 1024;
            i++;
        }
        return String.format(Locale.ROOT, "%.1f %s", v, u[i]);
    }
}
