package dev.trestle.engine.template;

/**
 * What a chat template can express, found by rendering probe conversations (as llama.cpp does):
 * the server uses it to adapt requests (merge a system message, parse tool arguments) and to
 * report {@code chat_template_caps}.
 */
public record TemplateCaps(
        boolean supportsStringContent,
        boolean supportsTypedContent,
        boolean supportsSystemRole,
        boolean supportsTools,
        boolean supportsToolCalls,
        boolean supportsParallelToolCalls,
        boolean supportsObjectArguments,
        boolean supportsPreserveReasoning,
        /** The prompt reacts to {@code enable_thinking} (or the template has reasoning channels). */
        boolean supportsThinking) {
}
