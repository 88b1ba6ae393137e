package dev.trestle.engine.template;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.trestle.engine.template.jinja.JinjaException;
import dev.trestle.engine.template.jinja.Template;
import dev.trestle.engine.template.jinja.Usage;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Finds a template's capabilities by rendering probe conversations and watching what it reads,
 * following llama.cpp's probes (common/jinja/caps.cpp) so the answers match its
 * {@code chat_template_caps}.
 */
final class CapsProbe {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String REASONING_PLACEHOLDER = "<REASONING_CONTENT_PLACEHOLDER>";

    private static final String PROBE_TOOLS = """
            [{"name": "tool", "type": "function", "function": {"name": "tool1", "description": "Tool description",
              "parameters": {"type": "object", "properties": {"arg": {"type": "string", "description": "Arg description"}},
                             "required": ["arg"]}}}]""";

    private final Template program;
    private final Map<String, Object> extraGlobals;

    private CapsProbe(Template program, Map<String, Object> extraGlobals) {
        this.program = program;
        this.extraGlobals = extraGlobals;
    }

    /** One probe rendering: its inputs as the template saw them, what it read, and its output (null on failure). */
    private record Trial(Map<String, Object> globals, Usage usage, String output) {
        boolean ok() {
            return output != null;
        }

        Object at(Object... path) {
            Object cur = globals;
            for (Object p : path) {
                cur = p instanceof Integer i ? ((List<?>) cur).get(i) : ((Map<?, ?>) cur).get(p);
            }
            return cur;
        }
    }

    static TemplateCaps detect(Template program, Map<String, Object> extraGlobals, boolean channelTemplate) {
        return new CapsProbe(program, extraGlobals).detect(channelTemplate);
    }

    private TemplateCaps detect(boolean channelTemplate) {
        // typed content: the template indexes or filters the content as a list
        Trial t = trial("[{\"role\": \"user\", \"content\": \"content\"}]", "[]", null);
        Object content = t.at("messages", 0, "content");
        boolean typedContent = t.usage().usedWith(content, "selectattr") || t.usage().usedWith(content, "array_access");
        boolean stringContent = t.ok();

        // system role: the template reads the system message's content
        t = trial("[{\"role\": \"system\", \"content\": \"System message\"}, {\"role\": \"user\", \"content\": \"User message\"}]",
                "[]", null);
        boolean systemRole = t.usage().used(t.at("messages", 0, "content"));

        boolean tools = true;
        boolean toolCalls = true;
        boolean objectArguments = false;
        t = trial(toolConversation(1, "{\"arg\": \"value\"}"), PROBE_TOOLS, null);
        if (t.ok()) {
            tools = t.usage().used(t.at("tools", 0, "function", "name"));
            toolCalls = t.usage().used(t.at("messages", 1, "tool_calls"));
            objectArguments = toolCalls && t.usage().used(t.at("messages", 1, "tool_calls", 0, "function", "arguments", "arg"));
        }
        if (!objectArguments) {
            t = trial(toolConversation(1, "\"{\\\"arg\\\": \\\"value\\\"}\""), PROBE_TOOLS, null);
            if (!t.ok()) {
                tools = false;
                toolCalls = false;
            } else {
                tools = t.usage().used(t.at("tools", 0, "function", "name"));
                toolCalls = t.usage().used(t.at("messages", 1, "tool_calls"));
            }
        }

        String args = objectArguments ? "{\"arg\": \"value\"}" : "\"{\\\"arg\\\": \\\"value\\\"}\"";
        t = trial(toolConversation(2, args), PROBE_TOOLS, null);
        boolean parallel = t.ok() && t.usage().used(t.at("messages", 1, "tool_calls", 1, "function"));

        t = trial("""
                [{"role": "user", "content": "User message"},
                 {"role": "assistant", "content": "Assistant message", "reasoning_content": "%s"},
                 {"role": "user", "content": "User message"},
                 {"role": "assistant", "content": "Assistant message", "reasoning_content": "Reasoning content"},
                 {"role": "user", "content": "User message"}]""".formatted(REASONING_PLACEHOLDER), "[]", g -> {
                    g.put("preserve_thinking", true);
                    g.put("clear_thinking", false);
                    g.put("truncate_history_thinking", false);
                });
        boolean preserveReasoning = t.ok() && t.output().contains(REASONING_PLACEHOLDER);

        boolean thinking = channelTemplate || reactsToEnableThinking();
        return new TemplateCaps(stringContent, typedContent, systemRole, tools, toolCalls, parallel, objectArguments,
                preserveReasoning, thinking);
    }

    private boolean reactsToEnableThinking() {
        String on = trial("[{\"role\": \"user\", \"content\": \"test\"}]", "[]", g -> g.put("enable_thinking", true)).output();
        String off = trial("[{\"role\": \"user\", \"content\": \"test\"}]", "[]", g -> g.put("enable_thinking", false)).output();
        return on != null && off != null && !on.equals(off);
    }

    private static String toolConversation(int calls, String argumentsJson) {
        StringBuilder tc = new StringBuilder();
        for (int i = 1; i <= calls; i++) {
            if (i > 1) {
                tc.append(", ");
            }
            tc.append("{\"id\": \"call0000").append(i).append("\", \"type\": \"function\", \"function\": {\"name\": \"tool1\", ")
                    .append("\"arguments\": ").append(argumentsJson).append("}}");
        }
        return """
                [{"role": "user", "content": "User message"},
                 {"role": "assistant", "content": "", "tool_calls": [%s]},
                 {"role": "tool", "content": "Tool response", "tool_call_id": "call00001"},
                 {"role": "assistant", "content": "The tool response was 'tool response'"},
                 {"role": "user", "content": "User message"}]""".formatted(tc);
    }

    private Trial trial(String messagesJson, String toolsJson, Consumer<Map<String, Object>> extra) {
        Map<String, Object> g = new HashMap<>(extraGlobals);
        try {
            g.put("messages", JsonValues.from(JSON.readTree(messagesJson), true));
            g.put("tools", JsonValues.from(JSON.readTree(toolsJson), true));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("bad probe JSON", e);
        }
        g.put("bos_token", "");
        g.put("eos_token", "");
        g.put("add_generation_prompt", true);
        if (extra != null) {
            extra.accept(g);
        }
        Usage usage = new Usage();
        String out;
        try {
            out = program.render(g, usage);
        } catch (JinjaException e) {
            out = null; // a probe the template refuses tells what it cannot do
        }
        return new Trial(g, usage, out);
    }
}
