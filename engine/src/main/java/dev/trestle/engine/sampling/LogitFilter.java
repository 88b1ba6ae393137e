package dev.trestle.engine.sampling;

/**
 * A hook that masks logits before the sampler chain runs, e.g. a grammar that allows only tokens
 * continuing a valid parse. Implementations set disallowed entries to {@link Float#NEGATIVE_INFINITY}.
 */
@FunctionalInterface
public interface LogitFilter {
    /**
     * Masks {@code logits} in place ({@code logits.length} is the vocabulary size); the array is the
     * sampler's working copy, never the caller's.
     */
    void apply(float[] logits);
}
