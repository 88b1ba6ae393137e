package dev.trestle.server.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Four slots serving four streaming clients at once, and a client that hangs up mid-stream. */
class ParallelServingTest {
    static final List<String> PROMPTS = List.of("Once upon a time", "The little dog", "Lily saw a", "One day, Tom");
    static TestServer server;

    @BeforeAll
    static void start() throws Exception {
        server = TestServer.start("-np", "4", "-c", "8192", "--metrics");
    }

    @AfterAll
    static void stop() throws Exception {
        server.close();
    }

    private static String body(String prompt, int maxTokens, boolean stream) {
        return "{\"prompt\":" + TestServer.JSON.valueToTree(prompt) + ",\"max_tokens\":" + maxTokens
                + ",\"temperature\":0,\"stream\":" + stream + ",\"ignore_eos\":true}";
    }

    /** Reads an SSE completion stream to the end and concatenates its text. */
    private static String streamText(HttpClient http, String prompt, int maxTokens) throws Exception {
        HttpRequest req = HttpRequest.newBuilder(URI.create(server.base() + "/v1/completions"))
                .timeout(Duration.ofMinutes(3)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body(prompt, maxTokens, true))).build();
        HttpResponse<InputStream> r = http.send(req, HttpResponse.BodyHandlers.ofInputStream());
        assertEquals(200, r.statusCode());
        StringBuilder text = new StringBuilder();
        boolean done = false;
        try (BufferedReader in = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = in.readLine()) != null) {
                if (line.equals("data: [DONE]")) {
                    done = true;
                } else if (line.startsWith("data: ")) {
                    JsonNode chunk = TestServer.JSON.readTree(line.substring(6));
                    text.append(chunk.at("/choices/0/text").asText());
                }
            }
        }
        assertTrue(done, "stream ended without [DONE]");
        return text.toString();
    }

    @Test
    void fourParallelStreamsEqualSingleClientOutput() throws Exception {
        List<String> alone = new ArrayList<>();
        for (String p : PROMPTS) {
            alone.add(TestServer.json(server.post("/v1/completions", body(p, 48, false))).at("/choices/0/text").asText());
        }
        HttpClient http = HttpClient.newHttpClient();
        try (ExecutorService pool = Executors.newFixedThreadPool(PROMPTS.size())) {
            for (int round = 0; round < 2; round++) {
                List<Future<String>> together = new ArrayList<>();
                for (String p : PROMPTS) {
                    together.add(pool.submit(() -> streamText(http, p, 48)));
                }
                for (int i = 0; i < PROMPTS.size(); i++) {
                    assertEquals(alone.get(i), together.get(i).get(), "prompt '" + PROMPTS.get(i) + "' in round " + round);
                }
            }
        }
    }

    @Test
    void aClientThatHangsUpFreesItsSlot() throws Exception {
        int maxTokens = 1900;
        byte[] json = body("Once upon a time", maxTokens, true).getBytes(StandardCharsets.UTF_8);
        try (Socket socket = new Socket("127.0.0.1", server.port())) {
            OutputStream out = socket.getOutputStream();
            out.write(("POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                    + "Content-Length: " + json.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(json);
            out.flush();
            BufferedReader reader = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
            int events = 0;
            String line;
            while (events < 3 && (line = reader.readLine()) != null) {
                if (line.startsWith("data: ")) {
                    events++;
                }
            }
            assertEquals(3, events, "the stream should have started");
            assertTrue(busySlots() >= 1, "the streaming request should be running");
        } // hang up mid-stream

        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (busySlots() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertEquals(0, busySlots(), "the slot should be free again");
        int decoded = 0;
        for (JsonNode s : TestServer.json(server.get("/slots"))) {
            decoded = Math.max(decoded, s.get("n_decoded").asInt());
        }
        assertTrue(decoded < maxTokens, "generation should have been cancelled, not run to " + maxTokens + ": " + decoded);
        String metrics = server.get("/metrics").body();
        assertTrue(metrics.contains("llamacpp:requests_processing 0"), metrics);
    }

    private static int busySlots() throws Exception {
        int busy = 0;
        for (JsonNode s : TestServer.json(server.get("/slots"))) {
            if (s.get("is_processing").asBoolean()) {
                busy++;
            }
        }
        return busy;
    }
}
