package dev.trestle.engine.template;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.trestle.engine.template.jinja.JinjaCallable;
import dev.trestle.engine.template.jinja.JinjaException;
import dev.trestle.engine.template.jinja.Strftime;
import dev.trestle.engine.template.jinja.Template;
import java.time.Clock;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A model's chat template: turns a conversation into the prompt text, exactly as llama-server's
 * {@code --jinja} path does. Besides rendering the Jinja source it reproduces llama.cpp's request
 * handling around it: messages in OpenAI shape with empty content as "", a system message merged
 * into the next one when the template has no system role, tool-call arguments parsed into objects
 * when the template reads them as such, {@code developer} mapped to {@code system},
 * {@code date_string}/{@code datetime}/{@code strftime_now} from the injected clock, and a leading
 * BOS (trailing EOS) dropped when tokenization adds it anyway.
 *
 * <p>Immutable and thread-safe; construct once per model (capability probing renders the template
 * a few times).
 */
public final class ChatTemplate {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final String source;
    private final Template program;
    private final SpecialTokens tokens;
    private final Clock clock;
    private final TemplateCaps caps;
    /** gpt-oss style templates (channels) keep the developer role and get reasoning as "thinking". */
    private final boolean channelTemplate;
    /** The model's separate template for requests with tools ({@code tokenizer.chat_template.tool_use}), or null. */
    private final ChatTemplate toolUse;

    /** A template whose tokenization adds no BOS/EOS of its own. */
    public ChatTemplate(String source, String bosToken, String eosToken, Clock clock) {
        this(source, new SpecialTokens(bosToken, eosToken, false, false), clock);
    }

    /**
     * Parses {@code source} and probes its capabilities.
     *
     * @throws TemplateException when the source is not a valid template
     */
    public ChatTemplate(String source, SpecialTokens tokens, Clock clock) {
        this(source, tokens, clock, null);
    }

    /**
     * A template with a variant for requests that offer tools (some models ship one as
     * {@code tokenizer.chat_template.tool_use}); null {@code toolUseSource} means none.
     */
    public ChatTemplate(String source, SpecialTokens tokens, Clock clock, String toolUseSource) {
        this.toolUse = toolUseSource == null ? null : new ChatTemplate(toolUseSource, tokens, clock, null);
        this.source = Objects.requireNonNull(source, "source");
        this.tokens = Objects.requireNonNull(tokens, "tokens");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.channelTemplate = source.contains("<|channel|>");
        String patched = KnownPatches.apply(source);
        try {
            this.program = Template.parse(patched);
        } catch (JinjaException e) {
            throw new TemplateException("chat template does not parse: " + e.getMessage()
                    + (e.position() >= 0 ? " (" + Template.locate(patched, e.position()) + ")" : ""), e.getMessage(),
                    "pass a working template with --chat-template NAME|FILE");
        }
        Map<String, Object> probeGlobals = new HashMap<>();
        probeGlobals.put("strftime_now", strftimeNow());
        this.caps = CapsProbe.detect(program, probeGlobals, channelTemplate);
    }

    /** The template source as given (before llama.cpp's compatibility patches). */
    public String source() {
        return source;
    }

    public SpecialTokens specialTokens() {
        return tokens;
    }

    public TemplateCaps caps() {
        return caps;
    }

    /** The variant used when a request offers tools, or null when the model has none. */
    public ChatTemplate toolUseVariant() {
        return toolUse;
    }

    /**
     * Renders the prompt for {@code messages}, offering {@code tools} (may be empty or null).
     * Mutates nothing; the clock is read once per call.
     *
     * @throws TemplateException when the template refuses the conversation (its message is the
     *     template's own) or a tool call's arguments are not JSON
     */
    public String render(List<ChatMessage> messages, List<Tool> tools, RenderOptions opts) {
        Objects.requireNonNull(messages, "messages");
        if (toolUse != null && tools != null && !tools.isEmpty()) {
            return toolUse.render(messages, tools, opts);
        }
        RenderOptions o = opts == null ? RenderOptions.defaults() : opts;
        List<Object> msgs = new ArrayList<>(messages.size());
        for (ChatMessage m : messages) {
            msgs.add(toTemplateMessage(m));
        }
        if (!channelTemplate) {
            mapDeveloperToSystem(msgs);
        }
        if (!caps.supportsSystemRole()) {
            mergeSystemIntoNext(msgs);
        }
        if (caps.supportsObjectArguments()) {
            parseToolArguments(msgs);
        }
        if (channelTemplate) {
            reasoningAsThinking(msgs);
        }

        Map<String, Object> g = new LinkedHashMap<>();
        g.put("messages", msgs);
        g.put("bos_token", tokens.bos());
        g.put("eos_token", tokens.eos());
        g.put("enable_thinking", o.enableThinking());
        if (tools != null && !tools.isEmpty()) {
            List<Object> ts = new ArrayList<>();
            for (Tool t : tools) {
                ts.add(toTemplateTool(t));
            }
            g.put("tools", ts);
        }
        ZonedDateTime now = ZonedDateTime.now(clock);
        g.put("datetime", Strftime.format(now, "%b %d %Y"));
        g.put("date_string", Strftime.format(now, "%d %b %Y"));
        for (Map.Entry<String, JsonNode> e : o.kwargs().entrySet()) {
            g.put(e.getKey(), JsonValues.from(e.getValue(), false));
        }
        if (o.addGenerationPrompt()) {
            g.put("add_generation_prompt", true);
        }
        g.put("strftime_now", strftimeNow());

        String out;
        try {
            out = program.render(g);
        } catch (JinjaException e) {
            String where = e.position() >= 0 ? " (" + program.lineColumn(e.position()) + ")" : "";
            throw new TemplateException("chat template error: " + e.getMessage() + where, e.getMessage(),
                    e.raised() ? "the model's chat template does not accept this conversation; change the messages"
                            + " or choose another template with --chat-template NAME|FILE"
                            : "the chat template failed on this request; choose another with --chat-template NAME|FILE");
        }
        if (tokens.addBos() && !tokens.bos().isEmpty() && out.startsWith(tokens.bos())) {
            out = out.substring(tokens.bos().length());
        }
        if (tokens.addEos() && !tokens.eos().isEmpty() && out.endsWith(tokens.eos())) {
            out = out.substring(0, out.length() - tokens.eos().length());
        }
        return out;
    }

    private JinjaCallable strftimeNow() {
        return (args, kw) -> Strftime.format(ZonedDateTime.now(clock), args.isEmpty() ? "" : String.valueOf(args.getFirst()));
    }

    /** A message as llama.cpp hands it to templates (its {@code to_json_oaicompat}). */
    private Map<Object, Object> toTemplateMessage(ChatMessage m) {
        Map<Object, Object> out = new LinkedHashMap<>();
        out.put("role", m.role());
        boolean onlyString = caps.supportsStringContent() && !caps.supportsTypedContent();
        boolean onlyTyped = !caps.supportsStringContent() && caps.supportsTypedContent();
        Object content;
        if (m.content() != null && !m.content().isEmpty()) {
            content = m.content();
        } else if (!m.contentParts().isEmpty()) {
            if (onlyString) {
                StringBuilder sb = new StringBuilder();
                for (ContentPart p : m.contentParts()) {
                    if (!sb.isEmpty()) {
                        sb.append('\n');
                    }
                    sb.append(p.text());
                }
                content = sb.toString();
            } else {
                List<Object> parts = new ArrayList<>();
                for (ContentPart p : m.contentParts()) {
                    parts.add(textPart(p.text()));
                }
                content = parts;
            }
        } else {
            content = "";
        }
        if (onlyTyped && content instanceof String s) {
            content = new ArrayList<>(List.of(textPart(s)));
        }
        out.put("content", content);
        if (m.reasoningContent() != null && !m.reasoningContent().isEmpty()) {
            out.put("reasoning_content", m.reasoningContent());
        }
        if (m.name() != null && !m.name().isEmpty()) {
            out.put("name", m.name());
        }
        if (m.toolCallId() != null && !m.toolCallId().isEmpty()) {
            out.put("tool_call_id", m.toolCallId());
        }
        if (!m.toolCalls().isEmpty()) {
            List<Object> calls = new ArrayList<>();
            for (ToolCall tc : m.toolCalls()) {
                Map<Object, Object> fn = new LinkedHashMap<>();
                fn.put("name", tc.name());
                fn.put("arguments", tc.arguments() == null ? "" : tc.arguments());
                Map<Object, Object> call = new LinkedHashMap<>();
                call.put("type", "function");
                call.put("function", fn);
                if (tc.id() != null && !tc.id().isEmpty()) {
                    call.put("id", tc.id());
                }
                calls.add(call);
            }
            out.put("tool_calls", calls);
        }
        return out;
    }

    private static Map<Object, Object> textPart(String text) {
        Map<Object, Object> p = new LinkedHashMap<>();
        p.put("type", "text");
        p.put("text", text);
        return p;
    }

    private static Map<Object, Object> toTemplateTool(Tool t) {
        Map<Object, Object> fn = new LinkedHashMap<>();
        fn.put("name", t.name());
        fn.put("description", t.description());
        fn.put("parameters", JsonValues.from(t.parameters(), false));
        Map<Object, Object> tool = new LinkedHashMap<>();
        tool.put("type", "function");
        tool.put("function", fn);
        return tool;
    }

    private static void mapDeveloperToSystem(List<Object> msgs) {
        for (Object o : msgs) {
            Map<Object, Object> m = cast(o);
            if ("developer".equals(m.get("role"))) {
                m.put("role", "system");
            }
        }
    }

    /** Templates without a system role get the system text prepended to the next message. */
    private static void mergeSystemIntoNext(List<Object> msgs) {
        if (msgs.isEmpty() || !"system".equals(cast(msgs.getFirst()).get("role"))) {
            return;
        }
        Map<Object, Object> system = cast(msgs.removeFirst());
        if (!msgs.isEmpty()) {
            Map<Object, Object> next = cast(msgs.getFirst());
            next.put("content", asText(system.get("content")) + "\n" + asText(next.get("content")));
        }
    }

    private static String asText(Object content) {
        if (content instanceof String s) {
            return s;
        }
        throw new TemplateException("this template has no system role, and the system message cannot be merged into"
                + " a message whose content is a list of parts", "send the system and first user content as strings");
    }

    private static void parseToolArguments(List<Object> msgs) {
        for (Object o : msgs) {
            if (!(cast(o).get("tool_calls") instanceof List<?> calls)) {
                continue;
            }
            for (Object c : calls) {
                Map<Object, Object> fn = cast(cast(c).get("function"));
                if (fn.get("arguments") instanceof String args) {
                    try {
                        fn.put("arguments", args.isBlank() ? new LinkedHashMap<>() : JsonValues.from(JSON.readTree(args), false));
                    } catch (JsonProcessingException e) {
                        throw new TemplateException("Failed to parse tool call arguments as JSON: " + e.getOriginalMessage(),
                                "send each tool call's function.arguments as a JSON object text");
                    }
                }
            }
        }
    }

    private static void reasoningAsThinking(List<Object> msgs) {
        for (Object o : msgs) {
            Map<Object, Object> m = cast(o);
            if (m.get("reasoning_content") instanceof String r && m.get("tool_calls") instanceof List) {
                m.put("thinking", r);
            }
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<Object, Object> cast(Object o) {
        return (Map<Object, Object>) o;
    }
}
