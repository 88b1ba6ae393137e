package dev.trestle.server.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.trestle.common.TrestleException;
import dev.trestle.engine.hub.CacheEntry;
import dev.trestle.engine.hub.ModelCache;
import dev.trestle.engine.hub.ProgressPrinter;
import dev.trestle.engine.hub.ResolvedModel;
import dev.trestle.engine.trust.ModelReport;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code trestle models}: every cached model plus any given one, with size, sha256, architecture, quant,
 * context length, licence and source. Given {@code -hf}/{@code -mu}/{@code --demo} it first fetches that
 * model into the cache (which is how to prepare for {@code --offline}).
 */
@Command(name = "models", mixinStandardHelpOptions = true,
        description = {"List cached models and given model files: size, sha256, architecture, quant, context, licence, source.",
            "With -hf / -mu / --demo the model is downloaded (or written) into the cache first."})
public final class ModelsCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    @Spec
    CommandSpec spec;

    @Mixin
    ModelSourceFlags source;

    @Parameters(paramLabel = "FILE", arity = "0..*", description = "more GGUF files to describe")
    List<Path> files = new ArrayList<>();

    @Option(names = "--json", description = "print JSON (full paths and sha256)")
    boolean json;

    @Option(names = {"-v", "--verbose"}, description = "also print what each file claims and any warnings")
    boolean verbose;

    /** Environment lookups go through here so tests can run without touching the real cache. */
    Map<String, String> env = System.getenv();

    /** One listed model. */
    record Row(String path, long size, String sha256, String architecture, String quant, long context, String license,
               String source, List<String> warnings, String error) {
    }

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        ModelCache cache = source.cache(env);
        List<Row> rows = new ArrayList<>();
        List<Path> seen = new ArrayList<>();
        if (source.given()) {
            ResolvedModel m = source.resolve(env, err);
            for (Path p : m.parts()) {
                rows.add(row(cache, p, m.isDemo() ? "demo" : describeSource(cache, p, m.origin())));
                seen.add(p.toAbsolutePath().normalize());
            }
        }
        for (Path p : files) {
            if (!Files.isRegularFile(p)) {
                throw new TrestleException("model file not found: " + p, "check the path");
            }
            rows.add(row(cache, p, describeSource(cache, p, "local file")));
            seen.add(p.toAbsolutePath().normalize());
        }
        if (Files.isDirectory(cache.root())) {
            for (CacheEntry e : cache.entries()) {
                Path p = cache.fileOf(e);
                if (Files.isRegularFile(p) && !seen.contains(p)) {
                    rows.add(row(cache, p, describe(e)));
                    seen.add(p);
                }
            }
        }
        if (json) {
            Map<String, Object> doc = new LinkedHashMap<>();
            doc.put("cache", cache.root().toString());
            doc.put("models", rows);
            try {
                out.println(JSON.writeValueAsString(doc));
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw new IllegalStateException(e);
            }
        } else {
            printTable(out, cache, rows);
        }
        out.flush();
        return 0;
    }

    private Row row(ModelCache cache, Path p, String src) {
        long size;
        try {
            size = Files.size(p);
        } catch (java.io.IOException e) {
            size = -1;
        }
        // Hashed once per (path, size, mtime): downloads seed the memo, other files pay once.
        String sha = cache.sha256(p);
        List<String> warnings = new ArrayList<>();
        cache.entryFor(p).filter(e -> e.sha256() != null && !e.sha256().equals(sha)).ifPresent(e ->
                warnings.add("sha256 differs from " + e.sha256() + " recorded when it was stored: the file was modified"));
        try {
            ModelReport r = ModelReport.read(p);
            if (verbose) {
                r.lines().forEach(spec.commandLine().getErr()::println);
            }
            warnings.addAll(r.warnings());
            return new Row(p.toAbsolutePath().toString(), size, sha, r.architecture(), r.quant(), r.contextLength(),
                    r.license(), src, warnings, null);
        } catch (TrestleException e) {
            return new Row(p.toAbsolutePath().toString(), size, sha, null, null, -1, null, src, warnings, e.getMessage());
        }
    }

    private static String describeSource(ModelCache cache, Path p, String fallback) {
        return cache.entryFor(p).map(ModelsCommand::describe).orElse(fallback);
    }

    private static String describe(CacheEntry e) {
        return switch (e.source() == null ? "" : e.source()) {
            case "hf" -> "hf " + e.repo() + "@" + (e.revision() == null ? "?" : e.revision().substring(0, Math.min(12, e.revision().length())));
            case "url" -> e.url();
            case "demo" -> "demo";
            default -> String.valueOf(e.source());
        };
    }

    private static void printTable(PrintWriter out, ModelCache cache, List<Row> rows) {
        out.println("cache: " + cache.root());
        if (rows.isEmpty()) {
            out.println("no models yet: try `trestle models --demo` (offline), or `trestle models -hf ggml-org/gemma-3-1b-it-GGUF`");
            return;
        }
        List<String[]> cells = new ArrayList<>();
        cells.add(new String[] {"MODEL", "SIZE", "SHA256", "ARCH", "QUANT", "CTX", "LICENSE", "SOURCE"});
        for (Row r : rows) {
            Path p = Path.of(r.path());
            String name = p.startsWith(cache.root()) ? cache.relative(p) : r.path();
            cells.add(new String[] {
                name,
                r.size() < 0 ? "?" : ProgressPrinter.bytes(r.size()),
                r.sha256() == null ? "?" : r.sha256().substring(0, 12),
                r.error() != null ? "unreadable" : orDash(r.architecture()),
                orDash(r.quant()),
                r.context() < 0 ? "-" : Long.toString(r.context()),
                orDash(r.license()),
                r.source()});
        }
        int[] w = new int[cells.get(0).length];
        for (String[] c : cells) {
            for (int i = 0; i < c.length; i++) {
                w[i] = Math.max(w[i], c[i].length());
            }
        }
        for (String[] c : cells) {
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < c.length; i++) {
                sb.append(i == c.length - 1 ? c[i] : String.format(Locale.ROOT, "%-" + w[i] + "s  ", c[i]));
            }
            out.println(sb.toString().stripTrailing());
        }
        for (Row r : rows) {
            if (r.error() != null) {
                out.println("unreadable: " + r.path() + ": " + r.error());
            }
            for (String warn : r.warnings()) {
                out.println("warning: " + Path.of(r.path()).getFileName() + ": " + warn);
            }
        }
    }

    private static String orDash(String s) {
        return s == null || s.isBlank() ? "-" : s;
    }
}
