package dev.trestle.server.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.JsonValue;
import com.openai.core.http.StreamResponse;
import com.openai.helpers.ChatCompletionAccumulator;
import com.openai.models.FunctionDefinition;
import com.openai.models.FunctionParameters;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionMessageFunctionToolCall;
import com.openai.models.chat.completions.ChatCompletionMessageToolCall;
import com.openai.models.chat.completions.ChatCompletionNamedToolChoice;
import com.openai.models.chat.completions.ChatCompletionToolChoiceOption;
import com.openai.models.chat.completions.ChatCompletionToolMessageParam;
import dev.trestle.testdata.SharedData;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The OpenAI Java SDK's tools API against a real server: stories260K with the real Qwen 2.5 chat template
 * (Hermes-style calls). The model writes nonsense, so the forced-call grammar is what makes every call parse.
 */
class ToolCallingSdkTest {
    static TestServer server;
    static OpenAIClient client;

    @BeforeAll
    static void start() throws Exception {
        String template = SharedData.reference("templates").resolve("Qwen-Qwen2.5-7B-Instruct.jinja").toString();
        server = TestServer.start("-c", "4096", "-np", "2", "--chat-template-file", template);
        client = OpenAIOkHttpClient.builder().baseUrl(server.base() + "/v1").apiKey("none").build();
    }

    @AfterAll
    static void stop() throws Exception {
        client.close();
        server.close();
    }

    static FunctionDefinition weather() {
        return FunctionDefinition.builder().name("get_weather").description("Get the current weather in a given city")
                .parameters(FunctionParameters.builder()
                        .putAdditionalProperty("type", JsonValue.from("object"))
                        .putAdditionalProperty("properties", JsonValue.from(Map.of(
                                "city", Map.of("type", "string", "maxLength", 20),
                                "days", Map.of("type", "integer", "minimum", 1, "maximum", 7))))
                        .putAdditionalProperty("required", JsonValue.from(List.of("city", "days")))
                        .build())
                .build();
    }

    static FunctionDefinition time() {
        return FunctionDefinition.builder().name("get_time")
                .parameters(FunctionParameters.builder()
                        .putAdditionalProperty("type", JsonValue.from("object"))
                        .putAdditionalProperty("properties", JsonValue.from(Map.of(
                                "zone", Map.of("enum", List.of("UTC", "CET")))))
                        .putAdditionalProperty("required", JsonValue.from(List.of("zone")))
                        .build())
                .build();
    }

    static ChatCompletionCreateParams.Builder ask(long seed) {
        return ChatCompletionCreateParams.builder().model("any").addUserMessage("What is the weather in Paris?")
                .addFunctionTool(weather()).addFunctionTool(time())
                .temperature(1.0).seed(seed).maxCompletionTokens(1500);
    }

    static void assertValidCall(ChatCompletionMessageFunctionToolCall call) throws Exception {
        JsonNode args = TestServer.JSON.readTree(call.function().arguments());
        if (call.function().name().equals("get_weather")) {
            java.util.Set<String> keys = new java.util.HashSet<>();
            args.fieldNames().forEachRemaining(keys::add);
            assertEquals(Set.of("city", "days"), keys, args.toString());
            assertTrue(args.get("city").isTextual() && args.get("city").asText().length() <= 20, args.toString());
            assertTrue(args.get("days").isIntegralNumber() && args.get("days").asInt() >= 1 && args.get("days").asInt() <= 7,
                    args.toString());
            assertEquals(2, args.size(), args.toString());
        } else {
            assertEquals("get_time", call.function().name());
            assertTrue(Set.of("UTC", "CET").contains(args.get("zone").asText()), args.toString());
            assertEquals(1, args.size(), args.toString());
        }
        assertFalse(call.id().isEmpty());
    }

    @Test
    void requiredToolChoiceAlwaysYieldsAParsedCall() throws Exception {
        for (long seed = 1; seed <= 5; seed++) {
            ChatCompletion c = client.chat().completions().create(ask(seed)
                    .toolChoice(ChatCompletionToolChoiceOption.Auto.REQUIRED).parallelToolCalls(false).build());
            var choice = c.choices().get(0);
            assertEquals(ChatCompletion.Choice.FinishReason.TOOL_CALLS, choice.finishReason(), "seed " + seed);
            List<ChatCompletionMessageToolCall> calls = choice.message().toolCalls().orElseThrow();
            assertEquals(1, calls.size(), "seed " + seed);
            assertValidCall(calls.get(0).asFunction());
            assertTrue(choice.message().content().isEmpty(), "content: " + choice.message().content());
        }
    }

    @Test
    void namedFunctionIsTheOneCalledAndTheConversationContinues() throws Exception {
        ChatCompletionCreateParams params = ask(11).toolChoice(ChatCompletionNamedToolChoice.builder()
                .function(ChatCompletionNamedToolChoice.Function.builder().name("get_time").build()).build()).build();
        ChatCompletion c = client.chat().completions().create(params);
        var msg = c.choices().get(0).message();
        ChatCompletionMessageFunctionToolCall call = msg.toolCalls().orElseThrow().get(0).asFunction();
        assertEquals("get_time", call.function().name());
        assertValidCall(call);

        // send the result back as an agent would: the template renders the call and the tool answer
        ChatCompletion next = client.chat().completions().create(ask(12).addMessage(msg)
                .addMessage(ChatCompletionToolMessageParam.builder().toolCallId(call.id()).content("12:00").build())
                .maxCompletionTokens(8).build());
        // the second prompt holds the rendered call and the tool's answer after the first one
        assertTrue(next.usage().orElseThrow().promptTokens() > c.usage().orElseThrow().promptTokens() + 20,
                next.usage() + " vs " + c.usage());
        assertEquals(ChatCompletion.Choice.FinishReason.LENGTH, next.choices().get(0).finishReason());
    }

    @Test
    void streamedToolCallsAccumulateInTheSdk() throws Exception {
        for (long seed = 21; seed <= 23; seed++) {
            ChatCompletionCreateParams p = ask(seed).toolChoice(ChatCompletionToolChoiceOption.Auto.REQUIRED)
                    .parallelToolCalls(true).maxCompletionTokens(600).build();
            ChatCompletionAccumulator acc = ChatCompletionAccumulator.create();
            try (StreamResponse<ChatCompletionChunk> s = client.chat().completions().createStreaming(p)) {
                s.stream().forEach(acc::accumulate);
            }
            var choice = acc.chatCompletion().choices().get(0);
            List<ChatCompletionMessageToolCall> calls = choice.message().toolCalls().orElseThrow();
            assertFalse(calls.isEmpty(), "seed " + seed);
            for (ChatCompletionMessageToolCall call : calls) {
                assertValidCall(call.asFunction());
            }
            // the non-streamed answer for the same seed has the same calls
            ChatCompletion whole = client.chat().completions().create(p);
            List<ChatCompletionMessageToolCall> wholeCalls = whole.choices().get(0).message().toolCalls().orElseThrow();
            assertEquals(wholeCalls.size(), calls.size(), "seed " + seed);
            for (int i = 0; i < calls.size(); i++) {
                assertEquals(wholeCalls.get(i).asFunction().function().name(), calls.get(i).asFunction().function().name());
                assertEquals(wholeCalls.get(i).asFunction().function().arguments(),
                        calls.get(i).asFunction().function().arguments());
            }
        }
    }

    @Test
    void concurrentForcedCallsInParallelSlotsEachParse() throws Exception {
        // -np 2: masks are per sequence while the vocabulary trie is shared
        List<java.util.concurrent.CompletableFuture<ChatCompletion>> running = new java.util.ArrayList<>();
        for (long seed = 41; seed <= 44; seed++) {
            ChatCompletionCreateParams p = ask(seed).toolChoice(ChatCompletionToolChoiceOption.Auto.REQUIRED)
                    .parallelToolCalls(false).maxCompletionTokens(600).build();
            running.add(java.util.concurrent.CompletableFuture.supplyAsync(() -> client.chat().completions().create(p)));
        }
        for (var f : running) {
            var choice = f.get(5, java.util.concurrent.TimeUnit.MINUTES).choices().get(0);
            assertEquals(ChatCompletion.Choice.FinishReason.TOOL_CALLS, choice.finishReason());
            assertValidCall(choice.message().toolCalls().orElseThrow().get(0).asFunction());
        }
    }

    @Test
    void autoAndNoneLeaveTheModelFreeAndStillAnswer() throws Exception {
        ChatCompletion auto = client.chat().completions().create(ask(31).maxCompletionTokens(16).build());
        var autoMsg = auto.choices().get(0).message();
        // unconstrained nonsense: a call only if the model happened to write a whole one, else text
        if (autoMsg.toolCalls().map(List::isEmpty).orElse(true)) {
            assertFalse(autoMsg.content().orElseThrow().isEmpty());
        } else {
            autoMsg.toolCalls().get().forEach(tc -> assertFalse(tc.asFunction().function().name().isEmpty()));
        }
        ChatCompletion none = client.chat().completions().create(ask(32).maxCompletionTokens(16)
                .toolChoice(ChatCompletionToolChoiceOption.Auto.NONE).build());
        assertTrue(none.choices().get(0).message().toolCalls().map(List::isEmpty).orElse(true));
        assertEquals(ChatCompletion.Choice.FinishReason.LENGTH, none.choices().get(0).finishReason());
    }
}
