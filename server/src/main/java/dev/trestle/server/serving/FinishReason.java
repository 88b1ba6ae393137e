package dev.trestle.server.serving;

/** Why a generation ended. */
public enum FinishReason {
    /** An end-of-generation token. */
    EOS("stop"),
    /** A stop string. */
    STOP_WORD("stop"),
    /** max_tokens reached or the slot's context is full. */
    LENGTH("length"),
    /** The client went away or the server is shutting down. */
    CANCELLED("stop");

    private final String openAi;

    FinishReason(String openAi) {
        this.openAi = openAi;
    }

    /** The OpenAI {@code finish_reason}. */
    public String openAi() {
        return openAi;
    }
}
