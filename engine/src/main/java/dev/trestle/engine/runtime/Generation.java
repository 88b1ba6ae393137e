package dev.trestle.engine.runtime;

import dev.trestle.common.TrestleException;
import dev.trestle.engine.grammar.GrammarMask;
import dev.trestle.engine.sampling.Sampler;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntPredicate;

/**
 * Generation on one sequence of a context: decodes the prompt in {@code -b} batches, then one token per step,
 * each drawn by a {@link Sampler}, teacher-forced, or (no sampler) the argmax with the lowest id winning ties
 * (llama_sampler_greedy's rule).
 */
public final class Generation {
    /** Receives each generated token as soon as it is chosen. */
    @FunctionalInterface
    public interface TokenListener {
        void onToken(int id);
    }

    /**
     * What a run produced.
     *
     * @param generated  chosen (or fed) ids
     * @param stepLogits logits kept for the first steps (empty unless asked)
     * @param promptMs   prompt processing time
     * @param genMs      generation time
     */
    public record Result(int[] generated, List<float[]> stepLogits, double promptMs, double genMs) {
    }

    private Generation() {
    }

    /** Index of the largest value; ties go to the lowest index. */
    public static int argmax(float[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) {
            if (logits[i] > logits[best]) {
                best = i;
            }
        }
        return best;
    }

    /**
     * Runs {@code nPredict} steps on sequence 0 of {@code ctx} (which must be empty).
     *
     * @param teacher   when not null, these ids are fed instead of the argmax (nPredict = its length)
     * @param keepSteps logits of the first {@code keepSteps} steps are returned
     * @param stop      stops after a token for which this is true (EOG), or null
     */
    public static Result run(Context ctx, int[] prompt, int nPredict, int[] teacher, int keepSteps, IntPredicate stop,
                             TokenListener listener) {
        return run(ctx, prompt, nPredict, teacher, keepSteps, stop, listener, null);
    }

    /**
     * As {@link #run(Context, int[], int, int[], int, IntPredicate, TokenListener)}, choosing each token as the
     * argmax among those {@code grammar} allows (null for none) and stopping once the grammar is complete.
     */
    public static Result run(Context ctx, int[] prompt, int nPredict, int[] teacher, int keepSteps, IntPredicate stop,
                             TokenListener listener, GrammarMask grammar) {
        return run(ctx, prompt, nPredict, teacher, keepSteps, stop, listener, grammar, null);
    }

    /**
     * As above, drawing each token with {@code sampler} (llama.cpp's chain; null = greedy argmax). The sampler's
     * penalty window sees the prompt first, as in llama.cpp; a grammar masks the logits before the chain.
     */
    public static Result run(Context ctx, int[] prompt, int nPredict, int[] teacher, int keepSteps, IntPredicate stop,
                             TokenListener listener, GrammarMask grammar, Sampler sampler) {
        if (sampler != null) {
            sampler.setFilter(grammar == null ? null : grammar::apply);
            for (int t : prompt) {
                sampler.accept(t);
            }
        }
        if (prompt.length == 0) {
            throw new TrestleException("the prompt is empty", "pass a prompt (-p or --prompt-ids)");
        }
        int steps = teacher != null ? teacher.length : nPredict;
        if (prompt.length + steps > ctx.nCtx()) {
            throw new TrestleException("the prompt (" + prompt.length + " tokens) plus " + steps
                    + " generated tokens exceed the context size " + ctx.nCtx(), "raise -c or lower -n");
        }
        long t0 = System.nanoTime();
        int nBatch = ctx.options().nBatch();
        for (int start = 0; start < prompt.length; start += nBatch) {
            int end = Math.min(prompt.length, start + nBatch);
            Batch b = new Batch();
            for (int i = start; i < end; i++) {
                b.add(prompt[i], i, 0, i == prompt.length - 1);
            }
            ctx.decode(b);
        }
        long t1 = System.nanoTime();
        List<float[]> kept = new ArrayList<>();
        int[] out = new int[steps];
        int produced = 0;
        Batch one = new Batch();
        for (int step = 0; step < steps; step++) {
            float[] logits = ctx.logits(ctx.lastOutputIndex());
            if (step < keepSteps) {
                kept.add(logits);
            }
            int next;
            if (teacher != null) {
                next = teacher[step];
            } else if (sampler != null) {
                try {
                    next = sampler.sample(logits);
                } catch (IllegalStateException noneLeft) {
                    throw new TrestleException("no token can follow after " + produced + " generated tokens: "
                            + noneLeft.getMessage(), "check the grammar and --logit-bias settings");
                }
                sampler.accept(next);
                if (grammar != null) {
                    grammar.accept(next);
                }
            } else if (grammar != null) {
                float[] masked = logits.clone();
                grammar.apply(masked);
                next = argmax(masked);
                if (masked[next] == Float.NEGATIVE_INFINITY) {
                    throw new TrestleException("the grammar allows no token after " + produced + " generated tokens",
                            "check the grammar: it must describe text that can be written and ended");
                }
                grammar.accept(next);
            } else {
                next = argmax(logits);
            }
            out[produced++] = next;
            if (listener != null) {
                listener.onToken(next);
            }
            if (teacher == null && stop != null && stop.test(next)) {
                break;
            }
            if (grammar != null && grammar.isFinished()) {
                break;
            }
            if (step + 1 < steps) {
                ctx.decode(one.clear().add(next, prompt.length + step, 0, true));
            }
        }
        long t2 = System.nanoTime();
        return new Result(java.util.Arrays.copyOf(out, produced), kept, (t1 - t0) / 1e6, (t2 - t1) / 1e6);
    }
}
