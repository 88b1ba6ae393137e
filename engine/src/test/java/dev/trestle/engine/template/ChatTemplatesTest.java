package dev.trestle.engine.template;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.trestle.engine.gguf.GgufFile;
import dev.trestle.engine.gguf.GgufMetadata;
import dev.trestle.engine.gguf.GgufValue;
import dev.trestle.testdata.SharedData;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Built-in templates, --chat-template resolution and the GGUF fallbacks. */
class ChatTemplatesTest {
    private static final List<ChatMessage> CHAT = List.of(
            ChatMessage.of("system", "You are a helpful assistant"),
            ChatMessage.of("user", "Hello"),
            ChatMessage.of("assistant", "Hi there"),
            ChatMessage.of("user", "How are you?"));

    /** What llama.cpp's built-in formats (src/llama-chat.cpp) produce for {@link #CHAT}. */
    private static final Map<String, String> EXPECTED = Map.ofEntries(
            Map.entry("chatml", "<|im_start|>system\nYou are a helpful assistant<|im_end|>\n<|im_start|>user\nHello<|im_end|>\n"
                    + "<|im_start|>assistant\nHi there<|im_end|>\n<|im_start|>user\nHow are you?<|im_end|>\n<|im_start|>assistant\n"),
            Map.entry("llama2", "[INST] You are a helpful assistant\nHello [/INST]Hi there</s>[INST] How are you? [/INST]"),
            Map.entry("llama2-sys", "[INST] <<SYS>>\nYou are a helpful assistant\n<</SYS>>\n\nHello [/INST]Hi there</s>"
                    + "[INST] How are you? [/INST]"),
            Map.entry("llama2-sys-bos", "[INST] <<SYS>>\nYou are a helpful assistant\n<</SYS>>\n\nHello [/INST]Hi there</s>"
                    + "<s>[INST] How are you? [/INST]"),
            Map.entry("mistral-v1", " [INST] You are a helpful assistant\n\nHello [/INST] Hi there</s> [INST] How are you? [/INST]"),
            Map.entry("mistral-v3", "[INST] You are a helpful assistant\n\nHello[/INST] Hi there</s>[INST] How are you?[/INST]"),
            Map.entry("mistral-v3-tekken", "[INST]You are a helpful assistant\n\nHello[/INST]Hi there</s>[INST]How are you?[/INST]"),
            Map.entry("mistral-v7", "[SYSTEM_PROMPT] You are a helpful assistant[/SYSTEM_PROMPT][INST] Hello[/INST] Hi there</s>"
                    + "[INST] How are you?[/INST]"),
            Map.entry("phi3", "<|system|>\nYou are a helpful assistant<|end|>\n<|user|>\nHello<|end|>\n<|assistant|>\nHi there<|end|>\n"
                    + "<|user|>\nHow are you?<|end|>\n<|assistant|>\n"),
            Map.entry("gemma", "<start_of_turn>user\nYou are a helpful assistant\n\nHello<end_of_turn>\n<start_of_turn>model\n"
                    + "Hi there<end_of_turn>\n<start_of_turn>user\nHow are you?<end_of_turn>\n<start_of_turn>model\n"),
            Map.entry("llama3", "<|start_header_id|>system<|end_header_id|>\n\nYou are a helpful assistant<|eot_id|>"
                    + "<|start_header_id|>user<|end_header_id|>\n\nHello<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"
                    + "Hi there<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHow are you?<|eot_id|>"
                    + "<|start_header_id|>assistant<|end_header_id|>\n\n"),
            Map.entry("deepseek", "You are a helpful assistant### Instruction:\nHello\n### Response:\nHi there\n<|EOT|>\n"
                    + "### Instruction:\nHow are you?\n### Response:\n"),
            Map.entry("deepseek3", "You are a helpful assistant\n\n<｜User｜>Hello<｜Assistant｜>Hi there<｜end▁of▁sentence｜>"
                    + "<｜User｜>How are you?<｜Assistant｜>"),
            Map.entry("vicuna", "You are a helpful assistant\n\nUSER: Hello\nASSISTANT: Hi there</s>\nUSER: How are you?\nASSISTANT:"),
            Map.entry("command-r", "<|START_OF_TURN_TOKEN|><|SYSTEM_TOKEN|>You are a helpful assistant<|END_OF_TURN_TOKEN|>"
                    + "<|START_OF_TURN_TOKEN|><|USER_TOKEN|>Hello<|END_OF_TURN_TOKEN|><|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>"
                    + "Hi there<|END_OF_TURN_TOKEN|><|START_OF_TURN_TOKEN|><|USER_TOKEN|>How are you?<|END_OF_TURN_TOKEN|>"
                    + "<|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>"),
            Map.entry("zephyr", "<|system|>\nYou are a helpful assistant<|endoftext|>\n<|user|>\nHello<|endoftext|>\n"
                    + "<|assistant|>\nHi there<|endoftext|>\n<|user|>\nHow are you?<|endoftext|>\n<|assistant|>\n"));

    @Test
    void builtinsRenderLlamaCppFormats() {
        for (Map.Entry<String, String> e : EXPECTED.entrySet()) {
            ChatTemplate t = new ChatTemplate(ChatTemplates.builtinSource(e.getKey()), "<s>", "</s>",
                    ReferenceRenderingsTest.RENDER_DAY);
            assertEquals(e.getValue(), t.render(CHAT, List.of(), RenderOptions.defaults()), e.getKey());
        }
    }

    @Test
    void everyBuiltinParsesAndRenders() {
        for (String name : ChatTemplates.builtinNames()) {
            String source = ChatTemplates.builtinSource(name);
            assertNotNull(source, name);
            String out = new ChatTemplate(source, "<s>", "</s>", ReferenceRenderingsTest.RENDER_DAY)
                    .render(CHAT, List.of(), RenderOptions.defaults());
            assertTrue(out.contains("How are you?") && out.contains("Hi there"), name + ": " + out);
        }
    }

    @Test
    void modelWithoutTemplateFallsBackToChatml() {
        try (GgufFile f = GgufFile.open(SharedData.model("stories260K.gguf"))) {
            ChatTemplate t = ChatTemplates.forModel(f.metadata(), null, ReferenceRenderingsTest.RENDER_DAY);
            assertEquals(ChatTemplates.builtinSource("chatml"), t.source());
            assertEquals(new SpecialTokens("<s>", "</s>", true, false), t.specialTokens());
            assertEquals("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n",
                    t.render(List.of(ChatMessage.of("user", "Hi")), List.of(), RenderOptions.defaults()));
        }
    }

    @Test
    void modelTemplateOverrideNameFileAndInline(@TempDir Path dir) throws IOException {
        String qwen = Files.readString(SharedData.reference("templates/Qwen-Qwen3-0.6B.jinja"));
        try (GgufFile f = GgufFile.open(SharedData.model("stories260K.gguf"))) {
            Map<String, GgufValue> kv = new LinkedHashMap<>(f.metadata().asMap());
            kv.put("tokenizer.chat_template", GgufValue.ofString(qwen));
            GgufMetadata withTemplate = new GgufMetadata(kv);
            assertEquals(qwen, ChatTemplates.resolveSource(withTemplate, null));
            assertEquals(ChatTemplates.builtinSource("gemma"), ChatTemplates.resolveSource(withTemplate, "gemma"));
            Path file = dir.resolve("t.jinja");
            Files.writeString(file, "{{ messages[0].content }}!");
            ChatTemplate fromFile = ChatTemplates.forModel(withTemplate, file.toString(), ReferenceRenderingsTest.RENDER_DAY);
            assertEquals("Hi!", fromFile.render(List.of(ChatMessage.of("user", "Hi")), List.of(), RenderOptions.defaults()));
            ChatTemplate inline = ChatTemplates.forModel(withTemplate, "{{ bos_token }}[{{ messages|length }}]",
                    ReferenceRenderingsTest.RENDER_DAY);
            // the vocabulary adds BOS itself, so the template's leading BOS is dropped
            assertEquals("[1]", inline.render(List.of(ChatMessage.of("user", "Hi")), List.of(), RenderOptions.defaults()));
            TemplateException e = assertThrows(TemplateException.class,
                    () -> ChatTemplates.forModel(withTemplate, "no-such-template"));
            assertTrue(e.getMessage().contains("no-such-template") && e.fix().contains("chatml"), e.getMessage());
        }
    }

    @Test
    void toolUseVariantServesRequestsWithTools() throws IOException {
        String gemma = Files.readString(SharedData.reference("templates/google-gemma-2-2b-it.jinja"));
        String qwen = Files.readString(SharedData.reference("templates/Qwen-Qwen2.5-7B-Instruct.jinja"));
        JsonNode ref = new ObjectMapper().readTree(
                SharedData.reference("templates/Qwen-Qwen2.5-7B-Instruct.c-tool-call.json").toFile());
        try (GgufFile f = GgufFile.open(SharedData.model("stories260K.gguf"))) {
            Map<String, GgufValue> kv = new LinkedHashMap<>(f.metadata().asMap());
            kv.put("tokenizer.chat_template", GgufValue.ofString(gemma));
            kv.put("tokenizer.chat_template.tool_use", GgufValue.ofString(qwen));
            ChatTemplate t = ChatTemplates.forModel(new GgufMetadata(kv), null, ReferenceRenderingsTest.RENDER_DAY);
            assertEquals(ref.get("prompt").asText(), t.render(ChatMessage.listFromJson(ref.at("/request/messages")),
                    Tool.listFromJson(ref.at("/request/tools")), RenderOptions.defaults()));
            assertEquals("<start_of_turn>user\nHi<end_of_turn>\n<start_of_turn>model\n",
                    t.render(List.of(ChatMessage.of("user", "Hi")), List.of(), RenderOptions.defaults()));
            // an explicit --chat-template replaces both
            assertEquals(null, ChatTemplates.forModel(new GgufMetadata(kv), "chatml").toolUseVariant());
        }
    }

    @Test
    void brokenTemplateIsAnErrorWithItsPosition() {
        TemplateException e = assertThrows(TemplateException.class,
                () -> new ChatTemplate("{% for m in messages %}\n{{ m.content ", "", "", ReferenceRenderingsTest.RENDER_DAY));
        assertTrue(e.getMessage().contains("line 2"), e.getMessage());
    }

    @ParameterizedTest
    @CsvSource({
        "Qwen-Qwen2.5-7B-Instruct, chatml",
        "google-gemma-2-2b-it, gemma",
        "meta-llama-Llama-3.1-8B-Instruct, llama3",
        "microsoft-Phi-3.5-mini-instruct, phi3",
        "mistralai-Mistral-Nemo-Instruct-2407, mistral-v3-tekken",
        "deepseek-ai-DeepSeek-R1-Distill-Qwen-32B, deepseek3",
    })
    void detectsTheBuiltinFormatOfRealTemplates(String stem, String expected) throws IOException {
        assertEquals(expected, ChatTemplates.detectBuiltin(Files.readString(SharedData.reference("templates/" + stem + ".jinja"))));
    }
}
