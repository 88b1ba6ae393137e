package dev.trestle.engine.template;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Map;

/**
 * Per-request rendering choices. {@code enableThinking} is what the template sees as
 * {@code enable_thinking} (llama-server's default, reasoning "auto", passes true);
 * {@code kwargs} are extra template variables ({@code chat_template_kwargs}), which win over
 * everything else.
 */
public record RenderOptions(boolean addGenerationPrompt, boolean enableThinking, Map<String, JsonNode> kwargs) {

    public RenderOptions {
        kwargs = kwargs == null ? Map.of() : Map.copyOf(kwargs);
    }

    /** llama-server's defaults: generation prompt on, thinking on, no extra variables. */
    public static RenderOptions defaults() {
        return new RenderOptions(true, true, Map.of());
    }

    public RenderOptions withAddGenerationPrompt(boolean v) {
        return new RenderOptions(v, enableThinking, kwargs);
    }

    public RenderOptions withEnableThinking(boolean v) {
        return new RenderOptions(addGenerationPrompt, v, kwargs);
    }

    public RenderOptions withKwargs(Map<String, JsonNode> v) {
        return new RenderOptions(addGenerationPrompt, enableThinking, v);
    }
}
