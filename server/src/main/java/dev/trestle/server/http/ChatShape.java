package dev.trestle.server.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import dev.trestle.common.TrestleException;
import dev.trestle.engine.grammar.Grammar;
import dev.trestle.engine.template.ChatTemplate;
import dev.trestle.engine.template.RenderOptions;
import dev.trestle.engine.template.Tool;
import dev.trestle.engine.tokenizer.Tokenizer;
import dev.trestle.server.tools.ChatOutputParser;
import dev.trestle.server.tools.ReasoningFormat;
import dev.trestle.server.tools.ToolCallFormat;
import dev.trestle.server.tools.ToolCallGrammar;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * How a chat request's output is shaped and read back: the offered tools and {@code tool_choice}, the model's
 * tool-call format (from its template), where reasoning goes, and the grammar that forces a call for
 * {@code tool_choice: "required"} or a named function. {@code "auto"} is parsed without constraining.
 */
final class ChatShape {
    private static final ObjectMapper JSON = new ObjectMapper();

    enum Choice { AUTO, NONE, REQUIRED, NAMED }

    final List<Tool> tools;
    final Choice choice;
    final boolean parallel;
    final ToolCallFormat format;
    final ReasoningFormat reasoning;
    final boolean thinkTags;
    final int reasoningBudget;
    private final ChatTemplate template;
    private List<Tool> forced; // tools a forced call may name

    private ChatShape(List<Tool> tools, Choice choice, boolean parallel, ToolCallFormat format,
                      ReasoningFormat reasoning, boolean thinkTags, int reasoningBudget, ChatTemplate template) {
        this.tools = tools;
        this.choice = choice;
        this.parallel = parallel;
        this.format = format;
        this.reasoning = reasoning;
        this.thinkTags = thinkTags;
        this.reasoningBudget = reasoningBudget;
        this.template = template;
    }

    /** Reads tools, tool_choice, parallel_tool_calls and reasoning_format of a chat request. */
    static ChatShape read(JsonNode body, ChatTemplate template, ReasoningFormat defaultReasoning, int reasoningBudget) {
        List<Tool> tools;
        try {
            tools = Tool.listFromJson(body.get("tools"));
        } catch (TrestleException e) {
            throw ApiException.invalid(e.getMessage());
        }
        Choice choice = Choice.AUTO;
        List<Tool> forced = tools;
        JsonNode tc = body.get("tool_choice");
        if (tc != null && !tc.isNull()) {
            if (tc.isTextual()) {
                choice = switch (tc.asText()) {
                    case "auto" -> Choice.AUTO;
                    case "none" -> Choice.NONE;
                    case "required" -> Choice.REQUIRED;
                    default -> throw ApiException.invalid("'tool_choice' must be \"auto\", \"none\", \"required\" or "
                            + "{\"type\": \"function\", \"function\": {\"name\": ...}}; got \"" + tc.asText() + "\"");
                };
            } else if (tc.isObject() && tc.path("function").path("name").isTextual()) {
                String name = tc.path("function").path("name").asText();
                forced = tools.stream().filter(t -> t.name().equals(name)).toList();
                if (forced.isEmpty()) {
                    throw ApiException.invalid("'tool_choice' names function '" + name + "', which is not among 'tools'");
                }
                choice = Choice.NAMED;
            } else {
                throw ApiException.invalid("'tool_choice' must be a string or {\"type\": \"function\", \"function\": "
                        + "{\"name\": ...}}");
            }
        }
        if (tools.isEmpty() && (choice == Choice.REQUIRED || choice == Choice.NAMED)) {
            throw ApiException.invalid("'tool_choice' \"" + choice.name().toLowerCase() + "\" needs 'tools'");
        }
        if (tools.isEmpty()) {
            choice = Choice.NONE;
        }
        boolean parallel = JsonFields.bool(body, "parallel_tool_calls", true);
        ReasoningFormat reasoning = defaultReasoning;
        String rf = JsonFields.string(body, "reasoning_format", null);
        if (rf != null) {
            try {
                reasoning = ReasoningFormat.parse(rf);
            } catch (TrestleException e) {
                throw ApiException.invalid(e.getMessage() + "; " + e.fix());
            }
        }
        ChatTemplate effective = !tools.isEmpty() && template.toolUseVariant() != null ? template.toolUseVariant() : template;
        String src = effective.source();
        ChatShape s = new ChatShape(tools, choice, parallel, ToolCallFormat.detect(src), reasoning,
                src.contains("<think>"), reasoningBudget, effective);
        s.forced = forced;
        return s;
    }

    boolean callsTools() {
        return choice != Choice.NONE;
    }

    boolean forcesCall() {
        return choice == Choice.REQUIRED || choice == Choice.NAMED;
    }

    /** Rendering options: no thinking with {@code --reasoning-budget 0}, or when a call is forced. */
    RenderOptions renderOptions(RenderOptions base) {
        if (reasoningBudget == 0 || forcesCall() && base.enableThinking()) {
            return base.withEnableThinking(false);
        }
        return base;
    }

    /**
     * Instructions for templates that cannot show tools (llama.cpp's generic format adds them too): the tools'
     * declarations and the JSON shape of a call, as a system message; null when the template shows tools itself.
     */
    String toolInstructions() {
        if (!callsTools() || format != ToolCallFormat.GENERIC || template.caps().supportsTools()) {
            return null;
        }
        ArrayNode decl = JSON.createArrayNode();
        for (Tool t : tools) {
            var fn = decl.addObject().put("type", "function").putObject("function");
            fn.put("name", t.name()).put("description", t.description()).set("parameters", t.parameters());
        }
        return "You can call these tools:\n" + decl.toPrettyString() + "\n\nTo call a tool, reply with only a JSON "
                + "object: {\"tool_call\": {\"name\": <tool name>, \"arguments\": {<arguments>}}}"
                + (parallel ? ", or {\"tool_calls\": [<several such calls>]}" : "")
                + ". Otherwise reply to the user normally.";
    }

    /** True when the rendered prompt leaves the model inside {@code <think>} (DeepSeek R1 templates). */
    boolean thinkingForcedOpen(String prompt) {
        return thinkTags && reasoning.extracts() && prompt.stripTrailing().endsWith("<think>");
    }

    /** The grammar forcing a call, or null when calls are not forced. */
    Grammar grammar(boolean thinkingForcedOpen) {
        if (!forcesCall()) {
            return null;
        }
        boolean par = parallel && template.caps().supportsParallelToolCalls();
        try {
            return ToolCallGrammar.grammar(format, forced, par, thinkingForcedOpen);
        } catch (TrestleException e) {
            throw ApiException.invalid(e.getMessage() + (e.fix() == null ? "" : "; " + e.fix()));
        }
    }

    /**
     * For {@code tool_choice: "auto"}: the marker that opens a call in this format, from which the call grammar
     * applies lazily; null when the format has no such marker (Llama 3 bare JSON, gpt-oss, generic) or calls
     * are not parsed.
     */
    String lazyTrigger() {
        if (choice != Choice.AUTO) {
            return null;
        }
        return switch (format) {
            case HERMES, MISTRAL_NEMO, DEEPSEEK_R1 -> format.markers().get(0);
            default -> null;
        };
    }

    /** The call grammar for {@link #lazyTrigger}, or null when a tool's schema cannot be made a grammar. */
    Grammar lazyGrammar() {
        try {
            boolean par = parallel && template.caps().supportsParallelToolCalls();
            return ToolCallGrammar.grammar(format, tools, par, false);
        } catch (TrestleException e) {
            return null; // auto stays unconstrained: the schema is still shown to the model
        }
    }

    /** The output parser; null when the raw text is the answer. */
    ChatOutputParser parser(boolean thinkingForcedOpen) {
        Set<String> names = new HashSet<>();
        for (Tool t : tools) {
            names.add(t.name());
        }
        ChatOutputParser p = new ChatOutputParser(format, callsTools(), reasoning, thinkTags, thinkingForcedOpen, names);
        return p.active() ? p : null;
    }

    /**
     * Control tokens the parser must see as text: the format's markers (tool markers only when tools are
     * called), each when it is one non-end-of-generation token in this vocabulary.
     */
    Set<Integer> preservedTokens(Tokenizer tok) {
        List<String> markers = new ArrayList<>();
        if (callsTools() || format == ToolCallFormat.GPT_OSS) {
            markers.addAll(format.markers());
        }
        if (thinkTags) {
            markers.add("<think>");
            markers.add("</think>");
        }
        Set<Integer> ids = new LinkedHashSet<>();
        for (String mk : markers) {
            int[] t = tok.encode(mk, false, true);
            if (t.length == 1 && tok.isControl(t[0]) && !tok.isEog(t[0])) {
                ids.add(t[0]);
            }
        }
        return ids;
    }
}
