package dev.trestle.server.cli;

import dev.trestle.common.TrestleException;
import dev.trestle.engine.grammar.GbnfParser;
import dev.trestle.engine.grammar.JsonSchemaToGbnf;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** llama.cpp's grammar flags ({@code serve}: the default for every request; {@code run}: the output). Mix in with {@code @Mixin}. */
public final class GrammarFlags {

    @Option(names = "--grammar", paramLabel = "GBNF", description = "Constrain output with a GBNF grammar (default for every request).")
    String grammar;

    @Option(names = "--grammar-file", paramLabel = "FILE", description = "Constrain output with the GBNF grammar in FILE.")
    Path grammarFile;

    @Option(names = {"-j", "--json-schema"}, paramLabel = "SCHEMA",
            description = "Constrain output to JSON valid against this schema, e.g. '{\"type\": \"object\"}'.")
    String jsonSchema;

    @Option(names = {"-jf", "--json-schema-file"}, paramLabel = "FILE", description = "Like --json-schema, reading FILE.")
    Path jsonSchemaFile;

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

    private static String read(Path file, String flag) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new TrestleException("cannot read " + flag + " " + file + ": " + e.getMessage(),
                    "check the path and its permissions", 2, e);
        }
    }
}
