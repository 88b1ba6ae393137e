package dev.trestle.server.tools;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.trestle.engine.template.ChatMessage;
import dev.trestle.engine.template.ChatTemplate;
import dev.trestle.engine.template.RenderOptions;
import dev.trestle.engine.template.SpecialTokens;
import dev.trestle.engine.template.Tool;
import dev.trestle.testdata.SharedData;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;

/**
 * What a model trained on a real template writes when it calls a tool: the difference between the template's
 * rendering of the reference tool-call conversation with and without the assistant's call
 * (shared/reference/templates, c-tool-call).
 */
final class TemplateOutputs {
    static final ObjectMapper JSON = new ObjectMapper();
    static final Clock DAY = Clock.fixed(Instant.parse("2026-11-29T12:00:00Z"), ZoneOffset.UTC);
    static final List<String> TOOL_TEMPLATES = List.of("Qwen-Qwen2.5-7B-Instruct", "Qwen-Qwen3-0.6B",
            "meta-llama-Llama-3.1-8B-Instruct", "mistralai-Mistral-Nemo-Instruct-2407",
            "deepseek-ai-DeepSeek-R1-Distill-Qwen-32B", "openai-gpt-oss-120b");

    private TemplateOutputs() {
    }

    static String source(String stem) throws IOException {
        return Files.readString(SharedData.reference("templates").resolve(stem + ".jinja"));
    }

    static ChatTemplate template(String stem) throws IOException {
        return new ChatTemplate(source(stem), new SpecialTokens("<s>", "</s>", true, false), DAY);
    }

    /** The reference c-tool-call request. */
    static JsonNode request(String stem) throws IOException {
        Path f = SharedData.reference("templates").resolve(stem + ".c-tool-call.json");
        return JSON.readTree(f.toFile()).get("request");
    }

    static List<Tool> tools(String stem) throws IOException {
        return Tool.listFromJson(request(stem).get("tools"));
    }

    /** The assistant's tool-call turn as the model generates it (end-of-generation marker removed). */
    static String toolCallOutput(String stem) throws IOException {
        ChatTemplate t = template(stem);
        List<ChatMessage> all = ChatMessage.listFromJson(request(stem).get("messages"));
        List<ChatMessage> upToCall = all.subList(0, 2);
        String before = t.render(all.subList(0, 1), tools(stem), RenderOptions.defaults());
        String after = t.render(upToCall, tools(stem), RenderOptions.defaults().withAddGenerationPrompt(false));
        String thoughts = "";
        if (thinkingForcedOpen(stem)) {
            // the prompt opened <think> (DeepSeek R1): the model first thinks and closes it; history drops thoughts
            before = before.substring(0, before.lastIndexOf("<think>"));
            thoughts = "I should look up the weather.\n</think>\n\n";
        }
        if (!after.startsWith(before)) {
            throw new AssertionError(stem + ": the call turn does not extend the generation prompt:\n" + before
                    + "\n---\n" + after);
        }
        String out = after.substring(before.length());
        int eos = out.indexOf("<｜end▁of▁sentence｜>");
        if (eos >= 0) {
            out = out.substring(0, eos);
        }
        for (String end : List.of("<|im_end|>", "<|eot_id|>", "<|eom_id|>", "</s>", "<|call|>", "<｜end▁of▁sentence｜>")) {
            int at = out.lastIndexOf(end);
            if (at >= 0 && out.substring(at + end.length()).isBlank()) {
                out = out.substring(0, at);
            }
        }
        return thoughts + out;
    }

    /** True when the template's generation prompt ends inside {@code <think>}. */
    static boolean thinkingForcedOpen(String stem) throws IOException {
        List<ChatMessage> all = ChatMessage.listFromJson(request(stem).get("messages"));
        return template(stem).render(all.subList(0, 1), tools(stem), RenderOptions.defaults()).stripTrailing()
                .endsWith("<think>");
    }
}
