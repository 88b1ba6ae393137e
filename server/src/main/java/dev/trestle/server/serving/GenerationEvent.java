package dev.trestle.server.serving;

import dev.trestle.engine.sampling.TokenProb;
import java.util.List;

/** What the serving loop reports to the request handler, in order: pieces, then one Done or Failed. */
public sealed interface GenerationEvent {

    /**
     * Generated text that may be sent now (complete UTF-8, stop strings held back).
     *
     * @param text    the text (may be empty when a token's bytes are held back)
     * @param tokens  the token ids this piece covers
     * @param probs   for logprobs: per token, the chosen token first, then the top alternatives
     */
    record Piece(String text, int[] tokens, List<List<TokenProb>> probs) implements GenerationEvent {
    }

    /** The generation ended. */
    record Done(FinishReason reason, String stoppingWord, Usage usage, float[] embedding) implements GenerationEvent {
    }

    /** The generation failed; the message is safe to show the client. */
    record Failed(int status, String message) implements GenerationEvent {
    }

    /**
     * Token counts and timings of one generation.
     *
     * @param promptTokens    tokens in the prompt
     * @param cachedTokens    prompt tokens reused from the slot's cache
     * @param generatedTokens tokens generated
     * @param promptMs        time to process the uncached prompt tokens
     * @param generationMs    time from the first to the last generated token
     * @param slot            the slot that ran it
     */
    record Usage(int promptTokens, int cachedTokens, int generatedTokens, double promptMs, double generationMs,
                 int slot) {
    }
}
