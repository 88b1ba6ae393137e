package dev.trestle.server.cli;

import dev.trestle.backends.cpu.CpuThreadPool;
import dev.trestle.backends.cpu.RowQuantizer;
import dev.trestle.common.TrestleException;
import dev.trestle.engine.gguf.GgufFile;
import dev.trestle.engine.hub.ResolvedModel;
import dev.trestle.engine.runtime.Context;
import dev.trestle.engine.runtime.EngineOptions;
import dev.trestle.engine.runtime.FlashAttn;
import dev.trestle.engine.runtime.Model;
import dev.trestle.engine.template.ChatTemplate;
import dev.trestle.engine.tokenizer.Tokenizer;
import dev.trestle.scheduler.memory.ContextSettings;
import dev.trestle.server.http.ApiServer;
import dev.trestle.server.serving.LoadedModel;
import dev.trestle.server.serving.ServerMetrics;
import dev.trestle.server.serving.ServingLoop;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code trestle serve}: llama-server's command line, OpenAI-compatible HTTP API. */
@Command(name = "serve", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Serve a model over an OpenAI-compatible HTTP API (llama-server's flags).")
public final class ServeCommand implements Callable<Integer> {
    /** Request bodies above this are refused (413): far above any real chat, far below memory trouble. */
    static final long MAX_BODY_BYTES = 32L << 20;
    /** Requests waiting for a slot before new ones get 503. */
    static final int QUEUE_CAPACITY = 256;

    @Spec
    CommandSpec spec;

    @Mixin
    ModelSourceFlags source;

    @Mixin
    ContextFlags context;

    @Mixin
    PlacementFlags placement;

    @Mixin
    SamplingFlags sampling;

    @Mixin
    ChatTemplateOptions template;

    @Mixin
    GrammarFlags grammar;

    @Mixin
    ReasoningFlags reasoning;

    @Option(names = {"-a", "--alias"}, paramLabel = "NAME", description = "Model name reported by /v1/models (default: the file name).")
    String alias;

    @Option(names = "--host", paramLabel = "HOST", defaultValue = "127.0.0.1", description = "Address to listen on (default: ${DEFAULT-VALUE}).")
    String host;

    @Option(names = "--port", paramLabel = "PORT", defaultValue = "8080", description = "Port to listen on (default: ${DEFAULT-VALUE}).")
    int port;

    @Option(names = "--api-key", paramLabel = "KEY", description = "Require 'Authorization: Bearer KEY' on every endpoint but /health.")
    String apiKey;

    @Option(names = "--api-key-file", paramLabel = "FILE", description = "Read the API key from the first line of FILE.")
    Path apiKeyFile;

    @Option(names = {"-t", "--threads"}, paramLabel = "N", description = "CPU threads (default: all cores).")
    Integer threads;

    @Option(names = {"-n", "--n-predict"}, paramLabel = "N", defaultValue = "-1",
            description = "Default tokens to generate per request; -1 = until the context is full (default: ${DEFAULT-VALUE}).")
    int nPredict;

    @Option(names = {"-cb", "--cont-batching"}, defaultValue = "true", fallbackValue = "true", negatable = true,
            description = "Continuous batching (always on; --no-cont-batching is refused).")
    boolean contBatching;

    @Option(names = "--metrics", description = "Enable the Prometheus /metrics endpoint.")
    boolean metrics;

    @Option(names = "--slots", defaultValue = "true", negatable = true, fallbackValue = "true",
            description = "Enable the /slots endpoint (default: on).")
    boolean slots;

    @Option(names = {"--embeddings", "--embedding"}, description = "Enable the embeddings endpoints.")
    boolean embeddings;

    @Option(names = {"-to", "--timeout"}, paramLabel = "S", defaultValue = "600",
            description = "Connection read/write timeout in seconds (default: ${DEFAULT-VALUE}).")
    int timeout;

    @Option(names = {"-v", "--verbose"}, description = "Verbose logging (includes prompts).")
    boolean verbose;

    @Option(names = "--log-prompts", description = "Log prompt text (off by default: prompts are private).")
    boolean logPrompts;

    private final CountDownLatch stop = new CountDownLatch(1);
    private final CountDownLatch ready = new CountDownLatch(1);
    private volatile int boundPort = -1;

    @Override
    public Integer call() throws Exception {
        try {
            return serve();
        } finally {
            ready.countDown(); // a failed start must not leave awaitReady() hanging
        }
    }

    private int serve() throws Exception {
        PrintWriter err = spec.commandLine().getErr();
        if (!contBatching) {
            throw new TrestleException("--no-cont-batching is not supported: Trestle always batches continuously",
                    "drop the flag");
        }
        if (port < 0 || port > 65535) {
            throw new TrestleException("--port " + port + " is not a port number", "pass --port 8080");
        }
        String key = apiKey(apiKey, apiKeyFile);
        if (!isLoopback(host) && key == null) {
            err.println("WARNING: listening on " + host + " without --api-key: anyone who can reach this address "
                    + "can use the model. Pass --api-key KEY, or bind 127.0.0.1.");
        }
        if (!source.given()) {
            throw new TrestleException("no model given", "pass -m FILE.gguf, -hf USER/REPO[:QUANT], or --demo");
        }
        ResolvedModel resolved = source.resolveAndReport(System.getenv(), err);
        ContextSettings cs = context.toSettings();
        try (GgufFile header = GgufFile.open(resolved.path())) {
            ModelPlanning.planAndPrint(header, placement, context, err);
        }
        var defaults = ApiServer.defaults(nPredict, sampling.toConfig(), template.renderOptions(), logPrompts || verbose,
                grammar.gbnf(), reasoning.reasoningFormat(), reasoning.reasoningBudget());
        ServerMetrics serverMetrics = new ServerMetrics();
        ApiServer server = new ApiServer(new ApiServer.Options(host, port, key, metrics, slots, embeddings,
                MAX_BODY_BYTES, timeout, defaults), serverMetrics).start();
        err.println("trestle: listening on http://" + host + ":" + server.port() + " (loading the model...)");
        err.flush();
        installSignalHandlers();
        try {
            EngineOptions opts = new EngineOptions(cs.nCtx(), cs.nBatch(), cs.nUbatch(), cs.nParallel(),
                    RowQuantizer.cacheType(cs.typeK().llamaName()),
                    RowQuantizer.cacheType(cs.typeV().llamaName()),
                    FlashAttn.parse(cs.flashAttn().name()),
                    threads != null ? threads : CpuThreadPool.defaultThreads());
            Model model = Model.load(GgufFile.open(resolved.path()), opts);
            Tokenizer tokenizer = Tokenizer.fromGguf(model.file().metadata());
            ChatTemplate chat = template.load(model.file().metadata(), Clock.systemDefaultZone());
            Context ctx = model.newContext(opts, GpuOffload.resolve(model.file(), placement, context,
                    model.config().nLayer()));
            ServingLoop loop = new ServingLoop(ctx, tokenizer, cs.nParallel(), Math.min(cs.nBatch(), ctx.nCtx()),
                    QUEUE_CAPACITY, serverMetrics);
            loop.start();
            String name = alias != null ? alias : resolved.path().getFileName().toString();
            server.ready(new LoadedModel(name, model, ctx, tokenizer, chat, loop));
            err.println("trestle: model loaded; serving '" + name + "' with " + cs.nParallel() + " slot(s) of "
                    + loop.slotContext() + " tokens, " + opts.threads() + " threads");
            err.flush();
            boundPort = server.port();
        } catch (RuntimeException e) {
            server.close();
            throw e;
        } finally {
            ready.countDown();
        }
        stop.await();
        err.println("trestle: shutting down");
        err.flush();
        server.close();
        return 0;
    }

    /**
     * Waits until the model is loaded and returns the bound port (tests start the server on --port 0);
     * -1 when loading failed or the wait timed out.
     */
    public int awaitReady(java.time.Duration timeout) throws InterruptedException {
        ready.await(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
        return boundPort;
    }

    /** Stops a running server as SIGINT/SIGTERM would (tests and embedding callers). */
    public void shutdown() {
        stop.countDown();
    }

    private void installSignalHandlers() {
        for (String sig : new String[] {"INT", "TERM"}) {
            try {
                sun.misc.Signal.handle(new sun.misc.Signal(sig), s -> stop.countDown());
            } catch (IllegalArgumentException unavailable) {
                // the platform lacks this signal (e.g. TERM on some Windows JVMs); Ctrl+C still ends the JVM
            }
        }
    }

    private static String apiKey(String key, Path file) throws IOException {
        if (key != null && file != null) {
            throw new TrestleException("both --api-key and --api-key-file given", "pass only one of them");
        }
        if (file != null) {
            if (!Files.isReadable(file)) {
                throw new TrestleException("cannot read --api-key-file " + file, "check the path and its permissions");
            }
            String first = Files.readAllLines(file, StandardCharsets.UTF_8).stream().findFirst().orElse("").trim();
            if (first.isEmpty()) {
                throw new TrestleException("--api-key-file " + file + " is empty", "put the key on its first line");
            }
            return first;
        }
        return key == null || key.isEmpty() ? null : key;
    }

    private static boolean isLoopback(String host) {
        try {
            return InetAddress.getByName(host).isLoopbackAddress();
        } catch (UnknownHostException e) {
            return false;
        }
    }
}
