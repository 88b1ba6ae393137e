package dev.trestle.engine.template;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;

/**
 * One conversation message as a chat template sees it. {@code content} is the text, or null
 * when the message has {@code contentParts} or none at all (an assistant turn with only tool calls).
 */
public record ChatMessage(String role, String content, List<ContentPart> contentParts, List<ToolCall> toolCalls,
                          String toolCallId, String name, String reasoningContent) {

    public ChatMessage {
        if (role == null || role.isEmpty()) {
            throw new TemplateException("a message has no role", "give every message a role (system, user, assistant, tool)");
        }
        contentParts = contentParts == null ? List.of() : List.copyOf(contentParts);
        toolCalls = toolCalls == null ? List.of() : List.copyOf(toolCalls);
    }

    /** A plain text message. */
    public static ChatMessage of(String role, String content) {
        return new ChatMessage(role, content, null, null, null, null, null);
    }

    /** An assistant message that calls tools. */
    public static ChatMessage toolCalls(String content, List<ToolCall> calls) {
        return new ChatMessage("assistant", content, null, calls, null, null, null);
    }

    /** A tool's answer to the call {@code toolCallId}. */
    public static ChatMessage toolResult(String toolCallId, String name, String content) {
        return new ChatMessage("tool", content, null, null, toolCallId, name, null);
    }

    /** Parses an OpenAI chat message (content as a string, a list of text parts, or null). */
    public static ChatMessage fromJson(JsonNode m) {
        String fix = "send messages as OpenAI chat messages: {\"role\": ..., \"content\": ...}";
        if (m == null || !m.isObject()) {
            throw new TemplateException("a message must be an object, got " + m, fix);
        }
        if (!m.path("role").isTextual()) {
            throw new TemplateException("missing 'role' in message: " + m, fix);
        }
        String content = null;
        List<ContentPart> parts = new ArrayList<>();
        JsonNode c = m.get("content");
        if (c != null && c.isTextual()) {
            content = c.asText();
        } else if (c != null && c.isArray()) {
            for (JsonNode p : c) {
                String type = p.path("type").asText("");
                if (!type.equals("text")) {
                    throw new TemplateException("unsupported content part type: '" + type + "'", "send text parts only");
                }
                parts.add(ContentPart.text(p.path("text").asText("")));
            }
        } else if (c != null && !c.isNull()) {
            throw new TemplateException("invalid 'content': expected a string or an array, got " + c, fix);
        }
        List<ToolCall> calls = new ArrayList<>();
        JsonNode tcs = m.get("tool_calls");
        if (tcs != null && tcs.isArray()) {
            for (JsonNode tc : tcs) {
                if (!"function".equals(tc.path("type").asText(null)) || !tc.path("function").path("name").isTextual()) {
                    throw new TemplateException("unsupported tool call: " + tc, "tool calls need type 'function' and a function name");
                }
                JsonNode args = tc.path("function").get("arguments");
                String argText = args == null || args.isNull() ? "" : args.isTextual() ? args.asText() : args.toString();
                calls.add(new ToolCall(tc.path("id").asText(null), tc.path("function").path("name").asText(), argText));
            }
        }
        if (c == null && (tcs == null || tcs.isNull())) {
            throw new TemplateException("a message needs 'content' or 'tool_calls': " + m, fix);
        }
        return new ChatMessage(m.get("role").asText(), content, parts, calls, text(m, "tool_call_id"), text(m, "name"),
                text(m, "reasoning_content"));
    }

    /** Parses an OpenAI {@code messages} array. */
    public static List<ChatMessage> listFromJson(JsonNode messages) {
        if (messages == null || !messages.isArray()) {
            throw new TemplateException("'messages' must be an array", "send messages as a JSON array");
        }
        List<ChatMessage> out = new ArrayList<>();
        for (JsonNode m : messages) {
            out.add(fromJson(m));
        }
        return out;
    }

    private static String text(JsonNode m, String field) {
        JsonNode v = m.get(field);
        return v != null && v.isTextual() ? v.asText() : null;
    }
}
