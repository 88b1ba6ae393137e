package dev.trestle.server.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `trestle serve --demo`: a fresh install checks its whole path with no network and no model file. */
class DemoServeTest {
    @TempDir
    Path cache;

    @Test
    void demoServerAnswersChatCompletions() throws Exception {
        try (TestServer server = TestServer.startWith(List.of("--demo", "--cache-dir", cache.toString()), "-c", "512")) {
            assertTrue(server.log().contains("nonsense"), "the startup log must say the demo output is nonsense:\n" + server.log());
            HttpResponse<String> r = server.post("/v1/chat/completions",
                    "{\"messages\":[{\"role\":\"user\",\"content\":\"Hello!\"}],\"max_tokens\":8,\"seed\":1}");
            assertEquals(200, r.statusCode(), r.body());
            JsonNode c = TestServer.json(r);
            assertEquals("assistant", c.at("/choices/0/message/role").asText());
            assertEquals(8, c.at("/usage/completion_tokens").asInt());
            assertTrue(c.at("/usage/prompt_tokens").asInt() > 3, r.body());
        }
    }
}
