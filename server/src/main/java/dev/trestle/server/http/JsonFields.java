package dev.trestle.server.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;

/**
 * Typed reads of request fields with errors that name the field: a wrong type or range is a 400
 * ("'max_tokens' must be an integer"), never a 500 or a silent default.
 */
public final class JsonFields {
    private JsonFields() {
    }

    /** The request body as an object. */
    public static ObjectNode object(JsonNode body) {
        if (body == null || !body.isObject()) {
            throw ApiException.invalid("request body must be a JSON object");
        }
        return (ObjectNode) body;
    }

    /** True when the field is present and not null. */
    public static boolean has(JsonNode o, String field) {
        JsonNode v = o.get(field);
        return v != null && !v.isNull();
    }

    public static String string(JsonNode o, String field, String fallback) {
        if (!has(o, field)) {
            return fallback;
        }
        JsonNode v = o.get(field);
        if (!v.isTextual()) {
            throw ApiException.invalid("'" + field + "' must be a string");
        }
        return v.asText();
    }

    public static String requiredString(JsonNode o, String field) {
        if (!has(o, field)) {
            throw ApiException.invalid("'" + field + "' is required");
        }
        return string(o, field, null);
    }

    public static boolean bool(JsonNode o, String field, boolean fallback) {
        if (!has(o, field)) {
            return fallback;
        }
        JsonNode v = o.get(field);
        if (!v.isBoolean()) {
            throw ApiException.invalid("'" + field + "' must be a boolean");
        }
        return v.asBoolean();
    }

    public static int integer(JsonNode o, String field, int fallback, int min, int max) {
        if (!has(o, field)) {
            return fallback;
        }
        JsonNode v = o.get(field);
        if (!v.isIntegralNumber() && !(v.isNumber() && v.asDouble() == Math.rint(v.asDouble()))) {
            throw ApiException.invalid("'" + field + "' must be an integer");
        }
        long x = v.asLong();
        if (x < min || x > max) {
            throw ApiException.invalid("'" + field + "' must be between " + min + " and " + max + ", got " + x);
        }
        return (int) x;
    }

    public static long longValue(JsonNode o, String field, long fallback) {
        if (!has(o, field)) {
            return fallback;
        }
        JsonNode v = o.get(field);
        if (!v.isIntegralNumber()) {
            throw ApiException.invalid("'" + field + "' must be an integer");
        }
        return v.asLong();
    }

    public static double number(JsonNode o, String field, double fallback, double min, double max) {
        if (!has(o, field)) {
            return fallback;
        }
        JsonNode v = o.get(field);
        if (!v.isNumber()) {
            throw ApiException.invalid("'" + field + "' must be a number");
        }
        double x = v.asDouble();
        if (!(x >= min && x <= max)) {
            throw ApiException.invalid("'" + field + "' must be between " + min + " and " + max + ", got " + x);
        }
        return x;
    }

    /** A string or an array of strings (OpenAI's {@code stop}); empty when absent. */
    public static List<String> stringOrStrings(JsonNode o, String field) {
        List<String> out = new ArrayList<>();
        if (!has(o, field)) {
            return out;
        }
        JsonNode v = o.get(field);
        if (v.isTextual()) {
            out.add(v.asText());
        } else if (v.isArray()) {
            for (JsonNode s : v) {
                if (!s.isTextual()) {
                    throw ApiException.invalid("'" + field + "' must be a string or an array of strings");
                }
                out.add(s.asText());
            }
        } else {
            throw ApiException.invalid("'" + field + "' must be a string or an array of strings");
        }
        return out;
    }

    public static JsonNode array(JsonNode o, String field, boolean required) {
        if (!has(o, field)) {
            if (required) {
                throw ApiException.invalid("'" + field + "' is required");
            }
            return null;
        }
        JsonNode v = o.get(field);
        if (!v.isArray()) {
            throw ApiException.invalid("'" + field + "' must be an array");
        }
        return v;
    }

    public static JsonNode objectField(JsonNode o, String field) {
        if (!has(o, field)) {
            return null;
        }
        JsonNode v = o.get(field);
        if (!v.isObject()) {
            throw ApiException.invalid("'" + field + "' must be an object");
        }
        return v;
    }
}
