package dev.trestle.engine.grammar;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import org.junit.jupiter.api.Test;

class JsonSchemaToGbnfTest {
    static final ObjectMapper JSON = new ObjectMapper();

    /** Checks grammar acceptance against the expectation, and that the oracle validator agrees on valid docs. */
    private static void check(String schema, List<String> valid, List<String> invalid) throws Exception {
        Grammar g = JsonSchemaToGbnf.toGrammar(schema);
        JsonNode s = JSON.readTree(schema);
        for (String doc : valid) {
            assertTrue(g.matches(doc), () -> "grammar should accept " + doc + "\n" + g.toGbnf());
            assertEquals(List.of(), SchemaCheck.validate(s, JSON.readTree(doc)), doc);
        }
        for (String doc : invalid) {
            assertFalse(g.matches(doc), () -> "grammar should reject " + doc + "\n" + g.toGbnf());
        }
    }

    @Test
    void primitives() throws Exception {
        check("{\"type\": \"string\"}", List.of("\"\"", "\"a b\\n\\u00e9 é\"", "\"x\" "),
                List.of("a", "\"", "\"\\q\"", "\"tab\there\"", "1"));
        check("{\"type\": \"integer\"}", List.of("0", "-17", "1234567890123456"),
                List.of("01", "1.5", "-", "+1", "12345678901234567", "\"1\""));
        check("{\"type\": \"number\"}", List.of("0", "-0.5", "3.25e10", "1E-3"),
                List.of(".5", "1.", "1e", "--1"));
        check("{\"type\": \"boolean\"}", List.of("true", "false"), List.of("True", "1", "null"));
        check("{\"type\": \"null\"}", List.of("null"), List.of("nil", "\"null\""));
        check("{}", List.of("1", "\"s\"", "[1, {\"a\": null}]", "{\"k\": [true]}"), List.of("", "[1,]", "{a: 1}"));
        check("{\"type\": [\"string\", \"null\"]}", List.of("\"x\"", "null"), List.of("1"));
    }

    @Test
    void jsonObjectMode() {
        Grammar g = GbnfParser.parse(JsonSchemaToGbnf.jsonObject());
        assertTrue(g.matches("{}"));
        assertTrue(g.matches("{\"a\": {\"b\": [1, 2.5, \"c\", null, true]}}"));
        assertFalse(g.matches("[1]"));
        assertFalse(g.matches("\"x\""));
        assertTrue(JsonSchemaToGbnf.jsonObject().startsWith("root ::= object"), JsonSchemaToGbnf.jsonObject());
    }

    @Test
    void objectsWithRequiredAndOptionalProperties() throws Exception {
        String schema = """
                {"type": "object",
                 "properties": {"name": {"type": "string"}, "age": {"type": "integer"},
                                "email": {"type": "string"}, "tags": {"type": "array", "items": {"type": "string"}}},
                 "required": ["name", "age"]}""";
        check(schema, List.of(
                "{\"name\": \"Ann\", \"age\": 3}",
                "{\"name\":\"Ann\",\"age\":3,\"email\":\"a@b\"}",
                "{\"name\": \"Ann\", \"age\": 3, \"tags\": []}",
                "{\"name\": \"Ann\", \"age\": 3, \"email\": \"x\", \"tags\": [\"a\", \"b\"]}"),
                List.of("{\"name\": \"Ann\"}", // age missing
                        "{\"age\": 3, \"name\": \"Ann\"}", // required first, in order (llama.cpp's convention)
                        "{\"name\": \"Ann\", \"age\": 3, \"extra\": 1}", // no additionalProperties
                        "{\"name\": \"Ann\", \"age\": \"3\"}",
                        "{\"name\": \"Ann\", \"age\": 3, \"email\": \"x\", \"email\": \"y\"}"));
        String gbnf = JsonSchemaToGbnf.convert(schema);
        assertTrue(gbnf.contains("root-name-kv ::="), gbnf);
        assertTrue(gbnf.contains("space ::= "), gbnf);
    }

    @Test
    void additionalProperties() throws Exception {
        check("{\"type\": \"object\", \"additionalProperties\": {\"type\": \"integer\"}}",
                List.of("{}", "{\"a\": 1, \"b\": -2}"), List.of("{\"a\": \"x\"}"));
        check("""
                {"type": "object", "properties": {"id": {"type": "integer"}}, "required": ["id"],
                 "additionalProperties": {"type": "boolean"}}""",
                List.of("{\"id\": 1}", "{\"id\": 1, \"ok\": true, \"i\": false, \"idx\": true}"),
                List.of("{\"id\": 1, \"id\": true}", "{\"id\": 1, \"ok\": 1}", "{\"ok\": true}"));
        check("{\"type\": \"object\", \"properties\": {\"a\": {\"const\": 1}}, \"additionalProperties\": true}",
                List.of("{}", "{\"a\": 1, \"z\": [null]}"), List.of("{\"a\": 2}"));
        check("{\"type\": \"object\", \"additionalProperties\": false}", List.of("{}"), List.of("{\"a\": 1}"));
    }

    @Test
    void enumsAndConst() throws Exception {
        check("{\"enum\": [\"red\", \"green\", 3, null, {\"a\": [1]}]}",
                List.of("\"red\"", "\"green\"", "3", "null", "{\"a\":[1]}"),
                List.of("\"blue\"", "\"Red\"", "4", "{\"a\": [1]}"));
        check("{\"const\": \"fixed\\\"quote\"}", List.of("\"fixed\\\"quote\""), List.of("\"fixed\""));
    }

    @Test
    void arrays() throws Exception {
        check("{\"type\": \"array\", \"items\": {\"type\": \"integer\"}, \"minItems\": 2, \"maxItems\": 3}",
                List.of("[1, 2]", "[1,2,3]"), List.of("[]", "[1]", "[1, 2, 3, 4]", "[1, \"2\"]"));
        check("{\"type\": \"array\", \"items\": {\"type\": \"boolean\"}, \"maxItems\": 1}",
                List.of("[]", "[true]"), List.of("[true, false]"));
        check("{\"type\": \"array\", \"items\": {\"type\": \"null\"}, \"minItems\": 1}",
                List.of("[null]", "[null, null, null, null]"), List.of("[]"));
        check("{\"type\": \"array\", \"prefixItems\": [{\"type\": \"string\"}, {\"type\": \"integer\"}]}",
                List.of("[\"a\", 1]"), List.of("[1, \"a\"]", "[\"a\"]", "[\"a\", 1, 2]"));
        check("{\"type\": \"array\"}", List.of("[]", "[1, \"x\", [null]]"), List.of("[1,]"));
    }

    @Test
    void stringFormatsAndLengths() throws Exception {
        check("{\"type\": \"string\", \"format\": \"date\"}", List.of("\"2024-02-29\"", "\"1999-12-31\""),
                List.of("\"2024-13-01\"", "\"2024-00-10\"", "\"2024-1-1\"", "\"2024-01-32\""));
        check("{\"type\": \"string\", \"format\": \"time\"}", List.of("\"23:59:59Z\"", "\"08:00:00.123+05:30\""),
                List.of("\"24:00:00Z\"", "\"12:60:00Z\"", "\"12:00:00\""));
        check("{\"type\": \"string\", \"format\": \"date-time\"}", List.of("\"2024-05-06T07:08:09-01:00\""),
                List.of("\"2024-05-06 07:08:09Z\""));
        check("{\"type\": \"string\", \"format\": \"uuid\"}", List.of("\"123e4567-e89b-12d3-a456-426614174000\""),
                List.of("\"123e4567e89b12d3a456426614174000\"", "\"123e4567-e89b-12d3-a456-42661417400g\""));
        check("{\"type\": \"string\", \"format\": \"email\"}", List.of("\"anything\""), List.of("1"));
        check("{\"type\": \"string\", \"minLength\": 2, \"maxLength\": 3}", List.of("\"ab\"", "\"a\\nb\"", "\"éé\""),
                List.of("\"a\"", "\"abcd\""));
    }

    @Test
    void patterns() throws Exception {
        check("{\"type\": \"string\", \"pattern\": \"^[A-Z]{2}-\\\\d{3,4}$\"}",
                List.of("\"AB-123\"", "\"ZZ-0000\""), List.of("\"ab-123\"", "\"AB-12\"", "\"AB-12345\"", "\"AB123\""));
        check("{\"type\": \"string\", \"pattern\": \"^(cat|dog)s?( \\\\w+)*$\"}",
                List.of("\"cat\"", "\"dogs run_1 fast\""), List.of("\"cow\"", "\"cats  run\"", "\"cat!\""));
        // unanchored: the match may be anywhere in the string
        check("{\"type\": \"string\", \"pattern\": \"ab+c\"}",
                List.of("\"abc\"", "\"xxabbbcyy\"", "\"\\\"abc\\\"\""), List.of("\"ac\"", "\"a b c\""));
        // characters JSON must escape are produced escaped
        check("{\"type\": \"string\", \"pattern\": \"^[\\\"\\\\\\\\]\\\\n.$\"}",
                List.of("\"\\\"\\nx\"", "\"\\\\\\n\\\"\""), List.of("\"\\\"\\n\\n\"", "\"a\\nx\""));
        check("{\"type\": \"string\", \"pattern\": \"^[^a-z\\\\s]{1,3}$\"}",
                List.of("\"A\"", "\"1.é\""), List.of("\"a\"", "\"A B\"", "\"ABCD\""));
    }

    @Test
    void integerRanges() {
        long[][] ranges = {{-123, 4567}, {0, 0}, {5, 5}, {-9, -1}, {10, 99}, {1, 1000}, {-1000, -10}, {19, 731},
            {7, Long.MAX_VALUE}, {Long.MIN_VALUE, -5}, {-20, Long.MAX_VALUE}, {Long.MIN_VALUE, 30}};
        for (long[] r : ranges) {
            StringBuilder schema = new StringBuilder("{\"type\": \"integer\"");
            if (r[0] != Long.MIN_VALUE) {
                schema.append(", \"minimum\": ").append(r[0]);
            }
            if (r[1] != Long.MAX_VALUE) {
                schema.append(", \"maximum\": ").append(r[1]);
            }
            Grammar g = JsonSchemaToGbnf.toGrammar(schema.append('}').toString());
            GrammarMatcher m = new GrammarMatcher(g); // reused: its memoized automaton makes this loop cheap
            for (long v = -1500; v <= 5000; v++) {
                boolean in = v >= r[0] && v <= r[1];
                m.reset();
                assertEquals(in, m.acceptString(Long.toString(v)) && m.canEnd(), schema + " value " + v);
            }
            assertFalse(g.matches("-0"));
            assertFalse(g.matches("007"));
        }
        Grammar big = JsonSchemaToGbnf.toGrammar("{\"type\": \"integer\", \"minimum\": -1234567890123,"
                + " \"maximum\": 9999999999999998}");
        for (String v : new String[] {"-1234567890123", "-999999999999", "0", "9999999999999998", "123456789012345"}) {
            assertTrue(big.matches(v), v);
        }
        for (String v : new String[] {"-1234567890124", "-9999999999999", "9999999999999999", "10000000000000000"}) {
            assertFalse(big.matches(v), v);
        }
        assertThrows(GrammarException.class,
                () -> JsonSchemaToGbnf.convert("{\"type\": \"integer\", \"maximum\": 1e17}"));
        Grammar ex = JsonSchemaToGbnf.toGrammar("{\"type\": \"integer\", \"exclusiveMinimum\": 0, \"exclusiveMaximum\": 10}");
        for (int v = -3; v < 14; v++) {
            assertEquals(v > 0 && v < 10, ex.matches(Integer.toString(v)), "exclusive " + v);
        }
    }

    @Test
    void numberRanges() throws Exception {
        check("{\"type\": \"number\", \"minimum\": 0, \"maximum\": 100}",
                List.of("0", "0.5", "99.999", "100", "100.000", "42"),
                List.of("-1", "100.5", "101", "-0.5", "1e3"));
        check("{\"type\": \"number\", \"minimum\": 1}", List.of("1", "1.5", "12345.25"), List.of("0.5", "-3"));
        assertThrows(GrammarException.class,
                () -> JsonSchemaToGbnf.convert("{\"type\": \"number\", \"minimum\": -1.5}"));
    }

    @Test
    void unionsIntersectionsAndReferences() throws Exception {
        check("{\"anyOf\": [{\"type\": \"integer\"}, {\"type\": \"string\", \"maxLength\": 1}]}",
                List.of("1", "\"a\""), List.of("\"ab\"", "true"));
        check("{\"oneOf\": [{\"type\": \"boolean\"}, {\"type\": \"null\"}]}", List.of("true", "null"), List.of("0"));
        check("""
                {"allOf": [{"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]},
                           {"$ref": "#/$defs/b"}],
                 "$defs": {"b": {"type": "object", "properties": {"b": {"type": "boolean"}}, "required": ["b"]}}}""",
                List.of("{\"a\": 1, \"b\": true}"), List.of("{\"a\": 1}", "{\"b\": true}"));
        String tree = """
                {"$ref": "#/$defs/node",
                 "$defs": {"node": {"type": "object",
                   "properties": {"value": {"type": "integer"},
                                  "children": {"type": "array", "items": {"$ref": "#/$defs/node"}}},
                   "required": ["value"]}}}""";
        check(tree, List.of("{\"value\": 1}", "{\"value\": 1, \"children\": [{\"value\": 2, \"children\": [{\"value\": 3}]}]}"),
                List.of("{\"value\": 1, \"children\": [{}]}"));
        assertTrue(JsonSchemaToGbnf.convert(tree).contains("node ::="));
        check("{\"definitions\": {\"n\": {\"type\": \"integer\", \"minimum\": 1, \"maximum\": 3}},"
                + " \"type\": \"array\", \"items\": {\"$ref\": \"#/definitions/n\"}}", List.of("[1, 3]"), List.of("[0]"));
    }

    @Test
    void invalidSchemasNameTheProblem() {
        String[][] cases = {
            {"{\"type\": \"string\", \"pattern\": \"^(?=a)b$\"}", "unsupported regular expression: lookaround"},
            {"{\"type\": \"string\", \"pattern\": \"^(a)\\\\1$\"}", "backreferences"},
            {"{\"type\": \"string\", \"pattern\": \"^a\", \"maxLength\": 3}", "pattern together with"},
            {"{\"$ref\": \"#/$defs/missing\"}", "does not resolve"},
            {"{\"$ref\": \"https://example.com/s.json\"}", "local references"},
            {"{\"type\": \"strng\"}", "unknown type 'strng'"},
            {"{\"type\": \"array\", \"minItems\": 3, \"maxItems\": 1}", "below minItems"},
            {"{\"type\": \"integer\", \"minimum\": 5, \"maximum\": 1}", "no integer"},
            {"{\"enum\": []}", "non-empty"},
            {"{\"properties\": {\"a\": {\"not\": {}}}}", "/properties/a"},
            {"{\"type\": \"object\"", "not valid JSON"},
            {"false", "admits no value"},
            {"{\"type\": \"object\", \"anyOf\": [{\"type\": \"object\"}]}", "'type' beside 'anyOf'"},
            {"{\"$ref\": \"#/$defs/a\", \"maxLength\": 2, \"$defs\": {\"a\": {}}}", "'maxLength' beside '$ref'"},
            {"{\"properties\": {\"a\": {}}, \"required\": [\"b\"]}", "'b' is not declared"},
        };
        for (String[] c : cases) {
            GrammarException e = assertThrows(GrammarException.class, () -> JsonSchemaToGbnf.convert(c[0]), c[0]);
            assertTrue(e.getMessage().contains(c[1]), e.getMessage());
            assertTrue(e.fix() != null);
        }
    }
}
