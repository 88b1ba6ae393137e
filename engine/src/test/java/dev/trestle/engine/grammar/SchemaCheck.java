package dev.trestle.engine.grammar;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * A small JSON schema validator for the keywords JsonSchemaToGbnf supports, used as the independent oracle
 * in tests (it never looks at grammars). Returns the list of violations, empty when valid.
 */
final class SchemaCheck {
    private static final Pattern DATE = Pattern.compile("\\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\\d|3[01])");
    private static final Pattern TIME = Pattern.compile(
            "([01]\\d|2[0-3]):[0-5]\\d:[0-5]\\d(\\.\\d{3})?(Z|[+-]([01]\\d|2[0-3]):[0-5]\\d)");
    private static final Pattern UUID = Pattern.compile(
            "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");

    private final JsonNode root;
    private final List<String> errors = new ArrayList<>();

    private SchemaCheck(JsonNode root) {
        this.root = root;
    }

    static List<String> validate(JsonNode schema, JsonNode doc) {
        SchemaCheck c = new SchemaCheck(schema);
        c.check(schema, doc, "$");
        return c.errors;
    }

    private boolean ok(JsonNode schema, JsonNode doc) {
        SchemaCheck c = new SchemaCheck(root);
        c.check(schema, doc, "$");
        return c.errors.isEmpty();
    }

    private void fail(String at, String what) {
        errors.add(at + ": " + what);
    }

    private void check(JsonNode s, JsonNode d, String at) {
        if (s.isBoolean()) {
            if (!s.booleanValue()) {
                fail(at, "schema false");
            }
            return;
        }
        if (s.has("$ref")) {
            check(root.at(s.get("$ref").asText().substring(1)), d, at);
        }
        if (s.has("anyOf")) {
            boolean any = false;
            for (JsonNode alt : s.get("anyOf")) {
                any |= ok(alt, d);
            }
            if (!any) {
                fail(at, "matches no anyOf alternative");
            }
        }
        if (s.has("oneOf")) {
            int n = 0;
            for (JsonNode alt : s.get("oneOf")) {
                n += ok(alt, d) ? 1 : 0;
            }
            if (n != 1) {
                fail(at, "matches " + n + " oneOf alternatives");
            }
        }
        if (s.has("allOf")) {
            for (JsonNode part : s.get("allOf")) {
                check(part, d, at);
            }
        }
        if (s.has("const") && !s.get("const").equals(d)) {
            fail(at, "not the const");
        }
        if (s.has("enum")) {
            boolean in = false;
            for (JsonNode v : s.get("enum")) {
                in |= v.equals(d);
            }
            if (!in) {
                fail(at, "not in enum");
            }
        }
        if (s.has("type")) {
            boolean typeOk = false;
            if (s.get("type").isArray()) {
                for (JsonNode t : s.get("type")) {
                    typeOk |= hasType(t.asText(), d);
                }
            } else {
                typeOk = hasType(s.get("type").asText(), d);
            }
            if (!typeOk) {
                fail(at, "wrong type " + d.getNodeType() + " for " + s.get("type"));
                return;
            }
        }
        if (d.isObject()) {
            JsonNode props = s.get("properties");
            if (s.has("required")) {
                for (JsonNode r : s.get("required")) {
                    if (!d.has(r.asText())) {
                        fail(at, "missing required " + r.asText());
                    }
                }
            }
            for (Iterator<Map.Entry<String, JsonNode>> it = d.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                if (props != null && props.has(e.getKey())) {
                    check(props.get(e.getKey()), e.getValue(), at + "." + e.getKey());
                } else if (s.has("additionalProperties")) {
                    check(s.get("additionalProperties"), e.getValue(), at + "." + e.getKey());
                }
            }
        }
        if (d.isArray()) {
            if (s.has("minItems") && d.size() < s.get("minItems").intValue()) {
                fail(at, "too few items");
            }
            if (s.has("maxItems") && d.size() > s.get("maxItems").intValue()) {
                fail(at, "too many items");
            }
            JsonNode prefix = s.get("prefixItems");
            JsonNode items = s.get("items");
            for (int i = 0; i < d.size(); i++) {
                if (prefix != null && i < prefix.size()) {
                    check(prefix.get(i), d.get(i), at + "[" + i + "]");
                } else if (items != null && items.isObject()) {
                    check(items, d.get(i), at + "[" + i + "]");
                } else if (items != null && items.isArray() && i < items.size()) {
                    check(items.get(i), d.get(i), at + "[" + i + "]");
                }
            }
        }
        if (d.isTextual()) {
            String v = d.textValue();
            int len = v.codePointCount(0, v.length());
            if (s.has("minLength") && len < s.get("minLength").intValue()) {
                fail(at, "too short");
            }
            if (s.has("maxLength") && len > s.get("maxLength").intValue()) {
                fail(at, "too long");
            }
            if (s.has("pattern") && !Pattern.compile(s.get("pattern").asText()).matcher(v).find()) {
                fail(at, "does not match pattern");
            }
            if (s.has("format")) {
                Pattern p = switch (s.get("format").asText()) {
                    case "date" -> DATE;
                    case "time" -> TIME;
                    case "date-time" -> Pattern.compile(DATE.pattern() + "T" + TIME.pattern());
                    case "uuid" -> UUID;
                    default -> null;
                };
                if (p != null && !p.matcher(v).matches()) {
                    fail(at, "bad " + s.get("format").asText());
                }
            }
        }
        if (d.isNumber()) {
            double v = d.doubleValue();
            if (s.has("minimum") && v < s.get("minimum").doubleValue()) {
                fail(at, "below minimum");
            }
            if (s.has("maximum") && v > s.get("maximum").doubleValue()) {
                fail(at, "above maximum");
            }
            if (s.has("exclusiveMinimum") && v <= s.get("exclusiveMinimum").doubleValue()) {
                fail(at, "not above exclusiveMinimum");
            }
            if (s.has("exclusiveMaximum") && v >= s.get("exclusiveMaximum").doubleValue()) {
                fail(at, "not below exclusiveMaximum");
            }
        }
    }

    private static boolean hasType(String t, JsonNode d) {
        return switch (t) {
            case "object" -> d.isObject();
            case "array" -> d.isArray();
            case "string" -> d.isTextual();
            case "integer" -> d.isIntegralNumber() || d.isNumber() && d.decimalValue().stripTrailingZeros().scale() <= 0;
            case "number" -> d.isNumber();
            case "boolean" -> d.isBoolean();
            case "null" -> d.isNull();
            default -> false;
        };
    }
}
