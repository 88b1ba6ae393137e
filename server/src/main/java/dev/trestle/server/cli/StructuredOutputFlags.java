package dev.trestle.server.cli;

import dev.trestle.common.TrestleException;
import dev.trestle.engine.grammar.GbnfParser;
import dev.trestle.engine.grammar.JsonSchemaToGbnf;
import dev.trestle.server.tools.ReasoningFormat;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * llama-server's output-shaping flags: a default grammar or JSON schema, and reasoning handling. Mix in with
 * {@code @Mixin}.
 */
public final class StructuredOutputFlags {

    @Option(names = "--grammar", paramLabel = "GBNF", description = "Constrain output with a GBNF grammar (default for every request).")
    String grammar;

    @Option(names = "--grammar-file", paramLabel = "FILE", description = "Constrain output with the GBNF grammar in FILE.")
    Path grammarFile;

    @Option(names = {"-j", "--json-schema"}, paramLabel = "SCHEMA",
            description = "Constrain output to JSON valid against this schema, e.g. '{\"type\": \"object\"}'.")
    String jsonSchema;

    @Option(names = {"-jf", "--json-schema-file"}, paramLabel = "FILE", description = "Like --json-schema, reading FILE.")
    Path jsonSchemaFile;

    @Option(names = "--reasoning-format", paramLabel = "FORMAT", defaultValue = "auto",
            description = "Where thoughts go: none (left in content), deepseek (reasoning_content), deepseek-legacy"
                    + " (both), auto (= deepseek) (default: ${DEFAULT-VALUE}).")
    String reasoningFormat;

    @Option(names = "--reasoning-budget", paramLabel = "N", defaultValue = "-1",
            description = "Thinking allowed: -1 unrestricted, 0 disables thinking (default: ${DEFAULT-VALUE}).")
    int reasoningBudget;

    /** The default grammar as GBNF text (checked), or null when no flag sets one. */
    public String gbnf() {
        int given = (grammar != null ? 1 : 0) + (grammarFile != null ? 1 : 0) + (jsonSchema != null ? 1 : 0)
                + (jsonSchemaFile != null ? 1 : 0);
        if (given > 1) {
            throw new TrestleException("more than one of --grammar, --grammar-file, --json-schema, --json-schema-file",
                    "pass only one of them", 2, null);
        }
        String gbnf;
        if (grammar != null) {
            gbnf = grammar;
        } else if (grammarFile != null) {
            gbnf = read(grammarFile, "--grammar-file");
        } else if (jsonSchema != null) {
            gbnf = JsonSchemaToGbnf.convert(jsonSchema);
        } else if (jsonSchemaFile != null) {
            gbnf = JsonSchemaToGbnf.convert(read(jsonSchemaFile, "--json-schema-file"));
        } else {
            return null;
        }
        GbnfParser.parse(gbnf); // fail at startup, naming line and column, rather than on every request
        return gbnf;
    }

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

    private static String read(Path file, String flag) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new TrestleException("cannot read " + flag + " " + file + ": " + e.getMessage(),
                    "check the path and its permissions", 2, e);
        }
    }
}
