package dev.trestle.engine.gguf;

import dev.trestle.backends.type.GgmlType;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * What a GGUF file claims about the model in it, computed from the header and tensor table only
 * (no tensor data is touched), for {@code trestle inspect} and the server's model listing.
 *
 * <p>Reading is lenient: a key with an unexpected type is treated as absent, so a summary can be
 * shown for any file the reader accepts.
 *
 * @param path            the file (null for in-memory files)
 * @param fileSize        bytes
 * @param version         GGUF version (2 or 3)
 * @param alignment       data alignment in bytes
 * @param dataOffset      file offset of the data section
 * @param metadataCount   number of metadata entries
 * @param architecture    {@code general.architecture}, or null
 * @param name            {@code general.name}, or null
 * @param parameterCount  sum of the elements of every tensor (llama.cpp's "model params")
 * @param fileTypeId      {@code general.file_type}, or llama.cpp's guess with {@link GgufFileType#GUESSED} set
 * @param contextLength   {@code <arch>.context_length}
 * @param blockCount      {@code <arch>.block_count} (layers)
 * @param embeddingLength {@code <arch>.embedding_length}
 * @param vocabSize       tokens in {@code tokenizer.ggml.tokens}, else {@code <arch>.vocab_size}, else
 *                        the rows of {@code token_embd.weight}
 * @param tokenizerModel  {@code tokenizer.ggml.model}, or null
 * @param hyperparameters every {@code <arch>.*} entry, in file order
 * @param tensorTypes     tensor count, elements and bytes per storage type, in ggml type id order
 * @param tensorCount     number of tensors
 * @param tensorBytes     total tensor data bytes
 */
public record GgufSummary(
        Path path,
        long fileSize,
        int version,
        long alignment,
        long dataOffset,
        int metadataCount,
        String architecture,
        String name,
        long parameterCount,
        long fileTypeId,
        OptionalLong contextLength,
        OptionalLong blockCount,
        OptionalLong embeddingLength,
        OptionalLong vocabSize,
        String tokenizerModel,
        Map<String, GgufValue> hyperparameters,
        List<TypeCount> tensorTypes,
        int tensorCount,
        long tensorBytes) {

    /** Tensors of one storage type. */
    public record TypeCount(GgmlType type, int count, long elements, long bytes) {
    }

    public GgufSummary {
        hyperparameters = Collections.unmodifiableMap(new LinkedHashMap<>(hyperparameters));
        tensorTypes = List.copyOf(tensorTypes);
    }

    /** Summarizes an open file. */
    public static GgufSummary of(GgufFile f) {
        GgufMetadata m = f.metadata();
        String arch = m.architecture();

        EnumMap<GgmlType, long[]> perType = new EnumMap<>(GgmlType.class); // {count, elements, bytes}
        long params = 0;
        long bytes = 0;
        GgmlType mostCommon = GgmlType.F32;
        long mostCommonCount = 0;
        for (GgufTensorInfo t : f.tensors().values()) {
            long[] acc = perType.computeIfAbsent(t.type(), k -> new long[3]);
            acc[0]++;
            acc[1] += t.elements();
            acc[2] += t.bytes();
            params += t.elements();
            bytes += t.bytes();
            // like llama.cpp: the first type to reach the highest count wins
            if (acc[0] > mostCommonCount) {
                mostCommonCount = acc[0];
                mostCommon = t.type();
            }
        }
        List<TypeCount> types = new ArrayList<>();
        perType.forEach((type, acc) -> types.add(new TypeCount(type, (int) acc[0], acc[1], acc[2])));

        OptionalLong fileType = unsigned(m, "general.file_type");
        long fileTypeId = fileType.isPresent() ? fileType.getAsLong()
                : GgufFileType.guessFrom(mostCommon).id() | GgufFileType.GUESSED;

        Map<String, GgufValue> hparams = new LinkedHashMap<>();
        if (arch != null) {
            String prefix = arch + ".";
            m.asMap().forEach((k, v) -> {
                if (k.startsWith(prefix)) {
                    hparams.put(k, v);
                }
            });
        }

        return new GgufSummary(f.path(), f.fileSize(), f.version(), f.alignment(), f.dataOffset(),
                m.asMap().size(), arch, string(m, "general.name"), params, fileTypeId,
                unsigned(m, "%s.context_length"), unsigned(m, "%s.block_count"), unsigned(m, "%s.embedding_length"),
                vocabSize(f), string(m, "tokenizer.ggml.model"), hparams, types, f.tensors().size(), bytes);
    }

    private static OptionalLong vocabSize(GgufFile f) {
        GgufMetadata m = f.metadata();
        Optional<GgufValue> tokens = m.find("tokenizer.ggml.tokens");
        if (tokens.isPresent() && tokens.get().value() instanceof GgufValue.GgufArray a) {
            return OptionalLong.of(a.length());
        }
        OptionalLong declared = unsigned(m, "%s.vocab_size");
        if (declared.isPresent()) {
            return declared;
        }
        GgufTensorInfo embd = f.tensor("token_embd.weight");
        return embd != null && embd.rank() >= 2 ? OptionalLong.of(embd.dim(1)) : OptionalLong.empty();
    }

    /** A non-negative integer entry, or empty when absent, not an integer, or out of range. */
    private static OptionalLong unsigned(GgufMetadata m, String key) {
        Optional<GgufValue> v = m.find(key);
        if (v.isEmpty() || !v.get().type().isInteger() || v.get().asLong() < 0) {
            return OptionalLong.empty();
        }
        return OptionalLong.of(v.get().asLong());
    }

    private static String string(GgufMetadata m, String key) {
        Optional<GgufValue> v = m.find(key);
        return v.isPresent() && v.get().value() instanceof String s ? s : null;
    }

    /** The file type, when {@link #fileTypeId} is one llama.cpp knows. */
    public Optional<GgufFileType> fileType() {
        return Optional.ofNullable(GgufFileType.fromId(fileTypeId));
    }

    /** True when the file had no {@code general.file_type} and the type was guessed from the tensors. */
    public boolean fileTypeGuessed() {
        return (fileTypeId & GgufFileType.GUESSED) != 0;
    }

    /** The file type as llama.cpp prints it: "Q4_K - Medium", "(guessed) all F32", "unknown, may not work". */
    public String fileTypeDescription() {
        return GgufFileType.describe(fileTypeId);
    }

    /** Average bits per weight over all tensors (llama.cpp's "BPW"), 0 without tensors. */
    public double bitsPerWeight() {
        return parameterCount == 0 ? 0 : tensorBytes * 8.0 / parameterCount;
    }

    /** A count as llama.cpp prints parameters: "292.90 K", "7.24 B". */
    public static String humanCount(long n) {
        if (n >= 1_000_000_000_000L) {
            return String.format(Locale.ROOT, "%.2f T", n / 1e12);
        }
        if (n >= 1_000_000_000L) {
            return String.format(Locale.ROOT, "%.2f B", n / 1e9);
        }
        if (n >= 1_000_000L) {
            return String.format(Locale.ROOT, "%.2f M", n / 1e6);
        }
        return String.format(Locale.ROOT, "%.2f K", n / 1e3);
    }

    /** A byte size in binary units: "1.13 MiB". */
    public static String humanBytes(long n) {
        if (n < 1024) {
            return n + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
        double v = n;
        int u = -1;
        while (v >= 1024 && u + 1 < units.length) {
            v /= 1024;
            u++;
        }
        return String.format(Locale.ROOT, "%.2f %s", v, units[u]);
    }
}
