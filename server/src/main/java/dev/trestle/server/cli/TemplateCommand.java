package dev.trestle.server.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.trestle.common.TrestleException;
import dev.trestle.engine.gguf.GgufFile;
import dev.trestle.engine.template.ChatMessage;
import dev.trestle.engine.template.ChatTemplate;
import dev.trestle.engine.template.ChatTemplates;
import dev.trestle.engine.template.RenderOptions;
import dev.trestle.engine.template.TemplateCaps;
import dev.trestle.engine.template.Tool;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code trestle template -m MODEL [REQUEST.json]}: the prompt a chat request becomes (what
 * llama-server's {@code POST /apply-template} returns), or the template's capabilities.
 */
@Command(name = "template", mixinStandardHelpOptions = true,
        description = "Render a chat request (OpenAI JSON with messages/tools) with a model's chat template.")
public final class TemplateCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Spec
    CommandSpec spec;

    @Mixin
    ChatTemplateOptions templateOptions;

    @Option(names = {"-m", "--model"}, paramLabel = "FILE", description = "GGUF model (its template and BOS/EOS).")
    Path model;

    @Option(names = "--caps", description = "Print the template's capabilities as JSON instead of rendering.")
    boolean caps;

    @Option(names = "--list", description = "List the built-in template names.")
    boolean list;

    @Parameters(index = "0", arity = "0..1", paramLabel = "REQUEST",
            description = "Chat request JSON file, or - for standard input (default).")
    String request;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        if (list) {
            ChatTemplates.builtinNames().forEach(out::println);
            return 0;
        }
        if (model == null) {
            throw new TrestleException("no model given", "pass -m MODEL.gguf", 2, null);
        }
        ChatTemplate template;
        try (GgufFile f = GgufFile.open(model)) {
            template = templateOptions.load(f.metadata(), Clock.systemDefaultZone());
        }
        if (caps) {
            out.println(JSON.writerWithDefaultPrettyPrinter().writeValueAsString(capsJson(template.caps())));
            return 0;
        }
        JsonNode body = readRequest();
        List<ChatMessage> messages = ChatMessage.listFromJson(body.get("messages"));
        List<Tool> tools = Tool.listFromJson(body.get("tools"));
        RenderOptions opts = templateOptions.renderOptions();
        if (body.has("add_generation_prompt")) {
            opts = opts.withAddGenerationPrompt(body.get("add_generation_prompt").asBoolean(true));
        }
        out.print(template.render(messages, tools, opts));
        out.flush();
        return 0;
    }

    private JsonNode readRequest() throws IOException {
        String text = request == null || request.equals("-")
                ? new String(System.in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8)
                : Files.readString(Path.of(request));
        JsonNode body = JSON.readTree(text);
        if (body == null || !body.isObject()) {
            throw new TrestleException("the request is not a JSON object", "pass {\"messages\": [...]}", 2, null);
        }
        return body;
    }

    private static ObjectNode capsJson(TemplateCaps c) {
        ObjectNode n = JSON.createObjectNode();
        n.put("supports_string_content", c.supportsStringContent());
        n.put("supports_typed_content", c.supportsTypedContent());
        n.put("supports_system_role", c.supportsSystemRole());
        n.put("supports_tools", c.supportsTools());
        n.put("supports_tool_calls", c.supportsToolCalls());
        n.put("supports_parallel_tool_calls", c.supportsParallelToolCalls());
        n.put("supports_object_arguments", c.supportsObjectArguments());
        n.put("supports_preserve_reasoning", c.supportsPreserveReasoning());
        n.put("supports_thinking", c.supportsThinking());
        return n;
    }
}
