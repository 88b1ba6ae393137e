package dev.trestle.server.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.trestle.testdata.SharedData;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Reasoning separation with the real Qwen 3 template on stories260K: a grammar makes the nonsense model think
 * in {@code <think>} tags, and the server moves the thoughts to {@code reasoning_content}; server flags
 * --reasoning-format, --reasoning-budget and --json-schema.
 */
class ReasoningTest {
    static final String THINKING = "root ::= \"<think>\" [a-z ]{1,30} \"</think>\" [a-z]{1,30}";
    static TestServer server;
    static TestServer flagged;

    @BeforeAll
    static void start() throws Exception {
        String template = SharedData.reference("templates").resolve("Qwen-Qwen3-0.6B.jinja").toString();
        server = TestServer.start("-c", "2048", "--chat-template-file", template);
        flagged = TestServer.start("-c", "2048", "--chat-template-file", template, "--reasoning-budget", "0",
                "--reasoning-format", "none", "--json-schema", "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"boolean\"}},"
                        + "\"required\":[\"a\"]}");
    }

    @AfterAll
    static void stop() throws Exception {
        server.close();
        flagged.close();
    }

    static String request(boolean stream, String extra) {
        return "{\"messages\":[{\"role\":\"user\",\"content\":\"Think first.\"}],\"temperature\":1.0,\"seed\":4,"
                + "\"max_tokens\":300,\"stream\":" + stream + extra + "}";
    }

    @Test
    void thoughtsGoToReasoningContentStreamedOrNot() throws Exception {
        String grammar = ",\"grammar\":" + TestServer.JSON.writeValueAsString(THINKING);
        HttpResponse<String> r = server.post("/v1/chat/completions", request(false, grammar));
        assertEquals(200, r.statusCode(), r.body());
        JsonNode msg = TestServer.json(r).at("/choices/0/message");
        String reasoning = msg.get("reasoning_content").asText();
        String content = msg.get("content").asText();
        assertTrue(reasoning.matches("[a-z ]+") && !reasoning.isBlank(), msg.toString());
        assertTrue(content.matches("[a-z]+"), msg.toString());

        HttpResponse<String> s = server.post("/v1/chat/completions", request(true, grammar));
        StringBuilder sr = new StringBuilder();
        StringBuilder sc = new StringBuilder();
        for (String line : s.body().split("\n")) {
            if (line.startsWith("data: {")) {
                JsonNode d = TestServer.JSON.readTree(line.substring(6)).at("/choices/0/delta");
                sr.append(d.path("reasoning_content").asText(""));
                sc.append(d.path("content").asText(""));
            }
        }
        assertEquals(reasoning, sr.toString());
        assertEquals(content, sc.toString());

        // reasoning_format none per request: the thoughts stay in content, tags and all
        JsonNode raw = TestServer.json(server.post("/v1/chat/completions",
                request(false, grammar + ",\"reasoning_format\":\"none\""))).at("/choices/0/message");
        assertTrue(raw.get("content").asText().startsWith("<think>" + reasoning), raw.toString());
        assertFalse(raw.has("reasoning_content"), raw.toString());
    }

    @Test
    void serverFlagsBudgetZeroAndADefaultJsonSchema() throws Exception {
        JsonNode a = TestServer.json(server.post("/v1/chat/completions", request(false, ",\"max_tokens\":1")));
        JsonNode b = TestServer.json(flagged.post("/v1/chat/completions", request(false, "")));
        // --reasoning-budget 0 renders with enable_thinking = false: Qwen 3 then writes an empty think block
        assertTrue(b.at("/usage/prompt_tokens").asInt() > a.at("/usage/prompt_tokens").asInt(), a + "\n" + b);
        // --json-schema constrains every request that sets no grammar of its own
        JsonNode doc = TestServer.JSON.readTree(b.at("/choices/0/message/content").asText());
        assertTrue(doc.get("a").isBoolean() && doc.size() == 1, b.toString());
    }
}
