package dev.trestle.engine.tokenizer;

import java.util.HashMap;
import java.util.Map;

/**
 * BPE merge ranks keyed by the two token ids (an open-addressing long map), each with the id of
 * the merged token, so the merge loop never builds strings. Merges whose parts are not tokens
 * themselves are kept by text.
 */
final class MergeTable {
    private static final long EMPTY = -1L;

    private final long[] keys;
    private final long[] values; // rank << 32 | merged id (or 0xFFFFFFFF when the result is no token)
    private final int mask;
    private final Map<String, Integer> byText = new HashMap<>();
    private final int count;

    MergeTable(String[] merges, TokenTable table) {
        int cap = Integer.highestOneBit(Math.max(4, merges.length * 2 - 1)) << 1;
        keys = new long[cap];
        values = new long[cap];
        java.util.Arrays.fill(keys, EMPTY);
        mask = cap - 1;
        int n = 0;
        for (int rank = 0; rank < merges.length; rank++) {
            String m = merges[rank];
            int sp = m.indexOf(' ', 1);
            if (sp < 0) {
                continue; // llama.cpp files such a line under ("", ""), which never matches
            }
            String left = m.substring(0, sp);
            String right = m.substring(sp + 1);
            int l = table.get(left);
            int r = table.get(right);
            if (l >= 0 && r >= 0) {
                if (putIfAbsent(pairKey(l, r), ((long) rank << 32) | (table.get(left + right) & 0xFFFFFFFFL))) {
                    n++;
                }
            } else {
                byText.putIfAbsent(left + ' ' + right, rank);
            }
        }
        count = n + byText.size();
    }

    int size() {
        return count;
    }

    boolean hasTextMerges() {
        return !byText.isEmpty();
    }

    /** rank << 32 | merged id for the pair of token ids, or -1 when they do not merge. */
    long find(int left, int right) {
        long key = pairKey(left, right);
        int h = slot(key);
        while (true) {
            long k = keys[h];
            if (k == key) {
                return values[h];
            }
            if (k == EMPTY) {
                return -1;
            }
            h = (h + 1) & mask;
        }
    }

    /** The rank of a merge between texts that are not both tokens, or -1. */
    int findText(String left, String right) {
        Integer r = byText.get(left + ' ' + right);
        return r == null ? -1 : r;
    }

    private boolean putIfAbsent(long key, long value) {
        int h = slot(key);
        while (true) {
            long k = keys[h];
            if (k == key) {
                return false; // the first (lowest) rank wins
            }
            if (k == EMPTY) {
                keys[h] = key;
                values[h] = value;
                return true;
            }
            h = (h + 1) & mask;
        }
    }

    private static long pairKey(int l, int r) {
        return ((long) l << 32) | (r & 0xFFFFFFFFL);
    }

    private int slot(long key) {
        long h = key * 0x9E3779B97F4A7C15L;
        return (int) (h ^ (h >>> 29)) & mask;
    }
}
