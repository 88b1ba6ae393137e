package dev.trestle.engine.template;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.trestle.testdata.SharedData;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every llama-server rendering in shared/reference/templates, reproduced exactly: eight real
 * models' templates times three conversations (plain, multi-turn, tool call), including the one
 * the template itself refuses.
 */
class ReferenceRenderingsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** The day the references were rendered (README section 5): date-dependent ones need it. */
    static final Clock RENDER_DAY = Clock.fixed(Instant.parse("2026-11-29T12:00:00Z"), ZoneOffset.UTC);
    /** stories260K's vocabulary: "<s>"/"</s>", BOS added by tokenization, EOS not. */
    static final SpecialTokens STORIES_VOCAB = new SpecialTokens("<s>", "</s>", true, false);

    static Stream<Path> renderings() throws IOException {
        Path dir = SharedData.reference("templates");
        try (Stream<Path> files = Files.list(dir)) {
            List<Path> all = files.filter(p -> p.getFileName().toString().endsWith(".json")).sorted().toList();
            assertEquals(24, all.size(), "expected 8 templates x 3 conversations in " + dir);
            return all.stream();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("renderings")
    void reproducesLlamaServerRendering(Path file) throws IOException {
        JsonNode ref = JSON.readTree(file.toFile());
        ChatTemplate template = template(ref);
        JsonNode request = ref.get("request");
        List<ChatMessage> messages = ChatMessage.listFromJson(request.get("messages"));
        List<Tool> tools = Tool.listFromJson(request.get("tools"));

        if (ref.hasNonNull("prompt")) {
            assertEquals(ref.get("prompt").asText(), template.render(messages, tools, RenderOptions.defaults()));
        } else {
            String expected = ref.get("error").asText();
            TemplateException e = assertThrows(TemplateException.class,
                    () -> template.render(messages, tools, RenderOptions.defaults()));
            assertTrue(expected.contains(e.templateMessage()),
                    "llama.cpp said:\n" + expected + "\nwe said: " + e.templateMessage());
            assertFalse(e.templateMessage().isBlank());
            // llama.cpp locates the failing call: "While executing CallExpression at line 1, column 226"
            String where = e.getMessage().replaceAll(".*\\((line \\d+, column \\d+)\\)$", "$1");
            assertTrue(expected.contains(where), "location '" + where + "' not in llama.cpp's error");
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("renderings")
    void detectsLlamaServerCapabilities(Path file) throws IOException {
        JsonNode ref = JSON.readTree(file.toFile());
        if (!ref.get("conversation_id").asText().startsWith("a-")) {
            return; // the caps are a property of the template; check each once
        }
        JsonNode expected = ref.at("/server/props/chat_template_caps");
        TemplateCaps caps = template(ref).caps();
        String name = ref.get("template").asText();
        assertEquals(expected.get("supports_string_content").asBoolean(), caps.supportsStringContent(), name);
        assertEquals(expected.get("supports_typed_content").asBoolean(), caps.supportsTypedContent(), name);
        assertEquals(expected.get("supports_system_role").asBoolean(), caps.supportsSystemRole(), name);
        assertEquals(expected.get("supports_tools").asBoolean(), caps.supportsTools(), name);
        assertEquals(expected.get("supports_tool_calls").asBoolean(), caps.supportsToolCalls(), name);
        assertEquals(expected.get("supports_parallel_tool_calls").asBoolean(), caps.supportsParallelToolCalls(), name);
        assertEquals(expected.get("supports_object_arguments").asBoolean(), caps.supportsObjectArguments(), name);
        assertEquals(expected.get("supports_preserve_reasoning").asBoolean(), caps.supportsPreserveReasoning(), name);
    }

    @Test
    void thinkingSupportFollowsTheTemplate() throws IOException {
        assertTrue(load("Qwen-Qwen3-0.6B").caps().supportsThinking());
        assertTrue(load("deepseek-ai-DeepSeek-R1-Distill-Qwen-32B").caps().supportsThinking());
        assertTrue(load("openai-gpt-oss-120b").caps().supportsThinking());
        assertFalse(load("Qwen-Qwen2.5-7B-Instruct").caps().supportsThinking());
        assertFalse(load("meta-llama-Llama-3.1-8B-Instruct").caps().supportsThinking());
    }

    @Test
    void dateComesFromTheInjectedClock() throws IOException {
        Clock otherDay = Clock.fixed(Instant.parse("2025-02-03T08:00:00Z"), ZoneOffset.UTC);
        String source = Files.readString(SharedData.reference("templates/openai-gpt-oss-120b.jinja"));
        String prompt = new ChatTemplate(source, STORIES_VOCAB, otherDay)
                .render(List.of(ChatMessage.of("user", "hi")), List.of(), RenderOptions.defaults());
        assertTrue(prompt.contains("Current date: 2025-02-03\n"), prompt);
        String llama = Files.readString(SharedData.reference("templates/meta-llama-Llama-3.1-8B-Instruct.jinja"));
        prompt = new ChatTemplate(llama, STORIES_VOCAB, otherDay)
                .render(List.of(ChatMessage.of("user", "hi")), List.of(), RenderOptions.defaults());
        assertTrue(prompt.contains("Today Date: 03 Feb 2025\n"), prompt);
    }

    private static ChatTemplate load(String stem) throws IOException {
        String source = Files.readString(SharedData.reference("templates/" + stem + ".jinja"));
        return new ChatTemplate(source, STORIES_VOCAB, RENDER_DAY);
    }

    private static ChatTemplate template(JsonNode ref) throws IOException {
        JsonNode props = ref.at("/server/props");
        assertEquals("<s>", props.get("bos_token").asText());
        assertEquals("</s>", props.get("eos_token").asText());
        String source = Files.readString(SharedData.reference("templates/" + ref.get("template").asText()));
        return new ChatTemplate(source, STORIES_VOCAB, RENDER_DAY);
    }
}
