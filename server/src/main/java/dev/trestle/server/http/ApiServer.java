package dev.trestle.server.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.trestle.common.TrestleException;
import dev.trestle.engine.model.ModelConfig;
import dev.trestle.server.serving.GenerationEvent;
import dev.trestle.server.serving.GenerationRequest;
import dev.trestle.server.serving.Job;
import dev.trestle.server.serving.LoadedModel;
import dev.trestle.server.serving.ServerMetrics;
import dev.trestle.server.serving.ServingLoop;
import io.javalin.Javalin;
import io.javalin.compression.CompressionStrategy;
import io.javalin.config.JavalinConfig;
import io.javalin.http.Context;
import io.javalin.http.HttpResponseException;
import java.net.BindException;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.ServerConnector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP front: one route table, one auth check, one error boundary. Every failure leaves as an
 * OpenAI error object; no handler leaks a stack trace, and one bad request never takes the server down.
 */
public final class ApiServer implements AutoCloseable {
    static final String FINGERPRINT = "trestle";
    private static final Logger LOG = LoggerFactory.getLogger(ApiServer.class);
    /** Endpoints reachable without the API key. */
    private static final Set<String> PUBLIC = Set.of("/health", "/v1/health");

    /**
     * Server settings that are not model settings.
     *
     * @param maxBodyBytes request bodies above this are refused with 413
     * @param timeoutSeconds idle read/write timeout of connections (-to/--timeout)
     */
    public record Options(String host, int port, String apiKey, boolean metrics, boolean slots, boolean embeddings,
                          long maxBodyBytes, int timeoutSeconds, CompletionApi.Defaults defaults) {
    }

    private final Options options;
    private final ObjectMapper json;
    private final AtomicReference<LoadedModel> model = new AtomicReference<>();
    private final ServerMetrics metrics;
    private final CompletionApi completions;
    private final ApiKeyCheck keyCheck;
    private volatile String loadError;
    private Javalin app;

    public ApiServer(Options options, ServerMetrics metrics) {
        this.options = options;
        this.metrics = metrics;
        this.json = new ObjectMapper();
        json.getFactory().setStreamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(64).build());
        this.completions = new CompletionApi(json, this::requireModel, options.defaults());
        this.keyCheck = options.apiKey() == null || options.apiKey().isEmpty() ? null : new ApiKeyCheck(options.apiKey());
    }

    /** Generation defaults a server command passes in: -n and the sampling flags. */
    public static CompletionApi.Defaults defaults(int nPredict, dev.trestle.engine.sampling.SamplerConfig sampling,
                                                  dev.trestle.engine.template.RenderOptions render, boolean logPrompts) {
        return new CompletionApi.Defaults(nPredict, sampling, render, logPrompts);
    }

    /**
     * Generation defaults with output shaping: a default grammar (GBNF, or null), where reasoning goes, and the
     * reasoning budget (-1 or 0).
     */
    public static CompletionApi.Defaults defaults(int nPredict, dev.trestle.engine.sampling.SamplerConfig sampling,
                                                  dev.trestle.engine.template.RenderOptions render, boolean logPrompts,
                                                  String grammar, dev.trestle.server.tools.ReasoningFormat reasoning,
                                                  int reasoningBudget) {
        return new CompletionApi.Defaults(nPredict, sampling, render, logPrompts, grammar, reasoning, reasoningBudget);
    }

    /** Starts listening; /health answers 503 until {@link #ready} is called. */
    public ApiServer start() {
        app = Javalin.create(this::configure);
        try {
            app.start(options.host(), options.port());
        } catch (RuntimeException e) {
            if (hasCause(e, BindException.class)) {
                throw new TrestleException("port " + options.port() + " on " + options.host() + " is already in use",
                        "stop the other server or pass --port N (other local servers often use 11434 (Ollama) and 1234 (LM Studio))",
                        1, e);
            }
            throw e;
        }
        for (Connector c : app.jettyServer().server().getConnectors()) {
            if (c instanceof ServerConnector sc) {
                sc.setIdleTimeout(options.timeoutSeconds() * 1000L);
            }
        }
        return this;
    }

    /** The port actually bound (for --port 0). */
    public int port() {
        return app.port();
    }

    /** Makes the model available to requests. */
    public void ready(LoadedModel m) {
        model.set(m);
    }

    /** Records a failed load: /health reports it. */
    public void loadFailed(String message) {
        loadError = message;
    }

    public LoadedModel model() {
        return model.get();
    }

    private LoadedModel requireModel() {
        LoadedModel m = model.get();
        if (m == null) {
            throw ApiException.unavailable(loadError != null ? "model failed to load: " + loadError : "Loading model");
        }
        return m;
    }

    private void configure(JavalinConfig cfg) {
        cfg.concurrency.useVirtualThreads = true;
        cfg.http.maxRequestSize = options.maxBodyBytes();
        cfg.http.compressionStrategy = CompressionStrategy.NONE;
        cfg.startup.showJavalinBanner = false;

        // ---- one error boundary ----
        cfg.routes.exception(ApiException.class, (e, ctx) -> error(ctx, e.status(), e.type(), e.getMessage()));
        cfg.routes.exception(HttpResponseException.class, (e, ctx) -> {
            switch (e.getStatus()) {
                case 404 -> error(ctx, 404, "not_found_error", "no endpoint " + ctx.method() + " " + ctx.path());
                case 405 -> error(ctx, 405, "invalid_request_error",
                        "method " + ctx.method() + " is not allowed on " + ctx.path());
                case 413 -> error(ctx, 413, "invalid_request_error",
                        "request body too large (limit " + options.maxBodyBytes() + " bytes)");
                default -> error(ctx, e.getStatus(), e.getStatus() < 500 ? "invalid_request_error" : "server_error",
                        e.getMessage());
            }
        });
        cfg.routes.exception(JsonProcessingException.class, (e, ctx) -> error(ctx, 400, "invalid_request_error",
                "invalid JSON: " + e.getOriginalMessage()));
        cfg.routes.exception(TrestleException.class, (e, ctx) -> error(ctx, 400, "invalid_request_error", e.getMessage()));
        cfg.routes.exception(Exception.class, (e, ctx) -> {
            LOG.error("request {} {} failed", ctx.method(), ctx.path(), e);
            error(ctx, 500, "server_error", "internal error: " + e.getClass().getSimpleName());
        });

        // ---- auth (every endpoint but the public ones) ----
        cfg.routes.before(ctx -> {
            if (keyCheck != null && !PUBLIC.contains(ctx.path()) && !ctx.method().name().equals("OPTIONS")
                    && !keyCheck.accepts(ctx.header("Authorization"), ctx.header("X-Api-Key"))) {
                throw ApiException.unauthorized("Invalid API Key");
            }
        });

        // ---- the route table (llama-server's, aliases adjacent) ----
        cfg.routes.get("/health", this::health);                       // public
        cfg.routes.get("/v1/health", this::health);                    // public
        cfg.routes.get("/metrics", this::metrics);
        cfg.routes.get("/props", this::props);
        cfg.routes.get("/slots", this::slots);
        cfg.routes.get("/v1/models", this::models);
        cfg.routes.get("/models", this::models);
        cfg.routes.post("/v1/chat/completions", ctx -> completions.handle(ctx, body(ctx), CompletionApi.Dialect.CHAT));
        cfg.routes.post("/chat/completions", ctx -> completions.handle(ctx, body(ctx), CompletionApi.Dialect.CHAT));
        cfg.routes.post("/v1/completions", ctx -> completions.handle(ctx, body(ctx), CompletionApi.Dialect.TEXT));
        cfg.routes.post("/completions", ctx -> completions.handle(ctx, body(ctx), CompletionApi.Dialect.NATIVE));
        cfg.routes.post("/completion", ctx -> completions.handle(ctx, body(ctx), CompletionApi.Dialect.NATIVE));
        cfg.routes.post("/v1/embeddings", ctx -> embeddings(ctx, true));
        cfg.routes.post("/embeddings", ctx -> embeddings(ctx, false));
        cfg.routes.post("/embedding", ctx -> embeddings(ctx, false));
        cfg.routes.post("/tokenize", this::tokenize);
        cfg.routes.post("/detokenize", this::detokenize);
        cfg.routes.post("/apply-template", this::applyTemplate);
    }

    private JsonNode body(Context ctx) throws Exception {
        byte[] bytes = ctx.bodyAsBytes();
        if (bytes.length == 0) {
            throw ApiException.invalid("request body is empty; send a JSON object");
        }
        return json.readTree(bytes);
    }

    private void error(Context ctx, int status, String type, String message) {
        try {
            ctx.status(status).contentType("application/json")
                    .result(json.writeValueAsString(ErrorBodies.body(status, type, message)));
        } catch (JsonProcessingException e) {
            ctx.status(500).result("{\"error\":{\"code\":500,\"message\":\"internal error\",\"type\":\"server_error\"}}");
        }
    }

    private void health(Context ctx) throws Exception {
        requireModel();
        ctx.contentType("application/json").result("{\"status\":\"ok\"}");
    }

    private void metrics(Context ctx) {
        if (!options.metrics()) {
            throw ApiException.notSupported("This server does not support metrics endpoint. Start it with `--metrics`");
        }
        LoadedModel m = requireModel();
        ServingLoop loop = m.loop();
        ctx.contentType("text/plain; version=0.0.4").result(
                metrics.render(loop.processing(), loop.deferred(), loop.kvUsage(), loop.kvTokens()));
    }

    private void slots(Context ctx) throws Exception {
        if (!options.slots()) {
            throw ApiException.notSupported("This server does not support slots endpoint. Start it with `--slots`");
        }
        LoadedModel m = requireModel();
        ArrayNode arr = json.createArrayNode();
        for (ServingLoop.SlotInfo s : m.loop().slots()) {
            arr.addObject().put("id", s.id()).put("n_ctx", s.nCtx()).put("is_processing", s.processing())
                    .put("n_cached", s.cachedTokens()).put("n_decoded", s.generated());
        }
        ctx.contentType("application/json").result(json.writeValueAsString(arr));
    }

    private void models(Context ctx) throws Exception {
        LoadedModel m = requireModel();
        ModelConfig c = m.model().config();
        ObjectNode r = json.createObjectNode().put("object", "list");
        ObjectNode e = r.putArray("data").addObject();
        e.put("id", m.alias()).put("object", "model").put("created", System.currentTimeMillis() / 1000)
                .put("owned_by", "trestle");
        long params = 0;
        for (var t : m.model().file().tensors().values()) {
            params += t.elements();
        }
        e.putObject("meta").put("vocab_type", m.tokenizer().vocabSize() > 0 ? 1 : 0)
                .put("n_vocab", c.nVocab()).put("n_ctx_train", c.nCtxTrain()).put("n_embd", c.nEmbd())
                .put("n_params", params).put("size", m.model().file().fileSize());
        ctx.contentType("application/json").result(json.writeValueAsString(r));
    }

    private void props(Context ctx) throws Exception {
        LoadedModel m = requireModel();
        ObjectNode r = json.createObjectNode();
        CompletionApi.Defaults d = options.defaults();
        ObjectNode gen = r.putObject("default_generation_settings");
        gen.put("n_ctx", m.loop().slotContext());
        ObjectNode params = gen.putObject("params");
        params.put("n_predict", d.nPredict()).put("temperature", d.sampling().temperature())
                .put("top_k", d.sampling().topK()).put("top_p", d.sampling().topP()).put("min_p", d.sampling().minP())
                .put("seed", d.sampling().seed());
        r.put("total_slots", m.loop().parallel());
        r.put("model_alias", m.alias());
        r.put("model_path", m.model().file().path().toString());
        r.put("chat_template", m.template().source());
        r.put("bos_token", m.template().specialTokens().bos());
        r.put("eos_token", m.template().specialTokens().eos());
        r.put("build_info", "trestle " + java.util.Objects.requireNonNullElse(
                ApiServer.class.getPackage().getImplementationVersion(), "dev"));
        ctx.contentType("application/json").result(json.writeValueAsString(r));
    }

    private void tokenize(Context ctx) throws Exception {
        LoadedModel m = requireModel();
        JsonNode b = JsonFields.object(body(ctx));
        String content = JsonFields.requiredString(b, "content");
        boolean addSpecial = JsonFields.bool(b, "add_special", false);
        boolean parseSpecial = JsonFields.bool(b, "parse_special", true);
        boolean withPieces = JsonFields.bool(b, "with_pieces", false);
        int[] ids = m.tokenizer().encode(content, addSpecial, parseSpecial);
        ObjectNode r = json.createObjectNode();
        ArrayNode arr = r.putArray("tokens");
        for (int id : ids) {
            if (withPieces) {
                byte[] bytes = m.tokenizer().pieceBytes(id, true);
                String piece = new String(bytes, StandardCharsets.UTF_8);
                ObjectNode o = arr.addObject().put("id", id);
                if (piece.contains("\uFFFD")) {
                    ArrayNode raw = o.putArray("piece");
                    for (byte x : bytes) {
                        raw.add(x & 0xFF);
                    }
                } else {
                    o.put("piece", piece);
                }
            } else {
                arr.add(id);
            }
        }
        ctx.contentType("application/json").result(json.writeValueAsString(r));
    }

    private void detokenize(Context ctx) throws Exception {
        LoadedModel m = requireModel();
        JsonNode b = JsonFields.object(body(ctx));
        JsonNode tokens = JsonFields.array(b, "tokens", true);
        int[] ids = CompletionApi.ids(m, tokens);
        ctx.contentType("application/json").result(json.writeValueAsString(
                json.createObjectNode().put("content", m.tokenizer().decode(ids, false))));
    }

    private void applyTemplate(Context ctx) throws Exception {
        LoadedModel m = requireModel();
        JsonNode b = JsonFields.object(body(ctx));
        JsonFields.array(b, "messages", true);
        String prompt = CompletionApi.renderChat(m, b, options.defaults().render());
        ctx.contentType("application/json").result(json.writeValueAsString(
                json.createObjectNode().put("prompt", prompt)));
    }

    private void embeddings(Context ctx, boolean openAi) throws Exception {
        if (!options.embeddings()) {
            throw ApiException.notSupported("This server does not support embeddings. Start it with `--embeddings`");
        }
        LoadedModel m = requireModel();
        JsonNode b = JsonFields.object(body(ctx));
        JsonNode input = b.has("input") ? b.get("input") : b.get("content");
        if (input == null || input.isNull()) {
            throw ApiException.invalid("'input' is required");
        }
        java.util.List<int[]> inputs = new java.util.ArrayList<>();
        if (input.isTextual()) {
            inputs.add(m.tokenizer().encode(input.asText(), true, true));
        } else if (input.isArray() && !input.isEmpty() && input.get(0).isIntegralNumber()) {
            inputs.add(CompletionApi.ids(m, input));
        } else if (input.isArray()) {
            for (JsonNode e : input) {
                if (e.isTextual()) {
                    inputs.add(m.tokenizer().encode(e.asText(), true, true));
                } else if (e.isArray()) {
                    inputs.add(CompletionApi.ids(m, e));
                } else {
                    throw ApiException.invalid("'input' entries must be strings or arrays of token ids");
                }
            }
        } else {
            throw ApiException.invalid("'input' must be a string, an array of strings or token ids");
        }
        ArrayNode data = json.createArrayNode();
        int promptTokens = 0;
        for (int i = 0; i < inputs.size(); i++) {
            Job job = m.loop().submit(GenerationRequest.embeddingOf(inputs.get(i)));
            float[] emb = awaitEmbedding(job);
            promptTokens += inputs.get(i).length;
            ObjectNode e = data.addObject().put("object", "embedding").put("index", i);
            ArrayNode v = e.putArray("embedding");
            for (float x : emb) {
                v.add(x);
            }
        }
        if (!openAi) {
            ctx.contentType("application/json").result(json.writeValueAsString(data));
            return;
        }
        ObjectNode r = json.createObjectNode().put("object", "list").put("model", m.alias());
        r.set("data", data);
        r.putObject("usage").put("prompt_tokens", promptTokens).put("total_tokens", promptTokens);
        ctx.contentType("application/json").result(json.writeValueAsString(r));
    }

    private static float[] awaitEmbedding(Job job) throws InterruptedException {
        while (true) {
            GenerationEvent e = job.next(1000);
            if (e instanceof GenerationEvent.Done d) {
                return d.embedding();
            }
            if (e instanceof GenerationEvent.Failed f) {
                throw new ApiException(f.status(), "server_error", f.message());
            }
        }
    }

    private static boolean hasCause(Throwable t, Class<? extends Throwable> type) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (type.isInstance(c)) {
                return true;
            }
        }
        return false;
    }

    @Override
    public void close() {
        LoadedModel m = model.getAndSet(null);
        if (m != null) {
            m.loop().close();
        }
        if (app != null) {
            app.stop();
        }
        if (m != null) {
            m.context().close();
            m.model().close();
        }
    }
}
