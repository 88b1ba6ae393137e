package dev.trestle.server.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.StreamResponse;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import com.openai.models.completions.Completion;
import com.openai.models.completions.CompletionCreateParams;
import com.openai.models.models.Model;
import dev.trestle.server.cli.Main;
import dev.trestle.testdata.SharedData;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The official OpenAI Java SDK against a real server with stories260K: what Continue.dev and scripts see. */
class OpenAiSdkTest {
    static final String KEY = "sk-sdk-test";
    static TestServer server;
    static OpenAIClient client;
    /** llama.cpp's greedy continuation of "Once upon a time" (shared/models/reference-greedy.json). */
    static String reference;

    @BeforeAll
    static void start() throws Exception {
        server = TestServer.start("--api-key", KEY, "-c", "1024", "-np", "2", "--alias", "stories");
        client = OpenAIOkHttpClient.builder().baseUrl(server.base() + "/v1").apiKey(KEY).build();
        JsonNode runs = TestServer.JSON.readTree(SharedData.model("reference-greedy.json").toFile()).get("runs");
        for (JsonNode r : runs) {
            if (r.get("model").asText().equals("stories260K.gguf") && r.get("prompt").asText().equals("Once upon a time")) {
                reference = r.get("generated_text").asText();
            }
        }
        assertTrue(reference != null && reference.startsWith(", there was a little girl named Lily."), reference);
    }

    @AfterAll
    static void stop() throws Exception {
        client.close();
        server.close();
    }

    private static CompletionCreateParams.Builder completion(String prompt, long maxTokens) {
        return CompletionCreateParams.builder().model("ignored-by-the-server").prompt(prompt).maxTokens(maxTokens)
                .temperature(0.0);
    }

    @Test
    void completionIsLlamaCppsGreedyText() {
        Completion c = client.completions().create(completion("Once upon a time", 32).build());
        String text = c.choices().get(0).text();
        assertTrue(reference.startsWith(text), "got '" + text + "'");
        assertTrue(text.length() > 40, text);
        assertEquals("length", c.choices().get(0).finishReason().asString());
        var usage = c.usage().orElseThrow();
        assertEquals(5, usage.promptTokens()); // <s> ▁Once ▁upon ▁a ▁time
        assertEquals(32, usage.completionTokens());
        assertEquals(37, usage.totalTokens());
        assertEquals("stories", c.model());
    }

    @Test
    void streamedCompletionEqualsTheNonStreamedOne() {
        String whole = client.completions().create(completion("Once upon a time", 24).build()).choices().get(0).text();
        StringBuilder streamed = new StringBuilder();
        try (StreamResponse<Completion> s = client.completions().createStreaming(completion("Once upon a time", 24).build())) {
            s.stream().forEach(chunk -> chunk.choices().forEach(ch -> streamed.append(ch.text())));
        }
        assertEquals(whole, streamed.toString());
    }

    @Test
    void greedyOutputEqualsTrestleRun() {
        String viaServer = client.completions().create(completion("Once upon a time", 16).build()).choices().get(0).text();
        StringWriter out = new StringWriter();
        int code = Main.run(new String[] {"run", "-m", SharedData.model("stories260K.gguf").toString(),
                "-p", "Once upon a time", "-n", "16", "--temp", "0"}, new PrintWriter(out, true),
                new PrintWriter(new StringWriter(), true));
        assertEquals(0, code);
        assertEquals("Once upon a time" + viaServer, out.toString().stripTrailing());
    }

    @Test
    void stopSequenceEndsTheTextBeforeIt() {
        Completion c = client.completions().create(completion("Once upon a time", 40).stop("Lily").build());
        assertEquals(", there was a little girl named ", c.choices().get(0).text());
        assertEquals("stop", c.choices().get(0).finishReason().asString());
        StringBuilder streamed = new StringBuilder();
        try (StreamResponse<Completion> s = client.completions().createStreaming(
                completion("Once upon a time", 40).stop("Lily").build())) {
            s.stream().forEach(chunk -> chunk.choices().forEach(ch -> streamed.append(ch.text())));
        }
        assertEquals(", there was a little girl named ", streamed.toString());
    }

    @Test
    void chatCompletionStreamedAndNot() {
        ChatCompletionCreateParams params = ChatCompletionCreateParams.builder().model("x")
                .addUserMessage("Tell me a story.").maxCompletionTokens(20).temperature(0.0).build();
        ChatCompletion c = client.chat().completions().create(params);
        String content = c.choices().get(0).message().content().orElseThrow();
        assertFalse(content.isEmpty());
        var usage = c.usage().orElseThrow();
        assertEquals(20, usage.completionTokens());
        assertTrue(usage.promptTokens() > 5, "the chatml prompt has more than the message: " + usage.promptTokens());

        ChatCompletionCreateParams streaming = params.toBuilder()
                .streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build()).build();
        StringBuilder streamed = new StringBuilder();
        List<String> finishReasons = new ArrayList<>();
        AtomicReference<Long> streamedCompletionTokens = new AtomicReference<>();
        try (StreamResponse<ChatCompletionChunk> s = client.chat().completions().createStreaming(streaming)) {
            s.stream().forEach(chunk -> {
                for (ChatCompletionChunk.Choice ch : chunk.choices()) {
                    ch.delta().content().ifPresent(streamed::append);
                    ch.finishReason().ifPresent(f -> finishReasons.add(f.asString()));
                }
                chunk.usage().ifPresent(u -> streamedCompletionTokens.set(u.completionTokens()));
            });
        }
        assertEquals(content, streamed.toString());
        assertEquals(List.of("length"), finishReasons);
        assertEquals(20L, streamedCompletionTokens.get());
    }

    @Test
    void modelsListTheAlias() {
        List<Model> models = client.models().list().data();
        assertEquals(1, models.size());
        assertEquals("stories", models.get(0).id());
    }
}
