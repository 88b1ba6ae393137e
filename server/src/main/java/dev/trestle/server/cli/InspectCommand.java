package dev.trestle.server.cli;

import dev.trestle.engine.gguf.GgufFile;
import dev.trestle.engine.gguf.GgufFileType;
import dev.trestle.engine.gguf.GgufSummary;
import dev.trestle.engine.gguf.GgufTensorInfo;
import dev.trestle.engine.gguf.GgufValue;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code trestle inspect FILE.gguf}: what a model file claims, read from its header and tensor
 * table only (tensor data is never touched, so it is instant on any file size).
 */
@Command(name = "inspect", mixinStandardHelpOptions = true,
        description = {
            "Print a GGUF file's architecture, parameter count, file type, context length, vocabulary, "
                + "hyperparameters (every <arch>.* key) and a per-type tensor summary. Only the header is "
                + "read, so it is instant on any file size.",
            "Exits 1 with the reason and byte offset when the file is not a valid GGUF v2/v3 file."})
public final class InspectCommand implements Callable<Integer> {
    /** Array items shown per metadata value; the rest is counted, never printed whole. */
    private static final int SHOWN_ITEMS = 8;
    private static final int SHOWN_CHARS = 80;

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "FILE", description = "GGUF model file")
    Path file;

    @Option(names = "--tensors", description = "also list every tensor: name, type, shape, bytes, offset")
    boolean tensors;

    @Option(names = "--metadata", description = "also list every metadata key (arrays and long strings shortened)")
    boolean metadata;

    @Option(names = "--json", description = "machine-readable JSON output (arrays longer than 256 items are "
            + "summarized as {element_type, length})")
    boolean json;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        try (GgufFile f = GgufFile.open(file)) {
            GgufSummary s = GgufSummary.of(f);
            if (json) {
                out.println(InspectJson.render(f, s, tensors, metadata));
            } else {
                printText(out, f, s);
            }
        }
        out.flush();
        return 0;
    }

    private void printText(PrintWriter out, GgufFile f, GgufSummary s) {
        line(out, "file", String.valueOf(file));
        line(out, "format", "GGUF v" + s.version() + ", " + GgufSummary.humanBytes(s.fileSize()) + ", "
                + s.metadataCount() + " metadata keys, " + s.tensorCount() + " tensors, data at byte "
                + s.dataOffset() + " (alignment " + s.alignment() + ")");
        line(out, "architecture", orDash(s.architecture()));
        line(out, "name", orDash(s.name()));
        line(out, "parameters", GgufSummary.humanCount(s.parameterCount()) + " (" + s.parameterCount() + ")");
        line(out, "file type", fileType(s));
        line(out, "bits/weight", String.format(java.util.Locale.ROOT, "%.2f", s.bitsPerWeight()));
        line(out, "context length", orDash(s.contextLength()));
        line(out, "layers", orDash(s.blockCount()));
        line(out, "embedding", orDash(s.embeddingLength()));
        line(out, "vocab size", orDash(s.vocabSize()));
        line(out, "tokenizer", orDash(s.tokenizerModel()));

        if (!s.hyperparameters().isEmpty()) {
            out.println();
            out.println("hyperparameters:");
            printEntries(out, s.hyperparameters());
        }

        out.println();
        out.println("tensors by type:");
        out.printf("  %-8s %6s %14s %14s%n", "type", "count", "elements", "bytes");
        for (GgufSummary.TypeCount t : s.tensorTypes()) {
            out.printf("  %-8s %6d %14d %14d  %s%n", t.type(), t.count(), t.elements(), t.bytes(),
                    GgufSummary.humanBytes(t.bytes()));
        }
        out.printf("  %-8s %6d %14d %14d  %s%n", "total", s.tensorCount(), s.parameterCount(), s.tensorBytes(),
                GgufSummary.humanBytes(s.tensorBytes()));

        if (metadata) {
            out.println();
            out.println("metadata:");
            printEntries(out, f.metadata().asMap());
        }
        if (tensors) {
            out.println();
            out.println("tensors (offset within the data section at byte " + s.dataOffset() + "):");
            out.printf("  %5s  %-40s %-8s %-24s %14s %14s%n", "#", "name", "type", "shape", "bytes", "offset");
            int i = 0;
            for (GgufTensorInfo t : f.tensors().values()) {
                out.printf("  %5d  %-40s %-8s %-24s %14d %14d%n", i++, t.name(), t.type(), t.shapeString(),
                        t.bytes(), t.offset());
            }
        }
    }

    private static void printEntries(PrintWriter out, Map<String, GgufValue> entries) {
        int width = 0;
        for (String k : entries.keySet()) {
            width = Math.max(width, k.length());
        }
        for (Map.Entry<String, GgufValue> e : entries.entrySet()) {
            out.printf("  %-" + width + "s  %-14s %s%n", e.getKey(), e.getValue().typeName(),
                    e.getValue().display(SHOWN_ITEMS, SHOWN_CHARS));
        }
    }

    private static String fileType(GgufSummary s) {
        String id = s.fileTypeGuessed() ? "no general.file_type"
                : "general.file_type " + s.fileTypeId() + s.fileType().map(t -> " = " + t.name()).orElse("");
        if (s.fileTypeGuessed()) {
            id += ", guessed from the tensors: " + s.fileType().map(GgufFileType::name).orElse("?");
        }
        return s.fileTypeDescription() + " (" + id + ")";
    }

    private static void line(PrintWriter out, String label, String value) {
        out.printf("%-16s%s%n", label, value);
    }

    private static String orDash(String v) {
        return v == null ? "-" : v;
    }

    private static String orDash(OptionalLong v) {
        return v.isPresent() ? Long.toString(v.getAsLong()) : "-";
    }
}
