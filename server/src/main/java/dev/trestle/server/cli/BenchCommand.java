package dev.trestle.server.cli;

import dev.trestle.backends.cpu.CpuThreadPool;
import dev.trestle.backends.cpu.RowQuantizer;
import dev.trestle.backends.type.GgmlType;
import dev.trestle.common.TrestleException;
import dev.trestle.engine.gguf.GgufFile;
import dev.trestle.engine.gguf.GgufFileType;
import dev.trestle.engine.gguf.GgufMetadata;
import dev.trestle.engine.gguf.GgufTensorInfo;
import dev.trestle.engine.runtime.Batch;
import dev.trestle.engine.runtime.Context;
import dev.trestle.engine.runtime.EngineOptions;
import dev.trestle.engine.runtime.FlashAttn;
import dev.trestle.engine.runtime.Model;
import dev.trestle.engine.synthetic.SyntheticModel;
import dev.trestle.engine.synthetic.SyntheticSpec;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code trestle bench}: llama-bench's instrument for Trestle. Same flags (comma lists run every combination),
 * same tests (pp = one prompt of N random tokens in -b batches, tg = N single-token decodes, pg = both in one
 * timed run), same counting (warm-up not timed, t/s = tokens / wall time of each repetition, mean ± sample
 * stddev) and the same output formats and JSON field names, so tooling reads both. The warm-up is one whole run
 * of each test (llama-bench's generates a single token): a JIT needs it to reach the steady state a C++ binary has
 * from the start.
 */
@Command(name = "bench", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Measure prompt processing (pp) and generation (tg) speed like llama-bench.")
public final class BenchCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = {"-m", "--model"}, split = ",", paramLabel = "FILE", description = "GGUF model file(s) (repeatable)")
    List<Path> models = new ArrayList<>();

    @Option(names = "--synthetic", paramLabel = "ARCH:SIZE[:TYPE][:<n>L][:<n>E]",
            description = "benchmark a random-weight model of a real shape, written once into --cache-dir "
                    + "(e.g. llama:1B:Q4_0, qwen3moe:30B-A3B:Q4_K_M:16L:32E); repeatable")
    List<String> synthetic = new ArrayList<>();

    @Option(names = "--cache-dir", paramLabel = "DIR",
            description = "folder for --synthetic files (default: <temp>/trestle-synthetic)")
    Path cacheDir;

    @Option(names = {"-p", "--n-prompt"}, split = ",", defaultValue = "512", paramLabel = "N",
            description = "prompt sizes (default: ${DEFAULT-VALUE})")
    List<Integer> nPrompt;

    @Option(names = {"-n", "--n-gen"}, split = ",", defaultValue = "128", paramLabel = "N",
            description = "generation sizes (default: ${DEFAULT-VALUE})")
    List<Integer> nGen;

    @Option(names = {"-pg"}, paramLabel = "PP,TG", description = "prompt then generation in one timed run (repeatable)")
    List<String> pg = new ArrayList<>();

    @Option(names = {"-d", "--n-depth"}, split = ",", defaultValue = "0", paramLabel = "N",
            description = "tokens already in the KV cache before each test (default: ${DEFAULT-VALUE})")
    List<Integer> nDepth;

    @Option(names = {"-r", "--repetitions"}, defaultValue = "5", paramLabel = "N",
            description = "timed repetitions of each test (default: ${DEFAULT-VALUE})")
    int reps;

    @Option(names = {"-t", "--threads"}, split = ",", paramLabel = "N", description = "CPU threads (default: all cores)")
    List<Integer> threads;

    @Option(names = {"-b", "--batch-size"}, split = ",", defaultValue = "2048", paramLabel = "N",
            description = "logical batch (default: ${DEFAULT-VALUE})")
    List<Integer> nBatch;

    @Option(names = {"-ub", "--ubatch-size"}, split = ",", defaultValue = "512", paramLabel = "N",
            description = "physical batch (default: ${DEFAULT-VALUE})")
    List<Integer> nUbatch;

    @Option(names = {"-ctk", "--cache-type-k"}, split = ",", defaultValue = "f16", paramLabel = "TYPE",
            description = "K cache types (default: ${DEFAULT-VALUE})")
    List<String> typeK;

    @Option(names = {"-ctv", "--cache-type-v"}, split = ",", defaultValue = "f16", paramLabel = "TYPE",
            description = "V cache types (default: ${DEFAULT-VALUE})")
    List<String> typeV;

    @Option(names = {"-fa", "--flash-attn"}, split = ",", defaultValue = "auto", paramLabel = "on|off|auto",
            description = "flash attention (default: ${DEFAULT-VALUE})")
    List<String> flashAttn;

    @Option(names = {"-ngl", "--n-gpu-layers"}, split = ",", defaultValue = "-1", paramLabel = "N",
            description = "layers on GPUs; recorded (default: ${DEFAULT-VALUE}); the engine runs on the CPU")
    List<Integer> nGpuLayers;

    @Option(names = {"-ncmoe", "--n-cpu-moe"}, split = ",", defaultValue = "0", paramLabel = "N",
            description = "expert layers kept on the CPU; recorded (default: ${DEFAULT-VALUE})")
    List<Integer> nCpuMoe;

    @Option(names = {"-ts", "--tensor-split"}, split = ",", paramLabel = "A/B/...",
            description = "GPU split proportions; recorded")
    List<String> tensorSplit;

    @Option(names = {"-o", "--output"}, defaultValue = "md", paramLabel = "md|csv|json|jsonl",
            description = "output format (default: ${DEFAULT-VALUE})")
    String output;

    @Option(names = "--no-warmup", description = "skip the untimed warm-up run of each test (one whole run: the JIT's warm-up)")
    boolean noWarmup;

    @Option(names = "--seed", defaultValue = "1234", description = "seed of the random token ids (default: ${DEFAULT-VALUE})")
    long seed;

    /** One combination of settings (llama-bench's cmd_params_instance). */
    private record Settings(int threads, int nBatch, int nUbatch, GgmlType typeK, GgmlType typeV, FlashAttn fa,
                            int ngl, int nCpuMoe, String ts) {
    }

    /** One test: prompt tokens, generated tokens, depth. */
    private record Test(int nPrompt, int nGen, int nDepth) {
    }

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (reps < 1) {
            throw new TrestleException("-r must be at least 1, got " + reps, "pass e.g. -r 5");
        }
        List<Path> files = new ArrayList<>(models);
        Path dir = cacheDir != null ? cacheDir : SyntheticModel.defaultCacheDir();
        for (String s : synthetic) {
            SyntheticSpec sp = SyntheticSpec.parse(s);
            Path p = dir.resolve(sp.fileName());
            if (!Files.isRegularFile(p)) {
                err.println("writing synthetic model " + sp.shape() + " " + sp.mix().label() + " to " + p + " ...");
                err.flush();
            }
            files.add(SyntheticModel.ensure(sp, dir));
        }
        if (files.isEmpty()) {
            throw new TrestleException("no model given", "pass -m FILE or --synthetic llama:1B:Q4_0");
        }
        for (Path f : files) {
            if (!Files.isRegularFile(f)) {
                throw new TrestleException("model file " + f + " does not exist", "check the -m path");
            }
        }
        List<Settings> settings = settings();
        List<Test> tests = tests();
        if (nGpuLayers.stream().anyMatch(n -> n != 0 && n != -1) || nCpuMoe.stream().anyMatch(n -> n != 0)
                || tensorSplit != null) {
            err.println("note: -ngl, --n-cpu-moe and -ts are recorded, but this engine runs every layer on the CPU");
            err.flush();
        }
        BenchPrinter printer = BenchPrinter.of(output, out, extraColumns(), buildString());
        printer.header();
        Random rng = new Random(seed);
        for (Path f : files) {
            EngineOptions loadOpts = EngineOptions.defaults();
            try (Model model = Model.load(GgufFile.open(f), loadOpts)) {
                Map<String, Object> modelFields = modelFields(f, model.file());
                int nVocab = model.config().nVocab();
                int bos = addsBos(model.file().metadata()) ? model.file().metadata()
                        .getInt("tokenizer.ggml.bos_token_id", -1) : -1;
                for (Settings s : settings) {
                    for (Test t : tests) {
                        EngineOptions opts = new EngineOptions(Math.max(t.nPrompt + t.nGen + t.nDepth, 1), s.nBatch,
                                s.nUbatch, 1, s.typeK, s.typeV, s.fa, s.threads);
                        List<Long> samples = new ArrayList<>();
                        try (Context ctx = model.newContext(opts)) {
                            Runner run = new Runner(ctx, nVocab, bos, s.nBatch, rng);
                            if (!noWarmup) {
                                // one whole run of the test, where llama-bench generates one token: the JIT
                                // compiles the decode kernels during the first run (the first of -r 6 runs read
                                // 29 t/s against 36 for the others, llama 1B Q8_0 tg64), and a run of the test's
                                // own length is what brings every kernel to its steady state
                                if (t.nPrompt > 0) {
                                    run.prompt(t.nPrompt);
                                }
                                if (t.nGen > 0) {
                                    run.gen(t.nGen);
                                }
                            }
                            for (int i = 0; i < reps; i++) {
                                ctx.seqClear(0);
                                run.reset();
                                if (t.nDepth > 0) {
                                    run.prompt(t.nDepth);
                                }
                                long start = System.nanoTime();
                                if (t.nPrompt > 0) {
                                    run.prompt(t.nPrompt);
                                }
                                if (t.nGen > 0) {
                                    run.gen(t.nGen);
                                }
                                samples.add(System.nanoTime() - start);
                            }
                        }
                        printer.test(new BenchResult(testFields(modelFields, s, t), samples));
                    }
                }
            }
        }
        printer.footer();
        return 0;
    }

    /** Decodes random tokens into one sequence the way llama-bench's test_prompt and test_gen do. */
    private static final class Runner {
        private final Context ctx;
        private final int nVocab;
        private final int bos;
        private final int nBatch;
        private final Random rng;
        private final Batch batch = new Batch();
        private int pos;

        Runner(Context ctx, int nVocab, int bos, int nBatch, Random rng) {
            this.ctx = ctx;
            this.nVocab = nVocab;
            this.bos = bos;
            this.nBatch = nBatch;
            this.rng = rng;
        }

        void reset() {
            pos = 0;
        }

        void prompt(int n) {
            int done = 0;
            while (done < n) {
                int m = Math.min(n - done, nBatch);
                batch.clear();
                for (int i = 0; i < m; i++) {
                    int tok = done == 0 && i == 0 && bos >= 0 ? bos : rng.nextInt(nVocab);
                    batch.add(tok, pos++, 0, i == m - 1);
                }
                ctx.decode(batch);
                done += m;
            }
        }

        void gen(int n) {
            int tok = bos >= 0 ? bos : rng.nextInt(nVocab);
            for (int i = 0; i < n; i++) {
                batch.clear().add(tok, pos++, 0, true);
                ctx.decode(batch);
                tok = rng.nextInt(nVocab);
            }
        }
    }

    private static boolean addsBos(GgufMetadata m) {
        return m.contains("tokenizer.ggml.bos_token_id") && m.getBool("tokenizer.ggml.add_bos_token",
                "llama".equals(m.getString("tokenizer.ggml.model", "")));
    }

    private List<Settings> settings() {
        List<Integer> ts = threads != null ? threads : List.of(CpuThreadPool.defaultThreads());
        List<String> split = tensorSplit != null ? tensorSplit : List.of("0.00");
        List<Settings> out = new ArrayList<>();
        for (int t : ts) {
            for (int b : nBatch) {
                for (int ub : nUbatch) {
                    for (String k : typeK) {
                        for (String v : typeV) {
                            for (String fa : flashAttn) {
                                for (int ngl : nGpuLayers) {
                                    for (int moe : nCpuMoe) {
                                        for (String sp : split) {
                                            if (t < 1 || b < 1 || ub < 1) {
                                                throw new TrestleException("-t, -b and -ub must be positive",
                                                        "e.g. -t 2 -b 2048 -ub 512");
                                            }
                                            out.add(new Settings(t, b, ub, RowQuantizer.cacheType(k),
                                                    RowQuantizer.cacheType(v), FlashAttn.parse(fa), ngl, moe, sp));
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return out;
    }

    private List<Test> tests() {
        List<Test> out = new ArrayList<>();
        for (int d : nDepth) {
            for (int p : nPrompt) {
                if (p > 0) {
                    out.add(new Test(p, 0, d));
                }
            }
            for (int n : nGen) {
                if (n > 0) {
                    out.add(new Test(0, n, d));
                }
            }
            for (String s : pg) {
                String[] parts = s.split(",");
                try {
                    if (parts.length != 2) {
                        throw new NumberFormatException();
                    }
                    out.add(new Test(Integer.parseInt(parts[0].trim()), Integer.parseInt(parts[1].trim()), d));
                } catch (NumberFormatException e) {
                    throw new TrestleException("-pg " + s + " is not PP,TG", "e.g. -pg 512,128");
                }
            }
        }
        if (out.isEmpty()) {
            throw new TrestleException("no test to run", "give -p or -n sizes above 0, or -pg PP,TG");
        }
        for (Test t : out) {
            if (t.nPrompt < 0 || t.nGen < 0 || t.nDepth < 0) {
                throw new TrestleException("negative test size", "sizes are token counts >= 0");
            }
        }
        return out;
    }

    /** Table columns for settings that vary or differ from llama-bench's defaults, as llama-bench shows them. */
    private List<String> extraColumns() {
        List<String> c = new ArrayList<>();
        if (nCpuMoe.size() > 1 || !nCpuMoe.equals(List.of(0))) {
            c.add("n_cpu_moe");
        }
        if (nBatch.size() > 1 || !nBatch.equals(List.of(2048))) {
            c.add("n_batch");
        }
        if (nUbatch.size() > 1 || !nUbatch.equals(List.of(512))) {
            c.add("n_ubatch");
        }
        if (typeK.size() > 1 || !typeK.equals(List.of("f16"))) {
            c.add("type_k");
        }
        if (typeV.size() > 1 || !typeV.equals(List.of("f16"))) {
            c.add("type_v");
        }
        if (flashAttn.size() > 1 || !flashAttn.equals(List.of("auto"))) {
            c.add("flash_attn");
        }
        if (tensorSplit != null) {
            c.add("tensor_split");
        }
        return c;
    }

    private static String buildString() {
        String v = Main.class.getPackage().getImplementationVersion();
        return "trestle " + (v == null ? "dev" : v) + " (JVM " + Runtime.version() + ")";
    }

    private static Map<String, Object> modelFields(Path path, GgufFile file) {
        long bytes = 0;
        long params = 0;
        for (GgufTensorInfo t : file.tensors().values()) {
            bytes += t.bytes();
            params += t.elements();
        }
        GgufMetadata md = file.metadata();
        long ft = md.getLong("general.file_type", -1);
        String typeName = ft >= 0 ? GgufFileType.describe(ft)
                : GgufFileType.describe(GgufFileType.guessFrom(mostCommonType(file)).id() | GgufFileType.GUESSED);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("model_filename", path.toString());
        m.put("model_type", md.architecture() + " " + sizeLabel(params) + " " + typeName);
        m.put("model_size", bytes);
        m.put("model_n_params", params);
        return m;
    }

    /** The storage type most weight matrices have (what llama.cpp guesses the file type from). */
    private static GgmlType mostCommonType(GgufFile file) {
        Map<GgmlType, Integer> counts = new java.util.EnumMap<>(GgmlType.class);
        for (GgufTensorInfo t : file.tensors().values()) {
            if (t.rank() >= 2) {
                counts.merge(t.type(), 1, Integer::sum);
            }
        }
        return counts.entrySet().stream().max(Map.Entry.comparingByValue()).map(Map.Entry::getKey).orElse(GgmlType.F32);
    }

    /** A size class from the weight count, as users name models (1B, 8B, 260K). */
    static String sizeLabel(long params) {
        if (params >= 1_000_000_000L) {
            return (params / 1_000_000_000L) + "B";
        }
        if (params >= 1_000_000L) {
            return (params / 1_000_000L) + "M";
        }
        return Math.max(1, params / 1000) + "K";
    }

    private Map<String, Object> testFields(Map<String, Object> model, Settings s, Test t) {
        Map<String, Object> m = new LinkedHashMap<>();
        String build = buildString();
        m.put("build_commit", build);
        m.put("build_number", 0L);
        m.put("cpu_info", cpuInfo());
        m.put("gpu_info", "");
        m.put("backends", "CPU");
        m.putAll(model);
        m.put("n_batch", (long) s.nBatch);
        m.put("n_ubatch", (long) s.nUbatch);
        m.put("n_threads", (long) s.threads);
        m.put("cpu_mask", "0x0");
        m.put("cpu_strict", false);
        m.put("poll", 50L);
        m.put("type_k", s.typeK.llamaName());
        m.put("type_v", s.typeV.llamaName());
        m.put("n_gpu_layers", (long) s.ngl);
        m.put("n_cpu_moe", (long) s.nCpuMoe);
        m.put("split_mode", "layer");
        m.put("main_gpu", 0L);
        m.put("no_kv_offload", false);
        m.put("flash_attn", switch (s.fa) {
            case ON -> 1L;
            case OFF -> 0L;
            case AUTO -> -1L;
        });
        m.put("devices", "auto");
        m.put("tensor_split", s.ts);
        m.put("tensor_buft_overrides", "none");
        m.put("load_mode", "auto");
        m.put("lazy_mode", "auto");
        m.put("embeddings", false);
        m.put("no_op_offload", 0L);
        m.put("no_host", false);
        m.put("fit_target", 0L);
        m.put("fit_min_ctx", 0L);
        m.put("n_prompt", (long) t.nPrompt);
        m.put("n_gen", (long) t.nGen);
        m.put("n_depth", (long) t.nDepth);
        m.put("test_time", Instant.now().truncatedTo(ChronoUnit.SECONDS).toString());
        return m;
    }

    private static String cpuInfo;

    private static synchronized String cpuInfo() {
        if (cpuInfo == null) {
            cpuInfo = System.getProperty("os.arch");
            try {
                for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                    if (line.startsWith("model name")) {
                        cpuInfo = line.substring(line.indexOf(':') + 1).trim();
                        break;
                    }
                }
            } catch (IOException | RuntimeException e) {
                // no /proc (macOS, Windows): the architecture name stands in
            }
        }
        return cpuInfo.toLowerCase(Locale.ROOT).isEmpty() ? "unknown" : cpuInfo;
    }
}
