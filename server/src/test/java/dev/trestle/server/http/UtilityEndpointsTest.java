package dev.trestle.server.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** llama-server's non-completion endpoints on a real server. */
class UtilityEndpointsTest {
    static TestServer server;

    @BeforeAll
    static void start() throws Exception {
        server = TestServer.start("-c", "512", "--metrics", "--embeddings");
    }

    @AfterAll
    static void stop() throws Exception {
        server.close();
    }

    @Test
    void tokenizeAndDetokenizeRoundTrip() throws Exception {
        JsonNode t = TestServer.json(server.post("/tokenize", "{\"content\":\"Once upon a time\",\"add_special\":true}"));
        assertEquals("[1,403,407,261,378]", t.get("tokens").toString());
        JsonNode pieces = TestServer.json(server.post("/tokenize", "{\"content\":\"Once upon\",\"with_pieces\":true}"));
        assertEquals(403, pieces.at("/tokens/0/id").asInt());
        assertEquals(" Once", pieces.at("/tokens/0/piece").asText());
        JsonNode d = TestServer.json(server.post("/detokenize", "{\"tokens\":[403,407,261,378]}"));
        assertEquals("Once upon a time", d.get("content").asText().strip());
    }

    @Test
    void applyTemplateRendersTheChatPrompt() throws Exception {
        JsonNode r = TestServer.json(server.post("/apply-template",
                "{\"messages\":[{\"role\":\"system\",\"content\":\"Be brief.\"},{\"role\":\"user\",\"content\":\"Hi\"}]}"));
        assertEquals("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n",
                r.get("prompt").asText());
    }

    @Test
    void propsModelsAndHealth() throws Exception {
        JsonNode props = TestServer.json(server.get("/props"));
        assertEquals(1, props.get("total_slots").asInt());
        assertEquals(512, props.at("/default_generation_settings/n_ctx").asInt());
        assertEquals("<s>", props.get("bos_token").asText());
        JsonNode models = TestServer.json(server.get("/v1/models"));
        assertEquals("stories260K.gguf", models.at("/data/0/id").asText());
        assertEquals(512, models.at("/data/0/meta/n_vocab").asInt());
        assertEquals("{\"status\":\"ok\"}", server.get("/health").body());
    }

    @Test
    void embeddingsArePooledAndNormalized() throws Exception {
        JsonNode r = TestServer.json(server.post("/v1/embeddings", "{\"input\":[\"Once upon a time\",\"The cat sat\"]}"));
        assertEquals(2, r.get("data").size());
        double[] norms = new double[2];
        for (int i = 0; i < 2; i++) {
            JsonNode v = r.at("/data/" + i + "/embedding");
            assertEquals(64, v.size()); // n_embd of stories260K
            for (JsonNode x : v) {
                norms[i] += x.asDouble() * x.asDouble();
            }
            assertEquals(1.0, Math.sqrt(norms[i]), 1e-4);
        }
        assertTrue(!r.at("/data/0/embedding").equals(r.at("/data/1/embedding")), "different inputs, different vectors");
        int expected = 0;
        for (String text : new String[] {"Once upon a time", "The cat sat"}) {
            expected += TestServer.json(server.post("/tokenize", "{\"content\":\"" + text + "\",\"add_special\":true}"))
                    .get("tokens").size();
        }
        assertEquals(expected, r.at("/usage/prompt_tokens").asInt());
    }

    @Test
    void greedyLogprobsNameTheTopTokenFirst() throws Exception {
        JsonNode r = TestServer.json(server.post("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":"
                + "\"Hi\"}],\"max_tokens\":4,\"temperature\":0,\"logprobs\":true,\"top_logprobs\":3}"));
        JsonNode content = r.at("/choices/0/logprobs/content");
        assertEquals(4, content.size(), r.toString());
        for (JsonNode step : content) {
            JsonNode top = step.get("top_logprobs");
            assertEquals(3, top.size());
            // greedy: the chosen token is the most probable one, with the same log-probability
            assertEquals(top.get(0).get("token").asText(), step.get("token").asText());
            assertEquals(top.get(0).get("logprob").asDouble(), step.get("logprob").asDouble(), 1e-6);
            double mass = 0;
            for (int i = 0; i < 3; i++) {
                double lp = top.get(i).get("logprob").asDouble();
                assertTrue(lp <= 0, step.toString());
                assertTrue(i == 0 || lp <= top.get(i - 1).get("logprob").asDouble(), "sorted: " + step);
                mass += Math.exp(lp);
            }
            assertTrue(mass <= 1 + 1e-6, step.toString());
        }
    }

    @Test
    void metricsCountTokens() throws Exception {
        HttpResponse<String> c = server.post("/completion", "{\"prompt\":\"Once upon a time\",\"n_predict\":5,\"temperature\":0}");
        JsonNode done = TestServer.json(c);
        assertEquals(5, done.get("tokens_predicted").asInt());
        assertTrue(done.get("stopped_limit").asBoolean());
        String m = server.get("/metrics").body();
        assertTrue(m.contains("# TYPE llamacpp:tokens_predicted_total counter"), m);
        long predicted = Long.parseLong(m.lines().filter(l -> l.startsWith("llamacpp:tokens_predicted_total "))
                .findFirst().orElseThrow().split(" ")[1]);
        assertTrue(predicted >= 5, m);
        assertTrue(m.contains("llamacpp:kv_cache_usage_ratio"), m);
    }
}
