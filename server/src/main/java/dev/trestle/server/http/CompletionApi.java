package dev.trestle.server.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.trestle.common.TrestleException;
import dev.trestle.engine.grammar.Grammar;
import dev.trestle.engine.sampling.SamplerConfig;
import dev.trestle.engine.sampling.TokenProb;
import dev.trestle.engine.template.ChatMessage;
import dev.trestle.engine.template.RenderOptions;
import dev.trestle.engine.template.Tool;
import dev.trestle.server.serving.GenerationEvent;
import dev.trestle.server.serving.GenerationRequest;
import dev.trestle.server.serving.Job;
import dev.trestle.server.serving.LoadedModel;
import dev.trestle.server.tools.ChatDeltaStream;
import dev.trestle.server.tools.ChatOutput;
import dev.trestle.server.tools.ChatOutputParser;
import dev.trestle.server.tools.ParsedToolCall;
import dev.trestle.server.tools.ReasoningFormat;
import io.javalin.http.Context;
import java.io.IOException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;

/**
 * The three completion dialects over one serving loop: OpenAI chat ({@code /v1/chat/completions}),
 * OpenAI text ({@code /v1/completions}) and llama-server's native {@code /completion}.
 */
final class CompletionApi {
    enum Dialect { CHAT, TEXT, NATIVE }

    /**
     * Server-wide generation defaults (-n, the sampling flags, the chat template options).
     *
     * @param grammar         GBNF every request follows unless it sets its own (--grammar, --grammar-file,
     *                        --json-schema); null for none
     * @param reasoningFormat where reasoning goes (--reasoning-format)
     * @param reasoningBudget -1 unrestricted, 0 no thinking (--reasoning-budget)
     */
    record Defaults(int nPredict, SamplerConfig sampling, RenderOptions render, boolean logPrompts, String grammar,
                    ReasoningFormat reasoningFormat, int reasoningBudget) {

        Defaults(int nPredict, SamplerConfig sampling, RenderOptions render, boolean logPrompts) {
            this(nPredict, sampling, render, logPrompts, null, ReasoningFormat.AUTO, -1);
        }
    }

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(CompletionApi.class);
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final String ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

    private final ObjectMapper json;
    private final Supplier<LoadedModel> model;
    private final Defaults defaults;

    CompletionApi(ObjectMapper json, Supplier<LoadedModel> model, Defaults defaults) {
        this.json = json;
        this.model = model;
        this.defaults = defaults;
    }

    void handle(Context http, JsonNode rawBody, Dialect dialect) throws Exception {
        ObjectNode body = JsonFields.object(rawBody);
        LoadedModel m = model.get();
        int n = JsonFields.integer(body, "n", 1, 1, 128);
        if (n != 1) {
            throw ApiException.invalid("only n = 1 is supported (got n = " + n + "); send several requests instead");
        }
        boolean stream = JsonFields.bool(body, "stream", false);
        boolean includeUsage = false;
        JsonNode so = JsonFields.objectField(body, "stream_options");
        if (so != null) {
            includeUsage = JsonFields.bool(so, "include_usage", false);
        }

        Shaping shaping;
        List<int[]> prompts;
        if (dialect == Dialect.CHAT) {
            ChatShape shape = ChatShape.read(body, m.template(), defaults.reasoningFormat(), defaults.reasoningBudget());
            if (shape.callsTools() && RequestGrammar.requested(body)) {
                throw ApiException.invalid("'tools' cannot be combined with 'grammar', 'json_schema' or 'response_format'"
                        + "; send tools with tool_choice \"none\", or drop the grammar");
            }
            String prompt = chatPromptText(m, body, shape);
            boolean forcedOpen = shape.thinkingForcedOpen(prompt);
            Grammar grammar;
            List<String> triggers = List.of();
            if (shape.forcesCall()) {
                grammar = shape.grammar(forcedOpen);
            } else if (shape.lazyTrigger() != null) {
                grammar = shape.lazyGrammar();
                triggers = grammar == null ? List.of() : List.of(shape.lazyTrigger());
            } else if (shape.callsTools()) {
                grammar = null;
            } else {
                grammar = RequestGrammar.read(body, defaults.grammar());
                triggers = grammar == null ? List.of() : RequestGrammar.triggers(body);
            }
            ChatOutputParser parser = shape.parser(forcedOpen);
            shaping = new Shaping(grammar, triggers, parser,
                    parser != null || grammar != null ? shape.preservedTokens(m.tokenizer()) : Set.of());
            prompts = List.of(m.tokenizer().encode(prompt, true, true));
        } else {
            Grammar grammar = RequestGrammar.read(body, defaults.grammar());
            shaping = new Shaping(grammar, grammar == null ? List.of() : RequestGrammar.triggers(body), null, Set.of());
            prompts = textPrompts(m, body);
        }
        if (prompts.size() != 1 && stream) {
            throw ApiException.invalid("streaming supports one prompt per request; got " + prompts.size());
        }
        GenerationSettings g = settings(m, body, dialect, shaping);
        String id = (dialect == Dialect.CHAT ? "chatcmpl-" : "cmpl-") + randomId();
        long created = System.currentTimeMillis() / 1000;
        if (stream) {
            Job job = m.loop().submit(g.request(prompts.get(0)));
            stream(http, job, dialect, id, created, m.alias(), includeUsage, g);
            return;
        }
        List<Job> jobs = new ArrayList<>();
        for (int[] p : prompts) {
            jobs.add(m.loop().submit(g.request(p)));
        }
        List<Outcome> outcomes = new ArrayList<>();
        for (Job j : jobs) {
            outcomes.add(collect(j));
        }
        http.contentType("application/json").result(json.writeValueAsString(
                dialect == Dialect.NATIVE ? nativeFinal(outcomes.get(0), m, prompts.get(0))
                        : oaiFinal(outcomes, dialect, id, created, m.alias(), g)));
    }

    /** What one finished generation produced. */
    private record Outcome(String text, List<int[]> tokens, List<List<TokenProb>> probs, GenerationEvent.Done done) {
    }

    /**
     * The output's shape: a grammar to follow (lazily, from the first trigger word, when there are any), a parser that reads reasoning and tool calls back (chat only),
     * and the control tokens whose text the parser needs.
     */
    private record Shaping(Grammar grammar, List<String> grammarTriggers, ChatOutputParser parser,
                           Set<Integer> preservedTokens) {
    }

    /** The parts of a request that shape generation. */
    private record GenerationSettings(SamplerConfig sampling, int maxTokens, List<String> stops, boolean ignoreEos,
                                      boolean logprobs, int topLogprobs, boolean cachePrompt, Shaping shaping) {
        GenerationRequest request(int[] prompt) {
            return new GenerationRequest(prompt, sampling, maxTokens, stops, ignoreEos, topLogprobs, logprobs,
                    cachePrompt, shaping.grammar(), shaping.grammarTriggers(), false, shaping.preservedTokens());
        }
    }

    private GenerationSettings settings(LoadedModel m, JsonNode body, Dialect dialect, Shaping shaping) {
        int nVocab = m.model().config().nVocab();
        SamplerConfig sampling = SamplingParams.read(body, defaults.sampling(), nVocab);
        int max = defaults.nPredict();
        max = JsonFields.integer(body, "n_predict", max, -1, Integer.MAX_VALUE);
        max = JsonFields.integer(body, "max_tokens", max, -1, Integer.MAX_VALUE);
        max = JsonFields.integer(body, "max_completion_tokens", max, -1, Integer.MAX_VALUE);
        List<String> stops = JsonFields.stringOrStrings(body, "stop");
        if (stops.size() > 16) {
            throw ApiException.invalid("'stop' has " + stops.size() + " entries; at most 16 are allowed");
        }
        boolean logprobs;
        int top;
        if (dialect == Dialect.CHAT) {
            logprobs = JsonFields.bool(body, "logprobs", false);
            top = JsonFields.integer(body, "top_logprobs", 0, 0, 20);
            if (top > 0 && !logprobs) {
                throw ApiException.invalid("'top_logprobs' needs 'logprobs': true");
            }
        } else if (dialect == Dialect.TEXT) {
            top = JsonFields.integer(body, "logprobs", 0, 0, 20);
            logprobs = JsonFields.has(body, "logprobs");
        } else {
            top = JsonFields.integer(body, "n_probs", 0, 0, 100);
            logprobs = top > 0;
        }
        return new GenerationSettings(sampling, max, stops, JsonFields.bool(body, "ignore_eos", false), logprobs, top,
                JsonFields.bool(body, "cache_prompt", true), shaping);
    }

    private String chatPromptText(LoadedModel m, JsonNode body, ChatShape shape) {
        JsonNode messages = JsonFields.array(body, "messages", true);
        if (messages.isEmpty()) {
            throw ApiException.invalid("'messages' must not be empty");
        }
        String prompt = renderChat(m, body, shape.renderOptions(defaults.render()), shape.toolInstructions());
        if (defaults.logPrompts()) {
            LOG.info("chat prompt: {}", prompt);
        }
        return prompt;
    }

    /** Renders a chat request's messages (and tools) with the model's template. */
    static String renderChat(LoadedModel m, JsonNode body, RenderOptions base) {
        return renderChat(m, body, base, null);
    }

    /**
     * Renders a chat request with the model's template; {@code extraSystem} (may be null) is added to the
     * system message, or becomes one.
     */
    static String renderChat(LoadedModel m, JsonNode body, RenderOptions base, String extraSystem) {
        try {
            List<ChatMessage> messages = new ArrayList<>(ChatMessage.listFromJson(body.get("messages")));
            if (extraSystem != null) {
                if (!messages.isEmpty() && messages.get(0).role().equals("system") && messages.get(0).content() != null) {
                    ChatMessage first = messages.get(0);
                    messages.set(0, ChatMessage.of("system", first.content() + "\n\n" + extraSystem));
                } else {
                    messages.add(0, ChatMessage.of("system", extraSystem));
                }
            }
            List<Tool> tools = Tool.listFromJson(body.get("tools"));
            RenderOptions opts = base.withAddGenerationPrompt(JsonFields.bool(body, "add_generation_prompt", true));
            JsonNode kwargs = JsonFields.objectField(body, "chat_template_kwargs");
            if (kwargs != null) {
                java.util.Map<String, JsonNode> merged = new java.util.LinkedHashMap<>(opts.kwargs());
                kwargs.fields().forEachRemaining(e -> merged.put(e.getKey(), e.getValue()));
                opts = opts.withKwargs(merged);
            }
            return m.template().render(messages, tools, opts);
        } catch (TrestleException e) {
            throw ApiException.invalid(e.getMessage());
        }
    }

    private List<int[]> textPrompts(LoadedModel m, JsonNode body) {
        if (!JsonFields.has(body, "prompt")) {
            throw ApiException.invalid("'prompt' is required");
        }
        JsonNode p = body.get("prompt");
        List<int[]> out = new ArrayList<>();
        if (p.isTextual()) {
            if (defaults.logPrompts()) {
                LOG.info("prompt: {}", p.asText());
            }
            out.add(m.tokenizer().encode(p.asText(), true, true));
        } else if (p.isArray() && !p.isEmpty() && p.get(0).isIntegralNumber()) {
            out.add(ids(m, p));
        } else if (p.isArray() && !p.isEmpty()) {
            for (JsonNode e : p) {
                if (e.isTextual()) {
                    out.add(m.tokenizer().encode(e.asText(), true, true));
                } else if (e.isArray()) {
                    out.add(ids(m, e));
                } else {
                    throw ApiException.invalid("'prompt' entries must be strings or arrays of token ids");
                }
            }
        } else {
            throw ApiException.invalid("'prompt' must be a string, an array of token ids, or an array of those");
        }
        return out;
    }

    static int[] ids(LoadedModel m, JsonNode arr) {
        int nVocab = m.model().config().nVocab();
        int[] ids = new int[arr.size()];
        for (int i = 0; i < ids.length; i++) {
            JsonNode t = arr.get(i);
            if (!t.isIntegralNumber() || t.asLong() < 0 || t.asLong() >= nVocab) {
                throw ApiException.invalid("token " + t + " at index " + i + " is not a valid token id (0.." + (nVocab - 1) + ")");
            }
            ids[i] = t.asInt();
        }
        return ids;
    }

    private Outcome collect(Job job) throws InterruptedException {
        StringBuilder text = new StringBuilder();
        List<int[]> tokens = new ArrayList<>();
        List<List<TokenProb>> probs = new ArrayList<>();
        while (true) {
            GenerationEvent e = job.next(1000);
            switch (e) {
                case null -> {
                }
                case GenerationEvent.Piece p -> {
                    text.append(p.text());
                    tokens.add(p.tokens());
                    if (p.probs() != null) {
                        probs.addAll(p.probs());
                    }
                }
                case GenerationEvent.Done d -> {
                    return new Outcome(text.toString(), tokens, probs, d);
                }
                case GenerationEvent.Failed f -> throw new ApiException(f.status(), "server_error", f.message());
            }
        }
    }

    private void stream(Context http, Job job, Dialect dialect, String id, long created, String alias,
                        boolean includeUsage, GenerationSettings g) throws Exception {
        LoadedModel m = model.get();
        SseWriter sse = new SseWriter(http.res(), json);
        ChatDeltaStream deltas = dialect == Dialect.CHAT && g.shaping().parser() != null
                ? new ChatDeltaStream(g.shaping().parser()) : null;
        try {
            if (dialect == Dialect.CHAT) {
                ObjectNode delta = json.createObjectNode().put("role", "assistant");
                delta.putNull("content");
                sse.event(oaiChunk(dialect, id, created, alias, delta, null, null));
            }
            while (true) {
                GenerationEvent e = job.next(1000);
                switch (e) {
                    case null -> {
                    }
                    case GenerationEvent.Piece p -> {
                        if (p.text().isEmpty() && p.probs() == null) {
                            continue;
                        }
                        if (dialect == Dialect.NATIVE) {
                            ObjectNode c = json.createObjectNode().put("content", p.text()).put("stop", false);
                            ArrayNode toks = c.putArray("tokens");
                            for (int t : p.tokens()) {
                                toks.add(t);
                            }
                            if (p.probs() != null) {
                                c.set("completion_probabilities", nativeProbs(m, p.probs()));
                            }
                            sse.event(c);
                        } else if (deltas != null) {
                            sendDeltas(sse, deltas.push(p.text()), id, created, alias,
                                    p.probs() == null ? null : logprobs(m, p.probs(), dialect));
                        } else {
                            ObjectNode delta = json.createObjectNode().put(dialect == Dialect.CHAT ? "content" : "text",
                                    p.text());
                            sse.event(oaiChunk(dialect, id, created, alias, delta, null,
                                    p.probs() == null ? null : logprobs(m, p.probs(), dialect)));
                        }
                    }
                    case GenerationEvent.Done d -> {
                        if (dialect == Dialect.NATIVE) {
                            Outcome o = new Outcome("", List.of(), List.of(), d);
                            ObjectNode fin = nativeFinal(o, m, new int[0]);
                            fin.put("content", "");
                            sse.event(fin);
                            return;
                        }
                        String finish = d.reason().openAi();
                        if (deltas != null) {
                            sendDeltas(sse, deltas.finish(), id, created, alias, null);
                            if (!deltas.output().calls().isEmpty()
                                    && d.reason() != dev.trestle.server.serving.FinishReason.LENGTH) {
                                finish = "tool_calls";
                            }
                        }
                        ObjectNode empty = json.createObjectNode();
                        ObjectNode last = oaiChunk(dialect, id, created, alias, empty, finish, null);
                        last.set("timings", timings(d.usage()));
                        sse.event(last);
                        if (includeUsage) {
                            ObjectNode u = oaiChunk(dialect, id, created, alias, null, null, null);
                            u.putArray("choices");
                            u.set("usage", usage(d.usage()));
                            sse.event(u);
                        }
                        sse.done();
                        return;
                    }
                    case GenerationEvent.Failed f -> {
                        sse.error(ErrorBodies.body(f.status(), "server_error", f.message()));
                        return;
                    }
                }
            }
        } catch (IOException clientGone) {
            job.cancel();
        }
    }

    /** Sends parsed chat deltas as chunks; {@code logprobs} (may be null) go with the first. */
    private void sendDeltas(SseWriter sse, List<ChatDeltaStream.Delta> ds, String id, long created, String alias,
                            JsonNode logprobs) throws IOException {
        JsonNode lp = logprobs;
        if (ds.isEmpty() && lp != null) {
            sse.event(oaiChunk(Dialect.CHAT, id, created, alias, json.createObjectNode(), null, lp));
            return;
        }
        for (ChatDeltaStream.Delta d : ds) {
            ObjectNode delta = json.createObjectNode();
            if (d.reasoning() != null) {
                delta.put("reasoning_content", d.reasoning());
            } else if (d.content() != null) {
                delta.put("content", d.content());
            } else {
                delta.putArray("tool_calls").add(toolCall(d.call(), d.callIndex()));
            }
            sse.event(oaiChunk(Dialect.CHAT, id, created, alias, delta, null, lp));
            lp = null;
        }
    }

    /** An OpenAI tool call; {@code index} &gt;= 0 adds the streaming index. */
    private ObjectNode toolCall(ParsedToolCall call, int index) {
        ObjectNode c = json.createObjectNode();
        if (index >= 0) {
            c.put("index", index);
        }
        c.put("id", call.id() != null ? call.id() : "call_" + randomId());
        c.put("type", "function");
        c.putObject("function").put("name", call.name()).put("arguments", call.arguments());
        return c;
    }

    private ObjectNode oaiChunk(Dialect dialect, String id, long created, String alias, ObjectNode delta,
                                String finish, JsonNode logprobs) {
        ObjectNode c = json.createObjectNode();
        c.put("id", id).put("object", dialect == Dialect.CHAT ? "chat.completion.chunk" : "text_completion")
                .put("created", created).put("model", alias).put("system_fingerprint", ApiServer.FINGERPRINT);
        if (delta != null) {
            ObjectNode choice = c.putArray("choices").addObject().put("index", 0);
            if (dialect == Dialect.CHAT) {
                choice.set("delta", delta);
            } else {
                choice.put("text", delta.path("text").asText(""));
            }
            choice.set("logprobs", logprobs);
            if (finish == null) {
                choice.putNull("finish_reason");
            } else {
                choice.put("finish_reason", finish);
            }
        }
        return c;
    }

    private ObjectNode oaiFinal(List<Outcome> outcomes, Dialect dialect, String id, long created, String alias,
                                GenerationSettings g) {
        LoadedModel m = model.get();
        ObjectNode r = json.createObjectNode();
        r.put("id", id).put("object", dialect == Dialect.CHAT ? "chat.completion" : "text_completion")
                .put("created", created).put("model", alias).put("system_fingerprint", ApiServer.FINGERPRINT);
        ArrayNode choices = r.putArray("choices");
        int promptTokens = 0;
        int completionTokens = 0;
        for (int i = 0; i < outcomes.size(); i++) {
            Outcome o = outcomes.get(i);
            ObjectNode c = choices.addObject().put("index", i);
            String finish = o.done().reason().openAi();
            if (dialect == Dialect.CHAT) {
                ObjectNode msg = c.putObject("message").put("role", "assistant");
                ChatOutputParser parser = g.shaping().parser();
                if (parser == null) {
                    msg.put("content", o.text());
                } else {
                    ChatOutput out = parser.parse(o.text(), false);
                    if (out.content().isEmpty() && !out.calls().isEmpty()) {
                        msg.putNull("content");
                    } else {
                        msg.put("content", out.content());
                    }
                    if (!out.reasoning().isEmpty()) {
                        msg.put("reasoning_content", out.reasoning());
                    }
                    if (!out.calls().isEmpty()) {
                        ArrayNode calls = msg.putArray("tool_calls");
                        for (ParsedToolCall call : out.calls()) {
                            calls.add(toolCall(call, -1));
                        }
                        if (o.done().reason() != dev.trestle.server.serving.FinishReason.LENGTH) {
                            finish = "tool_calls";
                        }
                    }
                }
                msg.putNull("refusal");
            } else {
                c.put("text", o.text());
            }
            c.set("logprobs", g.logprobs() ? logprobs(m, o.probs(), dialect) : null);
            c.put("finish_reason", finish);
            promptTokens += o.done().usage().promptTokens();
            completionTokens += o.done().usage().generatedTokens();
        }
        r.putObject("usage").put("prompt_tokens", promptTokens).put("completion_tokens", completionTokens)
                .put("total_tokens", promptTokens + completionTokens);
        r.set("timings", timings(outcomes.get(0).done().usage()));
        return r;
    }

    private ObjectNode nativeFinal(Outcome o, LoadedModel m, int[] prompt) {
        GenerationEvent.Done d = o.done();
        ObjectNode r = json.createObjectNode();
        r.put("content", o.text());
        ArrayNode toks = r.putArray("tokens");
        for (int[] t : o.tokens()) {
            for (int x : t) {
                toks.add(x);
            }
        }
        r.put("id_slot", d.usage().slot()).put("stop", true).put("model", m.alias())
                .put("tokens_predicted", d.usage().generatedTokens())
                .put("tokens_evaluated", d.usage().promptTokens())
                .put("tokens_cached", d.usage().cachedTokens() + d.usage().generatedTokens())
                .put("truncated", false)
                .put("stopped_eos", d.reason() == dev.trestle.server.serving.FinishReason.EOS)
                .put("stopped_word", d.reason() == dev.trestle.server.serving.FinishReason.STOP_WORD)
                .put("stopped_limit", d.reason() == dev.trestle.server.serving.FinishReason.LENGTH)
                .put("stopping_word", d.stoppingWord() == null ? "" : d.stoppingWord());
        if (!o.probs().isEmpty()) {
            r.set("completion_probabilities", nativeProbs(m, o.probs()));
        }
        r.set("timings", timings(d.usage()));
        return r;
    }

    private JsonNode logprobs(LoadedModel m, List<List<TokenProb>> probs, Dialect dialect) {
        if (dialect == Dialect.CHAT) {
            ObjectNode lp = json.createObjectNode();
            ArrayNode content = lp.putArray("content");
            for (List<TokenProb> step : probs) {
                ObjectNode e = tokenEntry(m, step.get(0));
                ArrayNode top = e.putArray("top_logprobs");
                for (TokenProb t : step.subList(1, step.size())) {
                    top.add(tokenEntry(m, t));
                }
                content.add(e);
            }
            return lp;
        }
        ObjectNode lp = json.createObjectNode();
        ArrayNode tokens = lp.putArray("tokens");
        ArrayNode tokenLogprobs = lp.putArray("token_logprobs");
        ArrayNode top = lp.putArray("top_logprobs");
        for (List<TokenProb> step : probs) {
            tokens.add(piece(m, step.get(0).token()));
            tokenLogprobs.add(step.get(0).logprob());
            ObjectNode alts = top.addObject();
            for (TokenProb t : step.subList(1, step.size())) {
                alts.put(piece(m, t.token()), t.logprob());
            }
        }
        return lp;
    }

    private ArrayNode nativeProbs(LoadedModel m, List<List<TokenProb>> probs) {
        ArrayNode out = json.createArrayNode();
        for (List<TokenProb> step : probs) {
            ObjectNode e = out.addObject();
            e.put("id", step.get(0).token()).put("token", piece(m, step.get(0).token()))
                    .put("logprob", step.get(0).logprob());
            ArrayNode top = e.putArray("top_logprobs");
            for (TokenProb t : step.subList(1, step.size())) {
                top.addObject().put("id", t.token()).put("token", piece(m, t.token())).put("logprob", t.logprob());
            }
        }
        return out;
    }

    private ObjectNode tokenEntry(LoadedModel m, TokenProb t) {
        ObjectNode e = json.createObjectNode();
        byte[] bytes = m.tokenizer().pieceBytes(t.token(), false);
        e.put("token", new String(bytes, java.nio.charset.StandardCharsets.UTF_8)).put("logprob", t.logprob());
        ArrayNode b = e.putArray("bytes");
        for (byte x : bytes) {
            b.add(x & 0xFF);
        }
        return e;
    }

    private static String piece(LoadedModel m, int token) {
        return new String(m.tokenizer().pieceBytes(token, false), java.nio.charset.StandardCharsets.UTF_8);
    }

    private ObjectNode usage(GenerationEvent.Usage u) {
        return json.createObjectNode().put("prompt_tokens", u.promptTokens())
                .put("completion_tokens", u.generatedTokens()).put("total_tokens", u.promptTokens() + u.generatedTokens());
    }

    private ObjectNode timings(GenerationEvent.Usage u) {
        int promptN = u.promptTokens() - u.cachedTokens();
        return json.createObjectNode()
                .put("cache_n", u.cachedTokens())
                .put("prompt_n", promptN).put("prompt_ms", u.promptMs())
                .put("prompt_per_token_ms", promptN > 0 ? u.promptMs() / promptN : 0)
                .put("prompt_per_second", u.promptMs() > 0 ? promptN * 1000.0 / u.promptMs() : 0)
                .put("predicted_n", u.generatedTokens()).put("predicted_ms", u.generationMs())
                .put("predicted_per_token_ms", u.generatedTokens() > 0 ? u.generationMs() / u.generatedTokens() : 0)
                .put("predicted_per_second", u.generationMs() > 0 ? u.generatedTokens() * 1000.0 / u.generationMs() : 0);
    }

    static String randomId() {
        StringBuilder sb = new StringBuilder(32);
        for (int i = 0; i < 32; i++) {
            sb.append(ALNUM.charAt(RANDOM.nextInt(ALNUM.length())));
        }
        return sb.toString();
    }
}
