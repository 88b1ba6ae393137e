package dev.trestle.server.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Constrained decoding end to end with stories260K, a model that knows nothing of JSON: whatever it samples, a
 * json_schema request must come back as a document valid against the schema.
 */
class StructuredOutputTest {
    static TestServer server;

    static final String SCHEMA = """
            {"type": "object",
             "properties": {
               "name": {"type": "string", "maxLength": 12},
               "age": {"type": "integer", "minimum": 0, "maximum": 120},
               "mood": {"enum": ["happy", "sad", "sleepy"]},
               "tags": {"type": "array", "items": {"type": "string", "maxLength": 8}, "maxItems": 3},
               "ok": {"type": "boolean"}},
             "required": ["name", "age", "mood", "tags", "ok"]}""";

    @BeforeAll
    static void start() throws Exception {
        server = TestServer.start("-c", "4096", "-np", "1");
    }

    @AfterAll
    static void stop() throws Exception {
        server.close();
    }

    @Test
    void jsonSchemaOutputAlwaysValidatesOverFiftySeededSamplesAtTemperatureOne() throws Exception {
        JsonNode schema = TestServer.JSON.readTree(SCHEMA);
        List<String> outputs = new ArrayList<>();
        for (int seed = 1; seed <= 50; seed++) {
            ObjectNode body = TestServer.JSON.createObjectNode();
            body.putArray("messages").addObject().put("role", "user").put("content", "Describe a character as JSON.");
            ObjectNode rf = body.putObject("response_format").put("type", "json_schema");
            rf.putObject("json_schema").put("name", "character").set("schema", schema);
            body.put("temperature", 1.0).put("seed", seed).put("max_tokens", 2000);
            HttpResponse<String> r = server.post("/v1/chat/completions", body.toString());
            assertEquals(200, r.statusCode(), r.body());
            JsonNode choice = TestServer.json(r).at("/choices/0");
            String text = choice.at("/message/content").asText();
            assertEquals("stop", choice.get("finish_reason").asText(), "seed " + seed + " did not finish: " + text);
            assertValid(TestServer.JSON.readTree(text), "seed " + seed + ": " + text);
            outputs.add(text);
        }
        // the samples really are samples (temperature 1.0, different seeds), not one forced document
        assertTrue(Set.copyOf(outputs).size() > 40, "too few distinct documents: " + Set.copyOf(outputs).size());
    }

    @Test
    void lazyGrammarAppliesFromItsTriggerWord() throws Exception {
        // stories260K's greedy story: ", there was a little girl named Lily. ..."; from "girl" on, the grammar rules
        String free = TestServer.json(server.post("/completion",
                "{\"prompt\":\"Once upon a time\",\"temperature\":0,\"n_predict\":12}")).get("content").asText();
        assertTrue(free.startsWith(", there was a little girl named Lily."), free);
        HttpResponse<String> r = server.post("/completion", "{\"prompt\":\"Once upon a time\",\"temperature\":0,"
                + "\"n_predict\":40,\"grammar\":\"root ::= \\\"girl named \\\" [A-Z] [a-z]{1,3} \\\"!\\\"\","
                + "\"grammar_lazy\":true,\"grammar_triggers\":[{\"type\":1,\"value\":\"girl\"}]}");
        assertEquals(200, r.statusCode(), r.body());
        String content = TestServer.json(r).get("content").asText();
        assertTrue(content.matches(", there was a little girl named [A-Z][a-z]{1,3}!"), content);
        assertTrue(TestServer.json(r).get("stopped_eos").asBoolean(), r.body());
        // a trigger that never appears leaves the output free
        String untouched = TestServer.json(server.post("/completion", "{\"prompt\":\"Once upon a time\","
                + "\"temperature\":0,\"n_predict\":12,\"grammar\":\"root ::= \\\"x\\\"\",\"grammar_lazy\":true,"
                + "\"grammar_triggers\":[\"<tool_call>\"]}")).get("content").asText();
        assertEquals(free, untouched);
        assertEquals(400, server.post("/completion", "{\"prompt\":\"x\",\"grammar\":\"root ::= \\\"x\\\"\","
                + "\"grammar_lazy\":true}").statusCode());
    }

    /** The schema above, checked keyword by keyword. */
    static void assertValid(JsonNode doc, String what) {
        assertTrue(doc.isObject(), what);
        assertEquals(Set.of("name", "age", "mood", "tags", "ok"), iterableToSet(doc.fieldNames()), what);
        assertTrue(doc.get("name").isTextual() && doc.get("name").asText().codePointCount(0,
                doc.get("name").asText().length()) <= 12, what);
        assertTrue(doc.get("age").isIntegralNumber() && doc.get("age").asLong() >= 0 && doc.get("age").asLong() <= 120, what);
        assertTrue(Set.of("happy", "sad", "sleepy").contains(doc.get("mood").asText()) && doc.get("mood").isTextual(), what);
        JsonNode tags = doc.get("tags");
        assertTrue(tags.isArray() && tags.size() <= 3, what);
        for (JsonNode t : tags) {
            assertTrue(t.isTextual() && t.asText().codePointCount(0, t.asText().length()) <= 8, what);
        }
        assertTrue(doc.get("ok").isBoolean(), what);
    }

    private static Set<String> iterableToSet(java.util.Iterator<String> it) {
        Set<String> s = new java.util.HashSet<>();
        it.forEachRemaining(s::add);
        return s;
    }

    @Test
    void jsonObjectGrammarAndJsonSchemaFieldsOnEveryDialect() throws Exception {
        // OpenAI json_object on chat, streamed: the concatenated deltas are one JSON object
        String chat = "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"response_format\":{\"type\":\"json_object\","
                + "\"schema\":{\"type\":\"object\",\"properties\":{\"n\":{\"type\":\"integer\"}},\"required\":[\"n\"]}},"
                + "\"seed\":7,\"temperature\":1.0,\"max_tokens\":500,\"stream\":true}";
        HttpResponse<String> r = server.post("/v1/chat/completions", chat);
        assertEquals(200, r.statusCode(), r.body());
        StringBuilder text = new StringBuilder();
        for (String line : r.body().split("\n")) {
            if (line.startsWith("data: {")) {
                text.append(TestServer.JSON.readTree(line.substring(6)).at("/choices/0/delta/content").asText(""));
            }
        }
        assertTrue(TestServer.JSON.readTree(text.toString()).get("n").isIntegralNumber(), text.toString());

        // llama-server's grammar field on /completion
        r = server.post("/completion", "{\"prompt\":\"Once upon a time\",\"grammar\":\"root ::= (\\\"yes\\\" | \\\"no\\\") \\\".\\\"\","
                + "\"temperature\":1.0,\"seed\":3,\"n_predict\":50}");
        assertEquals(200, r.statusCode(), r.body());
        String content = TestServer.json(r).get("content").asText();
        assertTrue(content.equals("yes.") || content.equals("no."), content);
        assertTrue(TestServer.json(r).get("stopped_eos").asBoolean(), r.body());

        // and json_schema on the OpenAI text endpoint
        r = server.post("/v1/completions", "{\"prompt\":\"List:\",\"json_schema\":{\"type\":\"array\",\"items\":"
                + "{\"enum\":[1,2,3]},\"minItems\":2,\"maxItems\":2},\"temperature\":1.0,\"seed\":5,\"max_tokens\":200}");
        assertEquals(200, r.statusCode(), r.body());
        JsonNode arr = TestServer.JSON.readTree(TestServer.json(r).at("/choices/0/text").asText());
        assertTrue(arr.isArray() && arr.size() == 2 && Set.of(1, 2, 3).contains(arr.get(0).asInt()), arr.toString());
    }
}
