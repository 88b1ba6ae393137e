package dev.trestle.engine.template;

import dev.trestle.common.TrestleException;

/**
 * A chat template could not be parsed, or refused the conversation (its own
 * {@code raise_exception}, a bad tool call, ...). The server answers HTTP 400 with
 * {@link #getMessage()}; {@link #templateMessage()} is the template's own words.
 */
public final class TemplateException extends TrestleException {
    private final String templateMessage;

    public TemplateException(String message, String templateMessage, String fix) {
        super(message, fix);
        this.templateMessage = templateMessage;
    }

    public TemplateException(String message, String fix) {
        this(message, message, fix);
    }

    /** The error as the template (or the request check) put it, without location or context. */
    public String templateMessage() {
        return templateMessage;
    }
}
