package dev.trestle.server.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.trestle.testdata.SharedData;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code trestle template}: the CLI face of the chat templates, with llama-server's flags. */
class TemplateCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private record Result(int code, String out, String err) {
    }

    private static Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Result(code, out.toString(), err.toString());
    }

    @Test
    void rendersLikeLlamaServerApplyTemplate(@TempDir Path dir) throws Exception {
        JsonNode ref = JSON.readTree(SharedData.reference("templates/Qwen-Qwen2.5-7B-Instruct.c-tool-call.json").toFile());
        Path request = dir.resolve("request.json");
        Files.writeString(request, ref.get("request").toString());
        Result r = run("template", "-m", SharedData.model("stories260K.gguf").toString(),
                "--chat-template-file", SharedData.reference("templates/Qwen-Qwen2.5-7B-Instruct.jinja").toString(),
                request.toString());
        assertEquals(0, r.code(), r.err());
        assertEquals(ref.get("prompt").asText(), r.out());
    }

    @Test
    void builtinNameKwargsAndNoJinja(@TempDir Path dir) throws Exception {
        Path request = dir.resolve("request.json");
        Files.writeString(request, "{\"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}]}");
        String model = SharedData.model("stories260K.gguf").toString();
        Result r = run("template", "-m", model, "--chat-template", "llama3", request.toString());
        assertEquals("<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n",
                r.out());
        String qwen3 = SharedData.reference("templates/Qwen-Qwen3-0.6B.jinja").toString();
        r = run("template", "-m", model, "--chat-template", qwen3, "--chat-template-kwargs", "{\"enable_thinking\": false}",
                request.toString());
        assertEquals("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n", r.out(), r.err());
        // without the Jinja engine the Qwen template falls back to the built-in format it resembles
        r = run("template", "-m", model, "--no-jinja", "--chat-template", qwen3, request.toString());
        assertEquals("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n", r.out(), r.err());
        r = run("template", "-m", model, "--jinja", "--chat-template", qwen3, request.toString());
        assertEquals("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n", r.out(), r.err());
    }

    @Test
    void capsListAndErrors() throws Exception {
        String model = SharedData.model("stories260K.gguf").toString();
        Result r = run("template", "-m", model, "--caps",
                "--chat-template", SharedData.reference("templates/google-gemma-2-2b-it.jinja").toString());
        assertEquals(0, r.code(), r.err());
        JsonNode caps = JSON.readTree(r.out());
        assertEquals(false, caps.get("supports_system_role").asBoolean());
        assertEquals(true, caps.get("supports_string_content").asBoolean());

        r = run("template", "--list");
        assertTrue(r.out().lines().toList().containsAll(java.util.List.of("chatml", "llama3", "gemma", "phi3", "mistral-v7")));

        r = run("template", "-m", model, "--chat-template", "nonexistent-name", "--caps");
        assertEquals(1, r.code());
        assertTrue(r.err().contains("unknown chat template 'nonexistent-name'") && r.err().contains("fix:"), r.err());
    }
}
