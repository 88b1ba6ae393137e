package dev.trestle.engine.grammar;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Grammar-constrained decoding for one sequence: which tokens may come next, applied to the logits before
 * sampling, and advanced by the sampled token.
 *
 * <p>The allowed set comes from walking the {@link VocabTrie} depth-first against the grammar automaton:
 * a prefix that the grammar rejects prunes its whole subtree, so tokens sharing a prefix share the work, and
 * each step of the walk is a memoized transition (an array load for ASCII). Bytes are decoded as UTF-8 along
 * the way; a token may end inside a character when some completion of it is allowed. A subtree whose every
 * byte sequence keeps the state where it is (plain text inside a JSON string) is taken whole, as the
 * contiguous range of tokens below it, without walking it. End-of-generation tokens are allowed exactly
 * when the grammar can end; other byteless tokens never are (llama.cpp's rule).
 * Sets computed at a character boundary are cached per automaton state, so revisiting a state (inside a
 * JSON string, say) costs a copy.
 *
 * <p>Use: each step {@code apply(logits)}, sample, then {@code accept(token)}. Not thread-safe.
 */
public final class GrammarMask {
    private static final float NEG_INF = Float.NEGATIVE_INFINITY;
    private static final int CACHE_ENTRIES = 64;

    private final VocabTrie vocab;
    private final GrammarMatcher matcher;
    private final GrammarStates states;
    private final long[] allowed; // (ceil(vocab / 64)) bitset for the current state
    private boolean allowedValid;
    private boolean ended;
    private final Map<GrammarStates.State, long[]> cache = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<GrammarStates.State, long[]> e) {
            return size() > CACHE_ENTRIES;
        }
    };

    // depth-first walk scratch, one entry per depth (max token length + 1)
    private final int[] walkChild;
    private final GrammarStates.State[] walkState;
    private final int[] walkValue;
    private final int[] walkRemaining;

    /** A mask for {@code grammar} over {@code vocab}, at the start of the grammar. */
    public GrammarMask(Grammar grammar, VocabTrie vocab) {
        this.vocab = vocab;
        this.states = new GrammarStates(grammar);
        this.matcher = new GrammarMatcher(grammar, states);
        this.allowed = new long[(vocab.vocabSize + 63) >>> 6];
        int depth = vocab.maxDepth + 2;
        walkChild = new int[depth];
        walkState = new GrammarStates.State[depth];
        walkValue = new int[depth];
        walkRemaining = new int[depth];
    }

    /** Convenience: builds the trie too (build one {@link VocabTrie} per vocabulary and share it instead). */
    public static GrammarMask of(Grammar grammar, byte[][] tokenBytes, int[] eogIds) {
        return new GrammarMask(grammar, new VocabTrie(tokenBytes, eogIds));
    }

    /** Sets the logit of every token the grammar does not allow next to -inf (ids past the vocabulary too). */
    public void apply(float[] logits) {
        long[] bits = allowed();
        int n = Math.min(logits.length, vocab.vocabSize);
        int words = (n + 63) >>> 6;
        for (int w = 0; w < words; w++) {
            long word = bits[w];
            if (word == -1L) {
                continue;
            }
            int base = w << 6;
            int end = Math.min(base + 64, n);
            if (word == 0) {
                Arrays.fill(logits, base, end, NEG_INF); // most words when few tokens are allowed
                continue;
            }
            for (int t = base; t < end; t++) {
                if ((word >>> (t - base) & 1) == 0) {
                    logits[t] = NEG_INF;
                }
            }
        }
        for (int t = vocab.vocabSize; t < logits.length; t++) {
            logits[t] = NEG_INF;
        }
    }

    /** True when {@code token} may come next. */
    public boolean isAllowed(int token) {
        return token >= 0 && token < vocab.vocabSize && (allowed()[token >>> 6] >>> token & 1) != 0;
    }

    /** Number of tokens allowed next. */
    public int allowedCount() {
        int c = 0;
        for (long w : allowed()) {
            c += Long.bitCount(w);
        }
        return c;
    }

    /**
     * Advances the grammar by a sampled token.
     *
     * @throws IllegalStateException when the grammar does not allow the token (the sampler ignored the mask)
     */
    public void accept(int token) {
        if (ended) {
            throw new IllegalStateException("grammar already ended with an end-of-generation token");
        }
        if (vocab.isEog(token)) {
            if (!matcher.canEnd()) {
                throw new IllegalStateException("end-of-generation token " + token + " before the grammar is complete");
            }
            ended = true;
            allowedValid = false;
            return;
        }
        byte[] b = token >= 0 && token < vocab.vocabSize ? vocab.bytes(token) : new byte[0];
        if (b.length == 0 || !matcher.acceptBytes(b)) {
            throw new IllegalStateException("token " + token + " is not allowed by the grammar here");
        }
        allowedValid = false;
    }

    /** True when the text so far is a complete sentence of the grammar. */
    public boolean canEnd() {
        return matcher.canEnd();
    }

    /** True once nothing but end of generation can follow (or it was accepted). */
    public boolean isFinished() {
        return ended || matcher.isFinished();
    }

    /** The matcher holding this mask's grammar state (advancing it directly bypasses the cache check). */
    public GrammarMatcher matcher() {
        return matcher;
    }

    /** The vocabulary this mask works over. */
    public VocabTrie vocab() {
        return vocab;
    }

    /** The allowed-token bitset for the current state (do not modify). */
    long[] allowed() {
        if (!allowedValid) {
            compute();
            allowedValid = true;
        }
        return allowed;
    }

    /** Recomputes the allowed set by walking the trie, bypassing the per-state cache (for benchmarks). */
    int computeUncached() {
        walk(matcher.state(), matcher.utf8Value(), matcher.utf8Remaining());
        allowedValid = true;
        return allowedCount();
    }

    private void compute() {
        if (ended) {
            Arrays.fill(allowed, 0);
            return;
        }
        boolean boundary = matcher.utf8Remaining() == 0;
        GrammarStates.State start = matcher.state();
        if (boundary) {
            long[] hit = cache.get(start);
            if (hit != null) {
                System.arraycopy(hit, 0, allowed, 0, allowed.length);
                return;
            }
        }
        walk(start, matcher.utf8Value(), matcher.utf8Remaining());
        if (matcher.canEnd()) {
            for (int id : vocab.eogIds) {
                allowed[id >>> 6] |= 1L << id;
            }
        }
        if (boundary) {
            cache.put(start, allowed.clone());
        }
    }

    /** Marks every token whose bytes the grammar accepts from (state, partial UTF-8). Allocation-free once warm. */
    private void walk(GrammarStates.State start, int value0, int remaining0) {
        long[] bits = allowed;
        Arrays.fill(bits, 0);
        final int[] firstChild = vocab.firstChild;
        final int[] nextSibling = vocab.nextSibling;
        final byte[] label = vocab.label;
        final int[] tokBegin = vocab.tokBegin;
        final int[] tokEnd = vocab.tokEnd;
        final int[] sorted = vocab.sortedTokens;
        final int[] descBegin = vocab.descBegin;
        final int[] descEnd = vocab.descEnd;
        final long[] descAscii = vocab.descAscii;
        final boolean[] descNonAscii = vocab.descNonAscii;
        final boolean[] descValidUtf8 = vocab.descValidUtf8;
        final boolean startsOnBoundary = remaining0 == 0;
        final GrammarStates st = states;
        final GrammarStates.State dead = st.dead;
        int[] childIt = walkChild;
        GrammarStates.State[] stateAt = walkState;
        int[] valueAt = walkValue;
        int[] remAt = walkRemaining;

        int depth = 0;
        childIt[0] = firstChild[0];
        stateAt[0] = start;
        valueAt[0] = value0;
        remAt[0] = remaining0;
        while (depth >= 0) {
            int c = childIt[depth];
            if (c < 0) {
                depth--;
                continue;
            }
            childIt[depth] = nextSibling[c];
            int b = label[c] & 0xFF;
            GrammarStates.State s = stateAt[depth];
            int value;
            int rem = remAt[depth];
            if (rem == 0 && b < 0x80) {
                s = st.next(s, b);
                if (s == dead) {
                    continue;
                }
                value = 0;
            } else {
                int next = Utf8Decoder.step(rem, valueAt[depth], b);
                if (next == Utf8Decoder.INVALID) {
                    continue;
                }
                rem = Utf8Decoder.remaining(next);
                value = Utf8Decoder.value(next);
                if (rem == 0) {
                    s = st.next(s, value);
                    if (s == dead) {
                        continue;
                    }
                    value = 0;
                } else if (remAt[depth] == 0
                        ? !st.leadViable(s, b, Utf8Decoder.low(rem, value), Utf8Decoder.high(rem, value))
                        : !st.viable(s, Utf8Decoder.low(rem, value), Utf8Decoder.high(rem, value))) {
                    continue;
                }
            }
            for (int k = tokBegin[c], e = tokEnd[c]; k < e; k++) {
                int id = sorted[k];
                bits[id >>> 6] |= 1L << id;
            }
            if (firstChild[c] < 0) {
                continue;
            }
            if (rem == 0) {
                if (!s.loopsKnown) {
                    st.computeLoops(s);
                }
                // non-ASCII bytes below c are fine when every character loops and the bytes are valid UTF-8
                // (checked from the root, which agrees with this walk only when it started on a boundary)
                boolean highOk = !descNonAscii[c] || s.loopsAllHigh && startsOnBoundary && descValidUtf8[c];
                if (highOk && (descAscii[2 * c] & ~s.loopLo) == 0 && (descAscii[2 * c + 1] & ~s.loopHi) == 0) {
                    // every byte below c keeps the state as it is, so every token below c is allowed
                    for (int k = descBegin[c], e = descEnd[c]; k < e; k++) {
                        int id = sorted[k];
                        bits[id >>> 6] |= 1L << id;
                    }
                    continue;
                }
            }
            depth++;
            childIt[depth] = firstChild[c];
            stateAt[depth] = s;
            valueAt[depth] = value;
            remAt[depth] = rem;
        }
    }
}
