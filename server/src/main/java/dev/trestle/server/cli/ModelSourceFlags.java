package dev.trestle.server.cli;

import dev.trestle.engine.hub.DemoModel;
import dev.trestle.engine.hub.DownloadProgress;
import dev.trestle.engine.hub.Downloader;
import dev.trestle.engine.hub.HubClient;
import dev.trestle.engine.hub.ModelCache;
import dev.trestle.engine.hub.ModelResolver;
import dev.trestle.engine.hub.ModelSource;
import dev.trestle.engine.hub.ProgressPrinter;
import dev.trestle.engine.hub.ResolvedModel;
import dev.trestle.engine.trust.ModelReport;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import picocli.CommandLine.Option;

/**
 * Picocli mixin for where the model comes from, with llama-server's names: {@code -m}, {@code -hf},
 * {@code -hff}, {@code -hft}, {@code -mu}, {@code --offline}; plus {@code --cache-dir},
 * {@code --model-sha256} and {@code --demo}. Commands add it with {@code @Mixin ModelSourceFlags model;}
 * and call {@link #resolve} to get a local file (downloading into the cache when needed).
 */
public final class ModelSourceFlags {
    @Option(names = {"-m", "--model"}, paramLabel = "FILE", description = "GGUF model file to load")
    Path model;

    @Option(names = {"-hf", "-hfr", "--hf-repo"}, paramLabel = "USER/REPO[:QUANT]",
            description = "Hugging Face repository to download the model from; QUANT picks the file"
                    + " (e.g. Q4_K_M, case-insensitive; default Q4_K_M, else Q8_0, else the first GGUF)")
    String hfRepo;

    @Option(names = {"-hff", "--hf-file"}, paramLabel = "FILE", description = "file in the -hf repository (overrides QUANT)")
    String hfFile;

    @Option(names = {"-hft", "--hf-token"}, paramLabel = "TOKEN",
            description = "Hugging Face access token for private or gated models (default: env HF_TOKEN)")
    String hfToken;

    @Option(names = {"-mu", "--model-url"}, paramLabel = "URL", description = "download the model from this URL")
    String modelUrl;

    @Option(names = "--cache-dir", paramLabel = "DIR",
            description = "model cache folder (default: env TRESTLE_CACHE, else the user cache folder + /trestle)")
    Path cacheDir;

    @Option(names = "--offline", description = "never use the network: take -hf / -mu models from the cache only")
    boolean offline;

    @Option(names = "--model-sha256", paramLabel = "HEX", description = "refuse to load a model whose sha256 differs")
    String modelSha256;

    @Option(names = "--demo",
            description = "use a small built-in random-weight model (no download; its output is nonsense)")
    boolean demo;

    /** True when any model source flag was given. */
    public boolean given() {
        return model != null || hfRepo != null || modelUrl != null || demo;
    }

    /** The source the flags name (fails when none or several are given). */
    public ModelSource source() {
        return ModelSource.of(model, hfRepo, hfFile, modelUrl, demo);
    }

    public boolean offline() {
        return offline;
    }

    /** The model cache these flags and {@code env} select. */
    public ModelCache cache(Map<String, String> env) {
        return ModelCache.locate(cacheDir, env);
    }

    /** The resolver these flags configure; notes and progress go to {@code err}. */
    public ModelResolver resolver(Map<String, String> env, PrintWriter err) {
        String token = hfToken != null && !hfToken.isBlank() ? hfToken : env.get("HF_TOKEN");
        HubClient hub = new HubClient(HubClient.endpointFrom(env), token, HubClient.newHttpClient());
        Downloader downloader = new Downloader(HubClient.newHttpClient(), 4, Duration.ofSeconds(2));
        DownloadProgress progress = err == null ? DownloadProgress.NONE : progressTo(err);
        return new ModelResolver(cache(env), hub, downloader, offline, progress,
                line -> {
                    if (err != null) {
                        err.println(line);
                        err.flush();
                    }
                });
    }

    /**
     * Resolves the flags to local files: {@code -m} as is, {@code -hf}/{@code -mu} from the cache or
     * downloaded (verified) into it, {@code --demo} written into it; then checks {@code --model-sha256}.
     */
    public ResolvedModel resolve(Map<String, String> env, PrintWriter err) {
        return resolver(env, err).resolve(source(), modelSha256);
    }

    /**
     * {@link #resolve}, then prints what the file claims and any warnings ({@link ModelReport}) to
     * {@code err}; for the demo model a banner says plainly that its output is nonsense. Serve and run
     * call this before loading (plan only resolves: its output is the plan).
     */
    public ResolvedModel resolveAndReport(Map<String, String> env, PrintWriter err) {
        ResolvedModel m = resolve(env, err);
        if (m.isDemo()) {
            err.println("*** " + DemoModel.NOTICE + " ***");
        }
        err.println("source: " + m.source().describe() + " -> " + m.origin()
                + (m.sha256() != null ? ", sha256 " + m.sha256() : ""));
        ModelReport.read(m.path()).lines().forEach(err::println);
        if (m.isSplit()) {
            err.println("  split model: " + m.parts().size() + " parts in " + m.path().getParent());
        }
        err.flush();
        return m;
    }

    private static DownloadProgress progressTo(PrintWriter err) {
        java.io.Console c = System.console();
        return new ProgressPrinter(err, c != null && c.isTerminal(), System::nanoTime);
    }
}
