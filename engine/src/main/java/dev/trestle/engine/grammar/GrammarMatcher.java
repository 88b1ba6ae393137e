package dev.trestle.engine.grammar;

/**
 * Incremental recognizer of a {@link Grammar} over code points or UTF-8 bytes: the state of one constrained
 * generation. Bytes may stop in the middle of a UTF-8 sequence (a token often ends there); the partial
 * sequence is kept and is accepted only while some code point it could still become is allowed.
 *
 * <p>Every accept method either advances and returns true, or returns false and leaves the state unchanged.
 * Not thread-safe.
 */
public final class GrammarMatcher {
    private final Grammar grammar;
    private final GrammarStates states;
    private GrammarStates.State state;
    private int utf8Value; // bits of the pending code point so far
    private int utf8Remaining; // continuation bytes still expected (0 = at a character boundary)

    /** A matcher at the start of {@code grammar}. */
    public GrammarMatcher(Grammar grammar) {
        this(grammar, new GrammarStates(grammar));
    }

    GrammarMatcher(Grammar grammar, GrammarStates states) {
        this.grammar = grammar;
        this.states = states;
        this.state = states.initial;
    }

    public Grammar grammar() {
        return grammar;
    }

    /** Advances over one code point; false (and no change) when the grammar does not allow it here. */
    public boolean accept(int codePoint) {
        if (utf8Remaining != 0) {
            return false;
        }
        GrammarStates.State n = states.next(state, codePoint);
        if (n == states.dead) {
            return false;
        }
        state = n;
        return true;
    }

    /** True when {@code codePoint} may come next (the state is not changed). */
    public boolean canAccept(int codePoint) {
        return utf8Remaining == 0 && states.next(state, codePoint) != states.dead;
    }

    /** True when {@code bytes} may come next (the state is not changed). */
    public boolean canAcceptBytes(byte[] bytes) {
        GrammarStates.State s = state;
        int value = utf8Value;
        int remaining = utf8Remaining;
        boolean ok = acceptBytes(bytes);
        state = s;
        utf8Value = value;
        utf8Remaining = remaining;
        return ok;
    }

    /** Advances over a whole string (all or nothing). */
    public boolean acceptString(String s) {
        GrammarStates.State saved = state;
        int[] cps = s.codePoints().toArray();
        for (int cp : cps) {
            if (!accept(cp)) {
                state = saved;
                return false;
            }
        }
        return true;
    }

    /** Advances over UTF-8 bytes (all or nothing); the bytes may start or end inside a character. */
    public boolean acceptBytes(byte[] bytes) {
        GrammarStates.State s = state;
        int value = utf8Value;
        int remaining = utf8Remaining;
        for (byte raw : bytes) {
            int next = Utf8Decoder.step(remaining, value, raw & 0xFF);
            if (next == Utf8Decoder.INVALID) {
                return false;
            }
            remaining = Utf8Decoder.remaining(next);
            value = Utf8Decoder.value(next);
            if (remaining == 0) {
                s = states.next(s, value);
                if (s == states.dead) {
                    return false;
                }
                value = 0;
            } else if (!states.viable(s, Utf8Decoder.low(remaining, value), Utf8Decoder.high(remaining, value))) {
                return false;
            }
        }
        state = s;
        utf8Value = value;
        utf8Remaining = remaining;
        return true;
    }

    /** True when the input so far is a complete sentence (end of generation may be accepted now). */
    public boolean canEnd() {
        return utf8Remaining == 0 && state.canEnd;
    }

    /** True when nothing more can be accepted (the input is complete and no continuation exists). */
    public boolean isFinished() {
        return utf8Remaining == 0 && state.canEnd && state.stacks.length == 1;
    }

    /** A copy sharing this matcher's memoized automaton (cheap). */
    public GrammarMatcher copy() {
        GrammarMatcher m = new GrammarMatcher(grammar, states);
        m.state = state;
        m.utf8Value = utf8Value;
        m.utf8Remaining = utf8Remaining;
        return m;
    }

    /** Back to the start of the grammar. */
    public void reset() {
        state = states.initial;
        utf8Value = 0;
        utf8Remaining = 0;
    }

    GrammarStates states() {
        return states;
    }

    GrammarStates.State state() {
        return state;
    }

    int utf8Value() {
        return utf8Value;
    }

    int utf8Remaining() {
        return utf8Remaining;
    }

    void set(GrammarStates.State s, int value, int remaining) {
        state = s;
        utf8Value = value;
        utf8Remaining = remaining;
    }
}
