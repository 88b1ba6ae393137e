package dev.trestle.engine.template;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import java.util.ArrayList;
import java.util.List;

/** A function the model may call, as an OpenAI request declares it ({@code parameters} is a JSON schema). */
public record Tool(String name, String description, JsonNode parameters) {

    public Tool {
        if (name == null || name.isEmpty()) {
            throw new TemplateException("a tool has no function name", "give every tool a function.name");
        }
        description = description == null ? "" : description;
        parameters = parameters == null ? JsonNodeFactory.instance.objectNode() : parameters;
    }

    /** Parses one OpenAI tool: {@code {"type": "function", "function": {name, description, parameters}}}. */
    public static Tool fromJson(JsonNode tool) {
        String fix = "declare tools as {\"type\": \"function\", \"function\": {\"name\": ..., \"parameters\": {...}}}";
        if (tool == null || !tool.isObject()) {
            throw new TemplateException("a tool must be an object, got " + tool, fix);
        }
        if (!"function".equals(tool.path("type").asText(null))) {
            throw new TemplateException("unsupported tool type: " + tool.path("type"), fix);
        }
        JsonNode fn = tool.get("function");
        if (fn == null || !fn.isObject() || !fn.path("name").isTextual()) {
            throw new TemplateException("tool without a function name: " + tool, fix);
        }
        JsonNode description = fn.get("description");
        return new Tool(fn.get("name").asText(), description != null && description.isTextual() ? description.asText() : "",
                fn.get("parameters"));
    }

    /** Parses an OpenAI {@code tools} array (null or JSON null gives an empty list). */
    public static List<Tool> listFromJson(JsonNode tools) {
        List<Tool> out = new ArrayList<>();
        if (tools == null || tools.isNull() || tools.isMissingNode()) {
            return out;
        }
        if (!tools.isArray()) {
            throw new TemplateException("'tools' must be an array", "send tools as a JSON array");
        }
        for (JsonNode t : tools) {
            out.add(fromJson(t));
        }
        return out;
    }
}
