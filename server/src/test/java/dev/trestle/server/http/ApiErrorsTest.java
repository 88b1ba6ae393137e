package dev.trestle.server.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Every failure a client can cause gets the right status and an OpenAI error object; the server lives on. */
class ApiErrorsTest {
    static final String KEY = "sk-test-0123456789";
    static TestServer server;

    @BeforeAll
    static void start() throws Exception {
        server = TestServer.start("--api-key", KEY, "-c", "256", "-np", "2");
    }

    @AfterAll
    static void stop() throws Exception {
        server.close();
    }

    private static final String[] AUTH = {"Authorization", "Bearer " + KEY};

    private static void assertError(HttpResponse<String> r, int status, String type, String messagePart) throws Exception {
        assertEquals(status, r.statusCode(), r.body());
        JsonNode e = TestServer.json(r).get("error");
        assertEquals(status, e.get("code").asInt(), r.body());
        assertEquals(type, e.get("type").asText(), r.body());
        assertTrue(e.get("message").asText().contains(messagePart), "message should mention '" + messagePart + "': " + r.body());
    }

    @Test
    void healthNeedsNoKeyButEverythingElseDoes() throws Exception {
        assertEquals(200, server.get("/health").statusCode());
        assertError(server.get("/v1/models"), 401, "authentication_error", "API Key");
        assertError(server.get("/v1/models", "Authorization", "Bearer wrong"), 401, "authentication_error", "API Key");
        assertError(server.post("/v1/completions", "{\"prompt\":\"hi\"}"), 401, "authentication_error", "API Key");
        assertEquals(200, server.get("/v1/models", AUTH).statusCode());
    }

    @Test
    void malformedJsonIs400() throws Exception {
        assertError(server.post("/v1/chat/completions", "{\"messages\": [", AUTH), 400, "invalid_request_error", "invalid JSON");
        assertError(server.post("/v1/chat/completions", "[1,2]", AUTH), 400, "invalid_request_error", "JSON object");
        assertError(server.post("/v1/completions", "", AUTH), 400, "invalid_request_error", "empty");
    }

    @Test
    void wrongFieldTypesName400TheField() throws Exception {
        assertError(server.post("/v1/completions", "{\"prompt\":\"hi\",\"max_tokens\":\"ten\"}", AUTH), 400,
                "invalid_request_error", "max_tokens");
        assertError(server.post("/v1/completions", "{\"prompt\":\"hi\",\"temperature\":-1}", AUTH), 400,
                "invalid_request_error", "temperature");
        assertError(server.post("/v1/chat/completions", "{\"messages\":\"hello\"}", AUTH), 400,
                "invalid_request_error", "messages");
        assertError(server.post("/v1/chat/completions", "{}", AUTH), 400, "invalid_request_error", "messages");
    }

    @Test
    void deeplyNestedJsonIsRefused() throws Exception {
        String deep = "{\"prompt\":\"hi\",\"x\":" + "[".repeat(500) + "]".repeat(500) + "}";
        assertError(server.post("/v1/completions", deep, AUTH), 400, "invalid_request_error", "invalid JSON");
    }

    @Test
    void oversizeBodyIs413() throws Exception {
        String big = "{\"prompt\":\"" + "a".repeat((int) (33L << 20)) + "\"}";
        assertError(server.post("/v1/completions", big, AUTH), 413, "invalid_request_error", "too large");
    }

    @Test
    void promptLongerThanTheSlotIs400() throws Exception {
        String ids = "[1" + ",403".repeat(300) + "]";
        assertError(server.post("/v1/completions", "{\"prompt\":" + ids + ",\"max_tokens\":1}", AUTH), 400,
                "exceed_context_size_error", "context");
    }

    @Test
    void unknownEndpointIs404() throws Exception {
        assertError(server.get("/v1/nothing-here", AUTH), 404, "not_found_error", "/v1/nothing-here");
    }

    @Test
    void moreThanOneChoiceIs400() throws Exception {
        assertError(server.post("/v1/chat/completions",
                "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"n\":2}", AUTH), 400, "invalid_request_error", "n = 1");
    }

    @Test
    void badGrammarsSchemasAndToolRequestsAre400NamingTheProblem() throws Exception {
        String msgs = "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]";
        assertError(server.post("/completion", "{\"prompt\":\"hi\",\"grammar\":\"root ::= foo\"}", AUTH), 400,
                "invalid_request_error", "foo");
        assertError(server.post("/v1/completions", "{\"prompt\":\"hi\",\"grammar\":\"root ::= (\\\"a\\\"\"}", AUTH), 400,
                "invalid_request_error", "line 1");
        assertError(server.post("/v1/chat/completions", "{" + msgs + ",\"response_format\":{\"type\":\"json_schema\","
                + "\"json_schema\":{\"name\":\"x\",\"schema\":{\"type\":\"object\",\"not\":{}}}}}", AUTH), 400,
                "invalid_request_error", "'not'");
        assertError(server.post("/v1/chat/completions", "{" + msgs + ",\"response_format\":{\"type\":\"json_schema\"}}",
                AUTH), 400, "invalid_request_error", "json_schema");
        assertError(server.post("/v1/chat/completions", "{" + msgs + ",\"response_format\":{\"type\":\"yaml\"}}", AUTH),
                400, "invalid_request_error", "yaml");
        assertError(server.post("/completion", "{\"prompt\":\"hi\",\"grammar\":\"root ::= \\\"a\\\"\","
                + "\"json_schema\":{}}", AUTH), 400, "invalid_request_error", "only one");
        String tools = "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\",\"parameters\":{}}}]";
        assertError(server.post("/v1/chat/completions", "{" + msgs + "," + tools + ",\"grammar\":\"root ::= \\\"a\\\"\"}",
                AUTH), 400, "invalid_request_error", "tools");
        assertError(server.post("/v1/chat/completions", "{" + msgs + "," + tools
                + ",\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":\"g\"}}}", AUTH), 400,
                "invalid_request_error", "'g'");
        assertError(server.post("/v1/chat/completions", "{" + msgs + ",\"tool_choice\":\"required\"}", AUTH), 400,
                "invalid_request_error", "tools");
        assertError(server.post("/v1/chat/completions", "{" + msgs + "," + tools + ",\"tool_choice\":\"always\"}", AUTH),
                400, "invalid_request_error", "tool_choice");
        assertError(server.post("/v1/chat/completions", "{" + msgs + ",\"reasoning_format\":\"xml\"}", AUTH), 400,
                "invalid_request_error", "reasoning format");
    }

    @Test
    void outOfRangeTokenIdsAre400() throws Exception {
        assertError(server.post("/v1/completions", "{\"prompt\":[1, 99999],\"max_tokens\":1}", AUTH), 400,
                "invalid_request_error", "99999");
    }

    @Test
    void theServerStillAnswersAfterBadRequests() throws Exception {
        server.post("/v1/completions", "{bad", AUTH);
        HttpResponse<String> r = server.post("/v1/completions",
                "{\"prompt\":\"Once upon a time\",\"max_tokens\":4,\"temperature\":0}", AUTH);
        assertEquals(200, r.statusCode(), r.body());
        assertEquals(", there was a", TestServer.json(r).at("/choices/0/text").asText());
    }
}
