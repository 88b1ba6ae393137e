package dev.trestle.common;

/**
 * A user-facing failure: says what went wrong and how to fix it.
 *
 * <p>The CLI prints {@link #getMessage()} and, when present, a {@code fix:} line with {@link #fix()},
 * then exits with {@link #exitCode()}. The HTTP server turns it into an OpenAI error object.
 */
public class TrestleException extends RuntimeException {
    private final String fix;
    private final int exitCode;

    public TrestleException(String message) {
        this(message, null, 1, null);
    }

    public TrestleException(String message, String fix) {
        this(message, fix, 1, null);
    }

    public TrestleException(String message, String fix, int exitCode, Throwable cause) {
        super(message, cause);
        this.fix = fix;
        this.exitCode = exitCode;
    }

    /** How the user can fix it, or null when there is nothing to suggest. */
    public String fix() {
        return fix;
    }

    /** Process exit code the CLI uses for this failure. */
    public int exitCode() {
        return exitCode;
    }
}
