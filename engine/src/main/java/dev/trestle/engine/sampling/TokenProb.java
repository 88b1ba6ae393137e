package dev.trestle.engine.sampling;

/** One candidate token with its probability and natural-log probability. */
public record TokenProb(int token, float prob, float logprob) {
}
