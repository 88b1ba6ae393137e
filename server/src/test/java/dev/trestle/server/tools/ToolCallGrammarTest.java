package dev.trestle.server.tools;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.trestle.engine.grammar.Grammar;
import dev.trestle.engine.grammar.GrammarException;
import dev.trestle.engine.template.Tool;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The forced-call grammars accept the calls the real templates show and nothing that would not parse. */
class ToolCallGrammarTest {

    @Test
    void eachFormatsGrammarAcceptsTheCallItsTemplateRenders() throws Exception {
        for (String stem : TemplateOutputs.TOOL_TEMPLATES) {
            ToolCallFormat f = ToolCallFormat.detect(TemplateOutputs.source(stem));
            if (f == ToolCallFormat.GPT_OSS) {
                continue; // its template writes the recipient in the header; checked below in the generated form
            }
            boolean forcedOpen = TemplateOutputs.thinkingForcedOpen(stem);
            String out = TemplateOutputs.toolCallOutput(stem);
            if (!forcedOpen) {
                out = out.replaceFirst("(?s)^<think>.*?</think>\\s*", ""); // forced calls are rendered without thinking
            }
            Grammar g = ToolCallGrammar.grammar(f, TemplateOutputs.tools(stem), false, forcedOpen);
            assertTrue(g.matches(out), stem + " grammar rejects:\n" + out + "\n" + g.toGbnf());
            assertFalse(g.matches(out.replace("get_weather", "get_time")), stem + ": unknown tool accepted");
            assertFalse(g.matches(out.replace("\"city\"", "\"town\"")), stem + ": wrong argument accepted");
        }
    }

    @Test
    void parallelHermesAndMistralTakeSeveralCalls() throws Exception {
        List<Tool> tools = TemplateOutputs.tools("Qwen-Qwen2.5-7B-Instruct");
        String one = "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>";
        assertTrue(ToolCallGrammar.grammar(ToolCallFormat.HERMES, tools, true, false).matches(one + "\n" + one));
        assertFalse(ToolCallGrammar.grammar(ToolCallFormat.HERMES, tools, false, false).matches(one + "\n" + one));
        String call = "{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Oslo\"}, \"id\": \"a1b2c3d4e\"}";
        Grammar mistral = ToolCallGrammar.grammar(ToolCallFormat.MISTRAL_NEMO, tools, true, false);
        assertTrue(mistral.matches("[TOOL_CALLS][" + call + ", " + call + "]"));
        assertFalse(mistral.matches("[TOOL_CALLS][" + call.replace("a1b2c3d4e", "short") + "]"));
    }

    @Test
    void gptOssAndGenericForms() throws Exception {
        List<Tool> tools = TemplateOutputs.tools("openai-gpt-oss-120b");
        Grammar oss = ToolCallGrammar.grammar(ToolCallFormat.GPT_OSS, tools, false, false);
        assertTrue(oss.matches("<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>{\"city\": \"Paris\"}"));
        assertTrue(oss.matches("<|channel|>analysis<|message|>Weather lookup.<|end|><|start|>assistant"
                + "<|channel|>commentary to=functions.get_weather<|message|>{\"city\":\"Paris\"}"));
        Grammar generic = ToolCallGrammar.grammar(ToolCallFormat.GENERIC, tools, true, false);
        assertTrue(generic.matches("{\"tool_calls\": [{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Rome\"}}]}"));
        ChatOutput parsed = ChatOutputParserTest.parser(ToolCallFormat.GENERIC, false, false)
                .parse("{\"tool_calls\": [{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Rome\"}}]}", false);
        assertTrue(parsed.calls().size() == 1 && parsed.calls().get(0).arguments().equals("{\"city\":\"Rome\"}"));
    }

    @Test
    void severalToolsEachWithItsOwnArguments() throws Exception {
        var json = TemplateOutputs.JSON;
        Tool weather = new Tool("get_weather", "", json.readTree(
                "{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"}},\"required\":[\"city\"]}"));
        Tool add = new Tool("add", "", json.readTree(
                "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"integer\"},\"b\":{\"type\":\"integer\"}},"
                        + "\"required\":[\"a\",\"b\"]}"));
        Grammar g = ToolCallGrammar.grammar(ToolCallFormat.LLAMA3, List.of(weather, add), false, false);
        assertTrue(g.matches("{\"name\": \"add\", \"parameters\": {\"a\": 1, \"b\": 2}}"));
        assertTrue(g.matches("{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Rome\"}}"));
        assertFalse(g.matches("{\"name\": \"add\", \"parameters\": {\"city\": \"Rome\"}}"));
        assertFalse(g.matches("{\"name\": \"get_weather\", \"parameters\": {\"a\": 1, \"b\": 2}}"));
    }

    @Test
    void anUnsupportedParametersSchemaIsAClearError() throws Exception {
        Tool bad = new Tool("f", "", TemplateOutputs.JSON.readTree("{\"type\":\"object\",\"not\":{}}"));
        GrammarException e = assertThrows(GrammarException.class,
                () -> ToolCallGrammar.grammar(ToolCallFormat.HERMES, List.of(bad), false, false));
        assertTrue(e.getMessage().contains("not"), e.getMessage());
    }
}
