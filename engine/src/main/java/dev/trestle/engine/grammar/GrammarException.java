package dev.trestle.engine.grammar;

import dev.trestle.common.TrestleException;

/**
 * A grammar or JSON schema the user gave cannot be used; the message names where (line and column, or the
 * schema path) and the problem. The server answers it with HTTP 400.
 */
public final class GrammarException extends TrestleException {
    private final int line;
    private final int column;

    /** A problem at a position in GBNF text (1-based line and column). */
    public GrammarException(int line, int column, String problem) {
        super("invalid grammar at line " + line + ", column " + column + ": " + problem,
                "fix the GBNF grammar (llama.cpp syntax: name ::= alternatives; see grammars/README.md in llama.cpp)");
        this.line = line;
        this.column = column;
    }

    /** A problem that has no single position (e.g. a rule-level property, or a JSON schema). */
    public GrammarException(String message, String fix) {
        super(message, fix);
        this.line = 0;
        this.column = 0;
    }

    /** 1-based line of the problem, or 0 when it has no position. */
    public int line() {
        return line;
    }

    /** 1-based column of the problem, or 0 when it has no position. */
    public int column() {
        return column;
    }
}
