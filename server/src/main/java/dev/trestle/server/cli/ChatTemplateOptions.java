package dev.trestle.server.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.trestle.common.TrestleException;
import dev.trestle.engine.gguf.GgufMetadata;
import dev.trestle.engine.template.ChatTemplate;
import dev.trestle.engine.template.ChatTemplates;
import dev.trestle.engine.template.RenderOptions;
import java.nio.file.Path;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Option;

/**
 * llama-server's chat template flags, shared by every command that formats conversations
 * ({@code serve}, {@code run}, {@code template}): mix in with {@code @Mixin}.
 */
public final class ChatTemplateOptions {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Option(names = "--jinja", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Render the chat template with the Jinja engine (default). With --no-jinja the"
                    + " template is replaced by the built-in format it resembles, as llama-server does.")
    boolean jinja = true;

    @Option(names = "--chat-template", paramLabel = "NAME|FILE|JINJA",
            description = "Chat template: a built-in name (chatml, llama3, gemma, phi3, mistral-v7, ...),"
                    + " a .jinja file, or Jinja source. Default: the model's tokenizer.chat_template, else chatml.")
    String chatTemplate;

    @Option(names = "--chat-template-file", paramLabel = "FILE", description = "Chat template from a Jinja file.")
    Path chatTemplateFile;

    @Option(names = "--chat-template-kwargs", paramLabel = "JSON",
            description = "Extra template variables as a JSON object, e.g. '{\"enable_thinking\": false}'.")
    String chatTemplateKwargs;

    /** The chat template these options select for a model. */
    public ChatTemplate load(GgufMetadata metadata, Clock clock) {
        String override = chatTemplateFile != null ? chatTemplateFile.toString() : chatTemplate;
        String source = ChatTemplates.resolveSource(metadata, override);
        String toolUse = ChatTemplates.toolUseSource(metadata, override);
        if (!jinja) {
            String builtin = ChatTemplates.detectBuiltin(source);
            if (builtin == null) {
                throw new TrestleException("this chat template matches no built-in format, so it needs the Jinja engine",
                        "drop --no-jinja, or pass --chat-template with one of " + ChatTemplates.builtinNames());
            }
            source = ChatTemplates.builtinSource(builtin);
            toolUse = null;
        }
        return new ChatTemplate(source, ChatTemplates.specialTokens(metadata), clock, toolUse);
    }

    /** Rendering options with {@code --chat-template-kwargs} applied. */
    public RenderOptions renderOptions() {
        RenderOptions opts = RenderOptions.defaults();
        if (chatTemplateKwargs == null || chatTemplateKwargs.isBlank()) {
            return opts;
        }
        JsonNode kw;
        try {
            kw = JSON.readTree(chatTemplateKwargs);
        } catch (JsonProcessingException e) {
            kw = null;
        }
        if (kw == null || !kw.isObject()) {
            throw new TrestleException("--chat-template-kwargs is not a JSON object: " + chatTemplateKwargs,
                    "pass e.g. --chat-template-kwargs '{\"enable_thinking\": false}'", 2, null);
        }
        Map<String, JsonNode> map = new LinkedHashMap<>();
        kw.fields().forEachRemaining(e -> map.put(e.getKey(), e.getValue()));
        return opts.withKwargs(map);
    }
}
