package dev.trestle.engine.runtime;

import java.util.Arrays;

/**
 * Tokens to decode in one call, like llama_batch: each entry is (token, position, sequence, wants logits).
 * Entries of several sequences may be mixed (continuous batching).
 */
public final class Batch {
    private int[] tokens = new int[16];
    private int[] pos = new int[16];
    private int[] seq = new int[16];
    private boolean[] logits = new boolean[16];
    private int size;

    /** Appends one entry. */
    public Batch add(int token, int position, int seqId, boolean wantLogits) {
        if (size == tokens.length) {
            int cap = size * 2;
            tokens = Arrays.copyOf(tokens, cap);
            pos = Arrays.copyOf(pos, cap);
            seq = Arrays.copyOf(seq, cap);
            logits = Arrays.copyOf(logits, cap);
        }
        tokens[size] = token;
        pos[size] = position;
        seq[size] = seqId;
        logits[size] = wantLogits;
        size++;
        return this;
    }

    /** A batch of {@code ids} at positions {@code start..} of sequence {@code seqId}, logits for the last only. */
    public static Batch ofPrompt(int[] ids, int start, int seqId) {
        Batch b = new Batch();
        for (int i = 0; i < ids.length; i++) {
            b.add(ids[i], start + i, seqId, i == ids.length - 1);
        }
        return b;
    }

    public Batch clear() {
        size = 0;
        return this;
    }

    public int size() {
        return size;
    }

    public int token(int i) {
        return tokens[i];
    }

    public int pos(int i) {
        return pos[i];
    }

    public int seq(int i) {
        return seq[i];
    }

    public boolean wantsLogits(int i) {
        return logits[i];
    }
}
