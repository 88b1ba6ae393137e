package dev.trestle.engine.grammar;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Converts a JSON schema to a GBNF grammar whose sentences are JSON documents valid against the schema,
 * following llama.cpp's json-schema-to-grammar conventions (rule names root, space, string, number,
 * integer, value, object, array, {@code <name>-<prop>-kv}, ...; objects keep property order, required
 * properties first; whitespace is the bounded {@code space} rule).
 *
 * <p>Supported: type (single or list), properties / required / additionalProperties (absent means no extra
 * keys, as in llama.cpp), enum, const, items / prefixItems with minItems / maxItems, string minLength /
 * maxLength, pattern (see {@link JsonPatternToGbnf} for the regular expression subset) and formats date,
 * time, date-time, uuid (other formats are plain strings), integer minimum /
 * maximum / exclusiveMinimum / exclusiveMaximum, number bounds when they are non-negative integers (other
 * number bounds are rejected), anyOf / oneOf (as alternatives), allOf (merged objects), $ref to
 * {@code #}, {@code #/$defs/...} and {@code #/definitions/...} (recursion allowed). Keywords that cannot be
 * enforced (not, if/then/else, patternProperties, uniqueItems, ...) are rejected with a
 * {@link GrammarException} naming the keyword and where it is, rather than silently producing a grammar that
 * admits invalid documents.
 */
public final class JsonSchemaToGbnf {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static final String SPACE = "| \" \" | \"\\n\"{1,2} [ \\t]{0,20}";
    private static final Map<String, String> PRIMITIVES = new LinkedHashMap<>();
    private static final Map<String, List<String>> DEPS = new LinkedHashMap<>();
    private static final Set<String> UNSUPPORTED = Set.of("not", "if", "then", "else",
            "patternProperties", "uniqueItems", "contains", "minContains", "maxContains", "multipleOf",
            "minProperties", "maxProperties", "dependentRequired", "dependentSchemas", "propertyNames",
            "unevaluatedProperties", "unevaluatedItems", "$dynamicRef");

    static {
        primitive("boolean", "(\"true\" | \"false\") space");
        primitive("decimal-part", "[0-9]{1,16}");
        primitive("integral-part", "[0] | [1-9] [0-9]{0,15}");
        primitive("number", "(\"-\"? integral-part) (\".\" decimal-part)? ([eE] [-+]? integral-part)? space",
                "integral-part", "decimal-part");
        primitive("integer", "(\"-\"? integral-part) space", "integral-part");
        primitive("value", "object | array | string | number | boolean | null",
                "object", "array", "string", "number", "boolean", "null");
        primitive("object", "\"{\" space ( string \":\" space value (\",\" space string \":\" space value)* )? \"}\" space",
                "string", "value");
        primitive("array", "\"[\" space ( value (\",\" space value)* )? \"]\" space", "value");
        primitive("uuid", "\"\\\"\" [0-9a-fA-F]{8} \"-\" [0-9a-fA-F]{4} \"-\" [0-9a-fA-F]{4} \"-\" [0-9a-fA-F]{4} \"-\" "
                + "[0-9a-fA-F]{12} \"\\\"\" space");
        primitive("char", "[^\"\\\\\\x7F\\x00-\\x1F] | [\\\\] ([\"\\\\bfnrt] | \"u\" [0-9a-fA-F]{4})");
        primitive("string", "\"\\\"\" char* \"\\\"\" space", "char");
        primitive("null", "\"null\" space");
        primitive("date", "[0-9]{4} \"-\" ( \"0\" [1-9] | \"1\" [0-2] ) \"-\" ( \"0\" [1-9] | [1-2] [0-9] | \"3\" [0-1] )");
        primitive("time", "([01] [0-9] | \"2\" [0-3]) \":\" [0-5] [0-9] \":\" [0-5] [0-9] ( \".\" [0-9]{3} )? "
                + "( \"Z\" | ( \"+\" | \"-\" ) ( [01] [0-9] | \"2\" [0-3] ) \":\" [0-5] [0-9] )");
        primitive("date-time", "date \"T\" time", "date", "time");
        primitive("date-string", "\"\\\"\" date \"\\\"\" space", "date");
        primitive("time-string", "\"\\\"\" time \"\\\"\" space", "time");
        primitive("date-time-string", "\"\\\"\" date-time \"\\\"\" space", "date-time");
    }

    private static void primitive(String name, String body, String... deps) {
        PRIMITIVES.put(name, body);
        DEPS.put(name, List.of(deps));
    }

    // keywords that do not constrain the document, allowed beside $ref / anyOf / oneOf
    private static final Set<String> ANNOTATIONS = Set.of("title", "description", "default", "examples", "$defs",
            "definitions", "$schema", "$id", "$comment", "deprecated", "readOnly", "writeOnly", "$anchor");

    private final JsonNode rootSchema;
    private final Map<String, String> rules = new LinkedHashMap<>();
    private final Set<String> reserved = new LinkedHashSet<>();
    private final Map<String, String> refNames = new LinkedHashMap<>();

    private JsonSchemaToGbnf(JsonNode rootSchema) {
        this.rootSchema = rootSchema;
        rules.put("space", SPACE);
    }

    /** GBNF for documents valid against {@code schemaJson}. */
    public static String convert(String schemaJson) {
        JsonNode schema;
        try {
            schema = JSON.readTree(schemaJson);
        } catch (JsonProcessingException e) {
            throw new GrammarException("JSON schema is not valid JSON: " + e.getOriginalMessage(),
                    "send the schema as a JSON object");
        }
        if (schema == null) {
            throw new GrammarException("JSON schema is empty", "send the schema as a JSON object");
        }
        return convert(schema);
    }

    /** GBNF for documents valid against {@code schema}. */
    public static String convert(JsonNode schema) {
        JsonSchemaToGbnf c = new JsonSchemaToGbnf(schema);
        String root = c.visit(schema, "root", "");
        if (!root.equals("root")) {
            c.rules.put("root", root);
        }
        return c.format();
    }

    /** The parsed grammar for {@code schema}. */
    public static Grammar toGrammar(JsonNode schema) {
        return GbnfParser.parse(convert(schema));
    }

    /** The parsed grammar for {@code schemaJson}. */
    public static Grammar toGrammar(String schemaJson) {
        return GbnfParser.parse(convert(schemaJson));
    }

    /** GBNF for any JSON object (OpenAI's {@code response_format: {"type": "json_object"}}). */
    public static String jsonObject() {
        return convert(JSON.createObjectNode().put("type", "object"));
    }

    private String format() {
        StringBuilder sb = new StringBuilder();
        if (rules.containsKey("root")) {
            sb.append("root ::= ").append(rules.get("root")).append('\n');
        }
        new TreeMap<>(rules).forEach((k, v) -> {
            if (!k.equals("root")) {
                sb.append(k).append(" ::= ").append(v).append('\n');
            }
        });
        return sb.toString();
    }

    // Returns the name of a rule matching the schema; `name` is the preferred name for a new rule and
    // `path` the JSON pointer of the schema, for error messages.
    private String visit(JsonNode schema, String name, String path) {
        if (schema.isBoolean()) {
            if (!schema.booleanValue()) {
                throw error(path, "schema 'false' admits no value");
            }
            return primitiveOrAlias("value", name);
        }
        if (!schema.isObject()) {
            throw error(path, "a schema must be an object or a boolean, found " + schema.getNodeType());
        }
        for (Iterator<String> it = schema.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (UNSUPPORTED.contains(k)) {
                throw error(path, "keyword '" + k + "' is not supported in grammar-constrained output");
            }
        }
        JsonNode type = schema.get("type");
        if (schema.has("$ref")) {
            onlyAnnotationsBeside(schema, "$ref", path);
            return ref(schema.get("$ref").asText(), name, path);
        }
        if (schema.has("oneOf") || schema.has("anyOf")) {
            String key = schema.has("oneOf") ? "oneOf" : "anyOf";
            onlyAnnotationsBeside(schema, key, path);
            JsonNode alts = schema.get(key);
            if (!alts.isArray() || alts.isEmpty()) {
                throw error(path + "/" + key, "must be a non-empty array of schemas");
            }
            List<String> names = new ArrayList<>();
            for (int i = 0; i < alts.size(); i++) {
                names.add(visit(alts.get(i), name + "-" + i, path + "/" + key + "/" + i));
            }
            return addRule(name, String.join(" | ", names));
        }
        if (schema.has("allOf")) {
            return allOf(schema, name, path);
        }
        if (type != null && type.isArray()) {
            if (type.isEmpty()) {
                throw error(path + "/type", "an empty type list admits no value");
            }
            List<String> names = new ArrayList<>();
            for (int i = 0; i < type.size(); i++) {
                ObjectNode one = ((ObjectNode) schema).deepCopy();
                one.set("type", type.get(i));
                names.add(visit(one, name + "-" + type.get(i).asText(), path));
            }
            return addRule(name, String.join(" | ", names));
        }
        if (schema.has("const")) {
            return addRule(name, literal(schema.get("const")) + " space");
        }
        if (schema.has("enum")) {
            JsonNode values = schema.get("enum");
            if (!values.isArray() || values.isEmpty()) {
                throw error(path + "/enum", "must be a non-empty array");
            }
            List<String> alts = new ArrayList<>();
            for (JsonNode v : values) {
                alts.add(literal(v));
            }
            return addRule(name, "(" + String.join(" | ", alts) + ") space");
        }
        String t = type == null ? null : type.asText();
        if (type != null && !type.isTextual()) {
            throw error(path + "/type", "must be a string or an array of strings");
        }
        if ((t == null || t.equals("object")) && (schema.has("properties")
                || schema.has("additionalProperties") && !isTrue(schema.get("additionalProperties")))) {
            return object(schema.get("properties"), requiredOf(schema), schema.get("additionalProperties"),
                    name, path);
        }
        if ((t == null || t.equals("array")) && (schema.has("items") || schema.has("prefixItems")
                || schema.has("minItems") || schema.has("maxItems"))) {
            return array(schema, name, path);
        }
        if (t == null || t.equals("string")) {
            if (schema.has("pattern")) {
                return pattern(schema, name, path);
            }
            if (schema.has("format")) {
                String f = schema.get("format").asText();
                if (PRIMITIVES.containsKey(f + "-string")) {
                    return primitiveOrAlias(f + "-string", name);
                }
                if (f.equals("uuid")) {
                    return primitiveOrAlias("uuid", name);
                }
            }
            if (schema.has("minLength") || schema.has("maxLength")) {
                int min = intOf(schema, "minLength", 0, path);
                int max = intOf(schema, "maxLength", -1, path);
                if (max >= 0 && max < min) {
                    throw error(path, "maxLength " + max + " is below minLength " + min);
                }
                addPrimitive("char");
                return addRule(name, "\"\\\"\" char{" + min + "," + (max < 0 ? "" : max) + "} \"\\\"\" space");
            }
            if (t != null) {
                return primitiveOrAlias("string", name);
            }
        }
        if (t == null) {
            return primitiveOrAlias("value", name);
        }
        switch (t) {
            case "integer" -> {
                if (hasBounds(schema)) {
                    return integerRange(schema, name, path);
                }
                return primitiveOrAlias("integer", name);
            }
            case "number" -> {
                if (hasBounds(schema)) {
                    return numberRange(schema, name, path);
                }
                return primitiveOrAlias("number", name);
            }
            case "boolean", "null", "object", "array" -> {
                return primitiveOrAlias(t, name);
            }
            default -> throw error(path + "/type", "unknown type '" + t + "'");
        }
    }

    // The grammar of a $ref or a union is that of its target or alternatives alone; a sibling constraint
    // would be silently dropped, so it is refused instead.
    private void onlyAnnotationsBeside(JsonNode schema, String key, String path) {
        for (Iterator<String> it = schema.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!k.equals(key) && !ANNOTATIONS.contains(k)) {
                throw error(path, "'" + k + "' beside '" + key + "' is not supported; move it into the "
                        + (key.equals("$ref") ? "referenced schema" : key + " alternatives"));
            }
        }
    }

    private String pattern(JsonNode schema, String name, String path) {
        if (schema.has("minLength") || schema.has("maxLength") || schema.has("format")) {
            throw error(path, "pattern together with minLength/maxLength/format is not supported;"
                    + " express the length or format in the pattern");
        }
        String body;
        try {
            body = JsonPatternToGbnf.convert(schema.get("pattern").asText());
        } catch (IllegalArgumentException e) {
            throw error(path + "/pattern", "unsupported regular expression: " + e.getMessage());
        }
        addPrimitive("char");
        return addRule(name, "\"\\\"\" " + body + " \"\\\"\" space");
    }

    private String ref(String ref, String name, String path) {
        String known = refNames.get(ref);
        if (known != null) {
            return known;
        }
        if (!ref.startsWith("#")) {
            throw error(path + "/$ref", "only local references (#/$defs/...) are supported, not '" + ref + "'");
        }
        JsonNode target = rootSchema.at(ref.substring(1));
        if (target.isMissingNode()) {
            throw error(path + "/$ref", "reference '" + ref + "' does not resolve");
        }
        String base = ref.equals("#") ? "root" : ref.substring(ref.lastIndexOf('/') + 1);
        if (ref.equals("#")) {
            refNames.put(ref, "root");
            return "root";
        }
        String ruleName = reserve(base);
        refNames.put(ref, ruleName);
        String got = visit(target, ruleName, ref.substring(1));
        if (!got.equals(ruleName)) {
            reserved.remove(ruleName);
            rules.put(ruleName, got);
        }
        return ruleName;
    }

    private String allOf(JsonNode schema, String name, String path) {
        // merge the object parts; anything else in allOf cannot be intersected as a grammar
        ObjectNode props = JSON.createObjectNode();
        List<String> required = new ArrayList<>();
        JsonNode additional = schema.get("additionalProperties");
        List<JsonNode> parts = new ArrayList<>();
        schema.get("allOf").forEach(parts::add);
        ObjectNode self = ((ObjectNode) schema).deepCopy();
        self.remove("allOf");
        if (!self.isEmpty()) {
            parts.add(self);
        }
        for (int i = 0; i < parts.size(); i++) {
            JsonNode part = parts.get(i);
            String partPath = path + "/allOf/" + i;
            int guard = 0;
            while (part.has("$ref")) {
                String ref = part.get("$ref").asText();
                part = rootSchema.at(ref.startsWith("#") ? ref.substring(1) : "/\u0000");
                if (part.isMissingNode() || ++guard > 32) {
                    throw error(partPath, "reference '" + ref + "' does not resolve to a schema");
                }
            }
            JsonNode type = part.get("type");
            if (type != null && !type.asText().equals("object")) {
                throw error(partPath, "allOf is supported for object schemas only");
            }
            if (part.has("properties")) {
                part.get("properties").properties().forEach(e -> props.set(e.getKey(), e.getValue()));
            }
            required.addAll(requiredOf(part));
            if (part.has("additionalProperties") && additional == null) {
                additional = part.get("additionalProperties");
            }
        }
        return object(props, required, additional, name, path);
    }

    private String object(JsonNode properties, List<String> required, JsonNode additional, String name,
                          String path) {
        Map<String, String> kv = new LinkedHashMap<>();
        List<String> req = new ArrayList<>();
        List<String> opt = new ArrayList<>();
        List<String> names = new ArrayList<>();
        if (properties != null) {
            if (!properties.isObject()) {
                throw error(path + "/properties", "must be an object");
            }
            for (Map.Entry<String, JsonNode> e : properties.properties()) {
                names.add(e.getKey());
            }
            for (String r : required) {
                if (!properties.has(r)) {
                    throw error(path + "/required", "required property '" + r + "' is not declared in properties");
                }
            }
            // required first, each group in declaration order (llama.cpp's default order)
            for (String p : names) {
                (required.contains(p) ? req : opt).add(p);
            }
            for (String p : names) {
                String propRule = visit(properties.get(p), name + "-" + p, path + "/properties/" + escapePointer(p));
                kv.put(p, addRule(name + "-" + p + "-kv",
                        literal(JSON.getNodeFactory().textNode(p)) + " space \":\" space " + propRule));
            }
        }
        if (additional != null && !(additional.isBoolean() && !additional.booleanValue())) {
            String sub = name + "-additional";
            String valueRule = additional.isObject() ? visit(additional, sub + "-value", path + "/additionalProperties")
                    : addPrimitive("value");
            String keyRule = names.isEmpty() ? addPrimitive("string") : addRule(sub + "-k", notStrings(names));
            kv.put("*", addRule(sub + "-kv", keyRule + " \":\" space " + valueRule));
            opt.add("*");
        }
        StringBuilder rule = new StringBuilder("\"{\" space ");
        for (int i = 0; i < req.size(); i++) {
            if (i > 0) {
                rule.append(" \",\" space ");
            }
            rule.append(kv.get(req.get(i)));
        }
        if (!opt.isEmpty()) {
            rule.append(" (");
            if (!req.isEmpty()) {
                rule.append(" \",\" space ( ");
            }
            List<String> alts = new ArrayList<>();
            for (int i = 0; i < opt.size(); i++) {
                alts.add(optionalChain(opt.subList(i, opt.size()), false, kv, name));
            }
            rule.append(String.join(" | ", alts));
            if (!req.isEmpty()) {
                rule.append(" )");
            }
            rule.append(" )?");
        }
        rule.append(" \"}\" space");
        return addRule(name, rule.toString());
    }

    // Optional properties in order, each present or not: the first present one starts the chain, the rest
    // follow with a comma. "*" (additional properties) may repeat.
    private String optionalChain(List<String> keys, boolean firstOptional, Map<String, String> kv, String name) {
        String k = keys.get(0);
        String kvRule = kv.get(k);
        String commaRef = "( \",\" space " + kvRule + " )";
        String res;
        if (firstOptional) {
            res = commaRef + (k.equals("*") ? "*" : "?");
        } else {
            res = kvRule + (k.equals("*") ? " " + commaRef + "*" : "");
        }
        if (keys.size() > 1) {
            res += " " + addRule(name + "-" + k + "-rest", optionalChain(keys.subList(1, keys.size()), true, kv, name));
        }
        return res;
    }

    // A JSON string that is none of `words` (keys of additional properties must differ from declared ones).
    private String notStrings(List<String> words) {
        addPrimitive("char");
        Node root = new Node();
        for (String w : words) {
            String escaped = jsonText(JSON.getNodeFactory().textNode(w));
            escaped = escaped.substring(1, escaped.length() - 1);
            if (escaped.indexOf('\\') >= 0) {
                return addPrimitive("string"); // escapes would need their own trie; accept any key
            }
            Node n = root;
            for (int cp : escaped.codePoints().toArray()) {
                n = n.children.computeIfAbsent(cp, c -> new Node());
            }
            n.end = true;
        }
        return "\"\\\"\" " + notStringsNode(root) + " \"\\\"\" space";
    }

    private String notStringsNode(Node n) {
        List<String> alts = new ArrayList<>();
        StringBuilder excluded = new StringBuilder();
        for (int cp : n.children.keySet()) {
            excluded.append(GbnfText.escape(cp, false));
        }
        alts.add("( [^\"\\\\\\x7F\\x00-\\x1F" + excluded + "] | [\\\\] ([\"\\\\bfnrt] | \"u\" [0-9a-fA-F]{4}) ) char*");
        for (Map.Entry<Integer, Node> e : n.children.entrySet()) {
            alts.add(GbnfText.literal(new String(Character.toChars(e.getKey()))) + " " + notStringsNode(e.getValue()));
        }
        if (!n.end) {
            alts.add("\"\"");
        }
        return "(" + String.join(" | ", alts) + ")";
    }

    private static final class Node {
        final Map<Integer, Node> children = new TreeMap<>();
        boolean end;
    }

    private String array(JsonNode schema, String name, String path) {
        JsonNode items = schema.has("prefixItems") ? schema.get("prefixItems") : schema.get("items");
        if (items != null && items.isArray()) {
            List<String> parts = new ArrayList<>();
            for (int i = 0; i < items.size(); i++) {
                parts.add(visit(items.get(i), name + "-tuple-" + i, path + "/prefixItems/" + i));
            }
            return addRule(name, "\"[\" space " + String.join(" \",\" space ", parts) + " \"]\" space");
        }
        String item = items == null ? addPrimitive("value") : visit(items, name + "-item", path + "/items");
        int min = intOf(schema, "minItems", 0, path);
        int max = intOf(schema, "maxItems", -1, path);
        if (max >= 0 && max < min) {
            throw error(path, "maxItems " + max + " is below minItems " + min);
        }
        return addRule(name, "\"[\" space " + repetition(item, min, max, "\",\" space") + " \"]\" space");
    }

    private static String repetition(String item, int min, int max, String separator) {
        if (max == 0) {
            return "";
        }
        if (min == 0 && max == 1) {
            return item + "?";
        }
        String rest = "( " + separator + " " + item + " )" + "{" + Math.max(min - 1, 0) + ","
                + (max < 0 ? "" : String.valueOf(max - 1)) + "}";
        String seq = item + " " + rest;
        return min == 0 ? "( " + seq + " )?" : seq;
    }

    private static boolean hasBounds(JsonNode s) {
        return s.has("minimum") || s.has("maximum") || s.has("exclusiveMinimum") || s.has("exclusiveMaximum");
    }

    private String integerRange(JsonNode s, String name, String path) {
        BigInteger lo = null;
        BigInteger hi = null;
        if (s.has("minimum")) {
            lo = number(s, "minimum", path).setScale(0, RoundingMode.CEILING).toBigIntegerExact();
        }
        if (s.has("exclusiveMinimum") && s.get("exclusiveMinimum").isNumber()) {
            BigInteger x = number(s, "exclusiveMinimum", path).setScale(0, RoundingMode.FLOOR).toBigIntegerExact()
                    .add(BigInteger.ONE);
            lo = lo == null ? x : lo.max(x);
        }
        if (s.has("maximum")) {
            hi = number(s, "maximum", path).setScale(0, RoundingMode.FLOOR).toBigIntegerExact();
        }
        if (s.has("exclusiveMaximum") && s.get("exclusiveMaximum").isNumber()) {
            BigInteger x = number(s, "exclusiveMaximum", path).setScale(0, RoundingMode.CEILING).toBigIntegerExact()
                    .subtract(BigInteger.ONE);
            hi = hi == null ? x : hi.min(x);
        }
        BigInteger limit = BigInteger.TEN.pow(16).subtract(BigInteger.ONE);
        for (BigInteger b : new BigInteger[] {lo, hi}) {
            if (b != null && b.abs().compareTo(limit) > 0) {
                throw error(path, "integer bound " + b + " has more than 16 digits");
            }
        }
        if (lo != null && hi != null && lo.compareTo(hi) > 0) {
            throw error(path, "no integer lies between the minimum and the maximum");
        }
        addPrimitive("integral-part");
        return addRule(name, "(" + IntegerRanges.gbnf(lo == null ? null : lo.longValue(),
                hi == null ? null : hi.longValue()) + ") space");
    }

    // Only bounds that are non-negative integers can be written as a grammar over decimal text.
    private String numberRange(JsonNode s, String name, String path) {
        if (s.has("exclusiveMinimum") || s.has("exclusiveMaximum")) {
            throw error(path, "exclusiveMinimum/exclusiveMaximum on type number cannot be enforced by a grammar;"
                    + " use type integer or inclusive bounds");
        }
        BigDecimal min = s.has("minimum") ? number(s, "minimum", path) : null;
        BigDecimal max = s.has("maximum") ? number(s, "maximum", path) : null;
        for (BigDecimal b : new BigDecimal[] {min, max}) {
            if (b != null && (b.signum() < 0 || b.stripTrailingZeros().scale() > 0
                    || b.compareTo(BigDecimal.TEN.pow(15)) >= 0)) {
                throw error(path, "number bound " + b.toPlainString() + " cannot be enforced by a grammar"
                        + " (supported: whole numbers from 0 up to 10^15)");
            }
        }
        long lo = min == null ? 0 : min.longValueExact();
        addPrimitive("decimal-part");
        addPrimitive("integral-part");
        if (max == null) {
            // x >= lo: an integral part >= lo with any fraction
            return addRule(name, "(" + IntegerRanges.gbnf(lo, null) + ") (\".\" decimal-part)? space");
        }
        long hi = max.longValueExact();
        if (hi < lo) {
            throw error(path, "no number lies between the minimum and the maximum");
        }
        // integral part in [lo, hi-1] with any fraction, or exactly hi with an all-zero fraction
        String top = GbnfText.literal(Long.toString(hi)) + " (\".\" \"0\"{1,16})?";
        if (hi == lo) {
            return addRule(name, top + " space");
        }
        return addRule(name, "((" + IntegerRanges.gbnf(lo, hi - 1) + ") (\".\" decimal-part)? | " + top + ") space");
    }

    private BigDecimal number(JsonNode s, String key, String path) {
        JsonNode v = s.get(key);
        if (v == null || !v.isNumber()) {
            throw error(path + "/" + key, "must be a number");
        }
        return v.decimalValue();
    }

    private int intOf(JsonNode s, String key, int fallback, String path) {
        JsonNode v = s.get(key);
        if (v == null) {
            return fallback;
        }
        if (!v.canConvertToInt() || !v.isIntegralNumber() || v.intValue() < 0) {
            throw error(path + "/" + key, "must be a non-negative integer");
        }
        if (v.intValue() > 100_000) {
            throw error(path + "/" + key, "is too large for a grammar (at most 100000)");
        }
        return v.intValue();
    }

    private static List<String> requiredOf(JsonNode schema) {
        List<String> out = new ArrayList<>();
        JsonNode r = schema.get("required");
        if (r != null && r.isArray()) {
            r.forEach(n -> out.add(n.asText()));
        }
        return out;
    }

    private static boolean isTrue(JsonNode n) {
        return n.isBoolean() && n.booleanValue();
    }

    private String primitiveOrAlias(String primitive, String name) {
        addPrimitive(primitive);
        return name.equals("root") ? addRule("root", primitive) : primitive;
    }

    private String addPrimitive(String name) {
        if (!rules.containsKey(name)) {
            rules.put(name, PRIMITIVES.get(name));
            for (String dep : DEPS.get(name)) {
                addPrimitive(dep);
            }
        }
        return name;
    }

    private String reserve(String base) {
        String n = sanitize(base);
        String candidate = n;
        for (int i = 0; rules.containsKey(candidate) || reserved.contains(candidate)
                || PRIMITIVES.containsKey(candidate); i++) {
            candidate = n + i;
        }
        reserved.add(candidate);
        return candidate;
    }

    private String addRule(String name, String body) {
        String n = sanitize(name);
        if (reserved.remove(n)) {
            rules.put(n, body);
            return n;
        }
        String candidate = n;
        for (int i = 0; ; i++) {
            String existing = rules.get(candidate);
            if (existing == null && !reserved.contains(candidate) && !PRIMITIVES.containsKey(candidate)) {
                rules.put(candidate, body);
                return candidate;
            }
            if (body.equals(existing)) {
                return candidate;
            }
            candidate = n + i;
        }
    }

    private static String sanitize(String name) {
        String s = name.replaceAll("[^a-zA-Z0-9-]+", "-");
        return s.isEmpty() ? "r" : s;
    }

    private static String literal(JsonNode value) {
        return GbnfText.literal(jsonText(value));
    }

    private static String jsonText(JsonNode value) {
        try {
            return JSON.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String escapePointer(String s) {
        return s.replace("~", "~0").replace("/", "~1");
    }

    private static GrammarException error(String path, String problem) {
        return new GrammarException("invalid JSON schema at '" + (path.isEmpty() ? "/" : path) + "': " + problem,
                "fix the schema, or drop the keyword and validate that part of the output yourself");
    }
}
