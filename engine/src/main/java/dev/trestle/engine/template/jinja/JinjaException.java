package dev.trestle.engine.template.jinja;

/**
 * A template failed to parse or render. {@link #position()} is the offset in the template source
 * of the construct that failed (-1 when unknown); {@link #raised()} marks the template's own
 * {@code raise_exception(...)}.
 */
public final class JinjaException extends RuntimeException {
    private int position;
    private final boolean raised;

    public JinjaException(String message, int position) {
        this(message, position, false);
    }

    JinjaException(String message, int position, boolean raised) {
        super(message);
        this.position = position;
        this.raised = raised;
    }

    /** Offset in the template source, or -1. */
    public int position() {
        return position;
    }

    /** True when the template itself called {@code raise_exception}. */
    public boolean raised() {
        return raised;
    }

    /** Attaches a position if none is known yet (the innermost construct wins). */
    JinjaException at(int pos) {
        if (position < 0) {
            position = pos;
        }
        return this;
    }
}
