package dev.trestle.server.serving;

import dev.trestle.engine.grammar.GrammarMask;
import dev.trestle.engine.sampling.Sampler;
import dev.trestle.engine.tokenizer.Utf8Stream;
import java.util.Arrays;

/** One of the {@code -np} parallel sequences: its cached tokens and the job it is running. */
final class Slot {
    enum State { IDLE, PROMPT, GENERATING }

    final int id;
    /** Tokens whose K/V are in the cache for this sequence, in position order. */
    int[] cached = new int[64];
    int nCached;
    State state = State.IDLE;
    long lastUsedNanos;

    Job job;
    Sampler sampler;
    GrammarMask constraint; // null when the request has no grammar (or a lazy one not triggered yet)
    java.io.ByteArrayOutputStream untriggered; // output bytes while a lazy grammar waits for its trigger, else null
    Utf8Stream utf8;
    StopMatcher stops;
    int[] prompt;
    int promptNext;       // next prompt index to feed
    int reusedPrefix;
    int lastToken;
    int generated;
    long promptStartNanos;
    long promptEndNanos;
    long lastTokenNanos;

    Slot(int id) {
        this.id = id;
    }

    int commonPrefix(int[] ids) {
        int n = Math.min(nCached, ids.length);
        int i = 0;
        while (i < n && cached[i] == ids[i]) {
            i++;
        }
        return i;
    }

    void truncate(int n) {
        nCached = Math.min(nCached, n);
    }

    void append(int token) {
        if (nCached == cached.length) {
            cached = Arrays.copyOf(cached, cached.length * 2);
        }
        cached[nCached++] = token;
    }

    boolean busy() {
        return state != State.IDLE;
    }

    void release() {
        state = State.IDLE;
        job = null;
        sampler = null;
        constraint = null;
        untriggered = null;
        utf8 = null;
        stops = null;
        prompt = null;
        lastUsedNanos = System.nanoTime();
    }
}
