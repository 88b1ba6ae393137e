package dev.trestle.server.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Tool-call and reasoning parsing for every supported family, against what the real templates render. */
class ChatOutputParserTest {
    private static final Map<String, ToolCallFormat> EXPECTED_FORMAT = Map.of(
            "Qwen-Qwen2.5-7B-Instruct", ToolCallFormat.HERMES,
            "Qwen-Qwen3-0.6B", ToolCallFormat.HERMES,
            "meta-llama-Llama-3.1-8B-Instruct", ToolCallFormat.LLAMA3,
            "mistralai-Mistral-Nemo-Instruct-2407", ToolCallFormat.MISTRAL_NEMO,
            "deepseek-ai-DeepSeek-R1-Distill-Qwen-32B", ToolCallFormat.DEEPSEEK_R1,
            "openai-gpt-oss-120b", ToolCallFormat.GPT_OSS,
            "google-gemma-2-2b-it", ToolCallFormat.GENERIC,
            "microsoft-Phi-3.5-mini-instruct", ToolCallFormat.GENERIC);

    static ChatOutputParser parser(ToolCallFormat f, boolean thinkTags, boolean forcedOpen) {
        return new ChatOutputParser(f, true, ReasoningFormat.AUTO, thinkTags, forcedOpen, Set.of("get_weather", "search"));
    }

    static ChatOutputParser parserFor(String stem) throws Exception {
        String src = TemplateOutputs.source(stem);
        return parser(ToolCallFormat.detect(src), src.contains("<think>"), TemplateOutputs.thinkingForcedOpen(stem));
    }

    @Test
    void formatIsDetectedFromEachRealTemplate() throws Exception {
        for (var e : EXPECTED_FORMAT.entrySet()) {
            assertEquals(e.getValue(), ToolCallFormat.detect(TemplateOutputs.source(e.getKey())), e.getKey());
        }
    }

    @Test
    void theCallEachTemplateRendersParsesBackToTheSameCall() throws Exception {
        for (String stem : TemplateOutputs.TOOL_TEMPLATES) {
            String out = TemplateOutputs.toolCallOutput(stem);
            ChatOutput parsed = parserFor(stem).parse(out, false);
            assertEquals(1, parsed.calls().size(), stem + ": " + out);
            assertEquals("get_weather", parsed.calls().get(0).name(), stem);
            assertEquals("Paris", TemplateOutputs.JSON.readTree(parsed.calls().get(0).arguments()).get("city").asText(), stem);
            assertEquals("", parsed.content(), stem + ": " + out);
            assertStreamsLikeFinal(parserFor(stem), out, new Random(stem.hashCode()));
        }
    }

    @Test
    void hermesWithReasoningContentAndParallelCalls() {
        String out = "<think>\nThe user wants weather.\n</think>\n\nLet me check.\n<tool_call>\n"
                + "{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>\n<tool_call>\n"
                + "{\"name\": \"search\", \"arguments\": {\"q\": \"a < b\"}}\n</tool_call>";
        ChatOutput p = parser(ToolCallFormat.HERMES, true, false).parse(out, false);
        assertEquals("The user wants weather.", p.reasoning());
        assertEquals("Let me check.", p.content());
        assertEquals(List.of("get_weather", "search"), p.calls().stream().map(ParsedToolCall::name).toList());
        assertEquals("{\"q\":\"a < b\"}", p.calls().get(1).arguments());
        assertStreamsLikeFinal(parser(ToolCallFormat.HERMES, true, false), out, new Random(1));
    }

    @Test
    void hermesCallWithBrokenJsonStaysContent() {
        String out = "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": }\n</tool_call>";
        ChatOutput p = parser(ToolCallFormat.HERMES, false, false).parse(out, false);
        assertTrue(p.calls().isEmpty());
        assertEquals(out, p.content());
    }

    @Test
    void reasoningFormatNoneLeavesThoughtsInContent() {
        var none = new ChatOutputParser(ToolCallFormat.HERMES, false, ReasoningFormat.NONE, true, false, Set.of());
        assertFalse(none.active());
        assertEquals("<think>hm</think>Hi", none.parse("<think>hm</think>Hi", false).content());
        var legacy = new ChatOutputParser(ToolCallFormat.HERMES, false, ReasoningFormat.DEEPSEEK_LEGACY, true, false, Set.of());
        ChatOutput l = legacy.parse("<think>hm</think>Hi", false);
        assertEquals("hm", l.reasoning());
        assertEquals("<think>hm</think>Hi", l.content());
    }

    @Test
    void deepSeekR1ThinkingForcedOpenByThePrompt() {
        String out = "Paris is in France.\n</think>\n\nIt is sunny.";
        ChatOutputParser p = new ChatOutputParser(ToolCallFormat.DEEPSEEK_R1, false, ReasoningFormat.DEEPSEEK, true, true,
                Set.of());
        ChatOutput o = p.parse(out, false);
        assertEquals("Paris is in France.", o.reasoning());
        assertEquals("It is sunny.", o.content());
        assertStreamsLikeFinal(p, out, new Random(2));
    }

    @Test
    void llama3BareJsonOnlyWhenItNamesAnOfferedTool() {
        ChatOutputParser p = parser(ToolCallFormat.LLAMA3, false, false);
        ChatOutput call = p.parse("{\"name\": \"search\", \"parameters\": {\"q\": \"x\"}}", false);
        assertEquals("search", call.calls().get(0).name());
        assertEquals("{\"q\":\"x\"}", call.calls().get(0).arguments());
        ChatOutput answer = p.parse("{\"name\": \"Bob\", \"age\": 3}", false);
        assertTrue(answer.calls().isEmpty());
        assertEquals("{\"name\": \"Bob\", \"age\": 3}", answer.content());
    }

    @Test
    void llama3PythonTagWithJsonOrBuiltinCallSyntax() {
        ChatOutputParser p = parser(ToolCallFormat.LLAMA3, false, false);
        ChatOutput json = p.parse("<|python_tag|>{\"name\": \"search\", \"parameters\": {\"q\": \"x\"}}", false);
        assertEquals("search", json.calls().get(0).name());
        ChatOutput py = p.parse("<|python_tag|>brave_search.call(query=\"weather in Paris\", count=3)", false);
        assertEquals("brave_search", py.calls().get(0).name());
        assertEquals("{\"query\":\"weather in Paris\",\"count\":3}", py.calls().get(0).arguments());
        ChatOutput two = p.parse("<|python_tag|>{\"name\": \"search\", \"parameters\": {}}; "
                + "{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Oslo\"}}", false);
        assertEquals(2, two.calls().size());
        assertStreamsLikeFinal(p, "Sure.<|python_tag|>{\"name\": \"search\", \"parameters\": {}}", new Random(3));
    }

    @Test
    void mistralCallsKeepTheModelsIds() {
        String out = "[TOOL_CALLS][{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}, \"id\": \"abcDEF123\"},"
                + " {\"name\": \"search\", \"arguments\": {\"q\": \"y\"}, \"id\": \"zzzzzzzz9\"}]";
        ChatOutput p = parser(ToolCallFormat.MISTRAL_NEMO, false, false).parse(out, false);
        assertEquals(2, p.calls().size());
        assertEquals("abcDEF123", p.calls().get(0).id());
        assertEquals("zzzzzzzz9", p.calls().get(1).id());
        assertStreamsLikeFinal(parser(ToolCallFormat.MISTRAL_NEMO, false, false), "Hello [x] " + out, new Random(4));
    }

    @Test
    void gptOssChannelsSplitReasoningAnswerAndCalls() {
        String out = "<|channel|>analysis<|message|>Need the weather.<|end|><|start|>assistant<|channel|>commentary "
                + "to=functions.get_weather <|constrain|>json<|message|>{\"city\": \"Paris\"}<|call|>";
        ChatOutputParser p = parser(ToolCallFormat.GPT_OSS, false, false);
        ChatOutput o = p.parse(out, false);
        assertEquals("Need the weather.", o.reasoning());
        assertEquals("", o.content());
        assertEquals("get_weather", o.calls().get(0).name());
        assertStreamsLikeFinal(p, out, new Random(5));
        String answer = "<|channel|>analysis<|message|>Easy.<|end|><|start|>assistant<|channel|>final<|message|>It is 4.";
        ChatOutput a = p.parse(answer, false);
        assertEquals("Easy.", a.reasoning());
        assertEquals("It is 4.", a.content());
        assertStreamsLikeFinal(p, answer, new Random(6));
    }

    @Test
    void genericJsonFallback() {
        ChatOutputParser p = parser(ToolCallFormat.GENERIC, false, false);
        ChatOutput one = p.parse("{\"tool_call\": {\"name\": \"search\", \"arguments\": {\"q\": \"z\"}}}", false);
        assertEquals("search", one.calls().get(0).name());
        ChatOutput many = p.parse("{\"tool_calls\": [{\"name\": \"search\", \"arguments\": {}}, "
                + "{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Rome\"}}]}", false);
        assertEquals(2, many.calls().size());
        ChatOutput resp = p.parse("{\"response\": \"Hello!\"}", false);
        assertEquals("Hello!", resp.content());
        assertTrue(resp.calls().isEmpty());
        assertEquals("Just text.", p.parse("Just text.", false).content());
        assertStreamsLikeFinal(p, "{\"tool_call\": {\"name\": \"search\", \"arguments\": {\"q\": \"z\"}}}", new Random(7));
    }

    @Test
    void partialTextNeverLeaksTheStartOfAMarker() {
        ChatOutputParser p = parser(ToolCallFormat.HERMES, false, false);
        assertEquals("Hi", p.parse("Hi <tool_c", true).content());
        assertEquals("Hi <tool_c", p.parse("Hi <tool_c", false).content());
        assertTrue(p.parse("Hi <tool_call>{\"name\": \"search\", \"argu", true).calls().isEmpty());
    }

    /** Streaming the text in random chunks yields exactly the final parse. */
    static void assertStreamsLikeFinal(ChatOutputParser p, String out, Random rnd) {
        for (int round = 0; round < 4; round++) {
            ChatDeltaStream s = new ChatDeltaStream(p);
            StringBuilder reasoning = new StringBuilder();
            StringBuilder content = new StringBuilder();
            List<ParsedToolCall> calls = new ArrayList<>();
            int i = 0;
            List<ChatDeltaStream.Delta> ds = new ArrayList<>();
            while (i < out.length()) {
                int n = round == 0 ? 1 : 1 + rnd.nextInt(6);
                int end = Math.min(out.length(), i + n);
                ds.addAll(s.push(out.substring(i, end)));
                i = end;
            }
            ds.addAll(s.finish());
            for (ChatDeltaStream.Delta d : ds) {
                if (d.reasoning() != null) {
                    reasoning.append(d.reasoning());
                } else if (d.content() != null) {
                    content.append(d.content());
                } else {
                    assertEquals(calls.size(), d.callIndex());
                    calls.add(d.call());
                }
            }
            ChatOutput whole = p.parse(out, false);
            assertEquals(whole.reasoning(), reasoning.toString(), "reasoning of " + out);
            assertEquals(whole.content(), content.toString(), "content of " + out);
            assertEquals(whole.calls(), calls, "calls of " + out);
        }
    }

    static JsonNode json(String s) throws Exception {
        return TemplateOutputs.JSON.readTree(s);
    }
}
