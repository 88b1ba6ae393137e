package dev.trestle.server.tools;

import java.util.List;

/**
 * A chat completion's output split into its parts.
 *
 * @param reasoning the model's thoughts ("" when none)
 * @param content   the answer text ("" when none)
 * @param calls     tool calls, in order
 */
public record ChatOutput(String reasoning, String content, List<ParsedToolCall> calls) {

    public ChatOutput {
        calls = List.copyOf(calls);
    }
}
