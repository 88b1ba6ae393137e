package dev.trestle.server.cli;

import dev.trestle.common.TrestleException;
import dev.trestle.server.tools.ReasoningFormat;
import picocli.CommandLine.Option;

/** llama-server's reasoning flags: where a reasoning model's thoughts go, and whether it may think. */
public final class ReasoningFlags {

    @Option(names = "--reasoning-format", paramLabel = "FORMAT", defaultValue = "auto",
            description = "Where thoughts go: none (left in content), deepseek (reasoning_content), deepseek-legacy"
                    + " (both), auto (= deepseek) (default: ${DEFAULT-VALUE}).")
    String reasoningFormat;

    @Option(names = "--reasoning-budget", paramLabel = "N", defaultValue = "-1",
            description = "Thinking allowed: -1 unrestricted, 0 disables thinking (default: ${DEFAULT-VALUE}).")
    int reasoningBudget;

    public ReasoningFormat reasoningFormat() {
        return ReasoningFormat.parse(reasoningFormat);
    }

    /** -1 or 0 (llama-server supports only these two). */
    public int reasoningBudget() {
        if (reasoningBudget != -1 && reasoningBudget != 0) {
            throw new TrestleException("--reasoning-budget " + reasoningBudget + " is not supported",
                    "pass -1 (unrestricted) or 0 (no thinking), as llama-server", 2, null);
        }
        return reasoningBudget;
    }
}
