package dev.trestle.server.http;

import com.fasterxml.jackson.databind.JsonNode;
import dev.trestle.common.TrestleException;
import dev.trestle.engine.grammar.GbnfParser;
import dev.trestle.engine.grammar.Grammar;
import dev.trestle.engine.grammar.JsonSchemaToGbnf;

/**
 * The grammar a request asks for: OpenAI's {@code response_format} (json_object, json_schema) or
 * llama-server's {@code grammar} (GBNF) and {@code json_schema} fields, else the server's default
 * ({@code --grammar}, {@code --grammar-file}, {@code --json-schema}). Problems are 400s naming them.
 */
final class RequestGrammar {
    private RequestGrammar() {
    }

    /** True when the request itself sets a grammar (not counting the server default). */
    static boolean requested(JsonNode body) {
        JsonNode rf = JsonFields.objectField(body, "response_format");
        boolean format = rf != null && !JsonFields.string(rf, "type", "text").equals("text");
        return format || present(body, "grammar") || present(body, "json_schema");
    }

    /** The request's grammar, the server default when it sets none, or null. */
    static Grammar read(JsonNode body, String defaultGbnf) {
        try {
            String gbnf = gbnf(body);
            if (gbnf == null) {
                gbnf = defaultGbnf;
            }
            return gbnf == null ? null : GbnfParser.parse(gbnf);
        } catch (ApiException e) {
            throw e;
        } catch (TrestleException e) {
            throw ApiException.invalid(e.getMessage() + (e.fix() == null ? "" : "; " + e.fix()));
        }
    }

    /**
     * llama-server's {@code grammar_lazy} / {@code grammar_triggers}: the trigger words of a lazy grammar, or an
     * empty list when the grammar applies from the start.
     */
    static java.util.List<String> triggers(JsonNode body) {
        if (!JsonFields.bool(body, "grammar_lazy", false)) {
            return java.util.List.of();
        }
        JsonNode ts = JsonFields.array(body, "grammar_triggers", false);
        java.util.List<String> out = new java.util.ArrayList<>();
        if (ts != null) {
            for (JsonNode t : ts) {
                JsonNode value = t.isTextual() ? t : t.get("value");
                JsonNode type = t.isObject() ? t.get("type") : null;
                boolean word = type == null || type.isNull() || type.asText().equals("word")
                        || type.isIntegralNumber() && type.asInt() == 1;
                if (!word || value == null || !value.isTextual() || value.asText().isEmpty()) {
                    throw ApiException.invalid("'grammar_triggers' entries must be words: {\"type\": \"word\", "
                            + "\"value\": \"<tool_call>\"} (token and pattern triggers are not supported)");
                }
                out.add(value.asText());
            }
        }
        if (out.isEmpty()) {
            throw ApiException.invalid("'grammar_lazy' needs 'grammar_triggers'");
        }
        return out;
    }

    private static String gbnf(JsonNode body) {
        boolean grammar = present(body, "grammar");
        boolean schema = present(body, "json_schema");
        JsonNode rf = JsonFields.objectField(body, "response_format");
        String type = rf == null ? "text" : JsonFields.string(rf, "type", "text");
        int given = (grammar ? 1 : 0) + (schema ? 1 : 0) + (type.equals("text") ? 0 : 1);
        if (given > 1) {
            throw ApiException.invalid("give only one of 'grammar', 'json_schema' and 'response_format'");
        }
        if (grammar) {
            JsonNode g = body.get("grammar");
            if (!g.isTextual()) {
                throw ApiException.invalid("'grammar' must be a string of GBNF rules");
            }
            return g.asText();
        }
        if (schema) {
            return schemaGbnf(body.get("json_schema"), "'json_schema'");
        }
        switch (type) {
            case "text" -> {
                return null;
            }
            case "json_object" -> {
                JsonNode s = rf.get("schema"); // llama-server accepts a schema here too
                return s != null && !s.isNull() ? schemaGbnf(s, "'response_format.schema'") : JsonSchemaToGbnf.jsonObject();
            }
            case "json_schema" -> {
                JsonNode js = rf.get("json_schema");
                JsonNode s = js != null && js.isObject() ? js.get("schema") : rf.get("schema");
                if (s == null || s.isNull()) {
                    throw ApiException.invalid("response_format type 'json_schema' needs "
                            + "'json_schema': {\"name\": ..., \"schema\": {...}}");
                }
                return schemaGbnf(s, "'response_format.json_schema.schema'");
            }
            default -> throw ApiException.invalid("response_format type '" + type
                    + "' is not supported; use 'text', 'json_object' or 'json_schema'");
        }
    }

    private static String schemaGbnf(JsonNode schema, String where) {
        if (schema.isTextual()) {
            return JsonSchemaToGbnf.convert(schema.asText());
        }
        if (!schema.isObject() && !schema.isBoolean()) {
            throw ApiException.invalid(where + " must be a JSON schema object");
        }
        return JsonSchemaToGbnf.convert(schema);
    }

    private static boolean present(JsonNode body, String field) {
        JsonNode v = body.get(field);
        return v != null && !v.isNull() && !(v.isTextual() && v.asText().isEmpty());
    }
}
