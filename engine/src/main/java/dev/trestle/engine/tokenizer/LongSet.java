package dev.trestle.engine.tokenizer;

import java.util.Arrays;

/** An open-addressing set of longs (no boxing on the lookup path). */
final class LongSet {
    private static final long EMPTY = Long.MIN_VALUE;

    private long[] keys = new long[64];
    private int size;
    private boolean hasEmptyKey;

    LongSet() {
        Arrays.fill(keys, EMPTY);
    }

    void add(long key) {
        if (key == EMPTY) {
            hasEmptyKey = true;
            return;
        }
        if (2 * (size + 1) > keys.length) {
            grow();
        }
        if (insert(keys, key)) {
            size++;
        }
    }

    boolean contains(long key) {
        if (key == EMPTY) {
            return hasEmptyKey;
        }
        int mask = keys.length - 1;
        int h = slot(key, mask);
        while (true) {
            long k = keys[h];
            if (k == key) {
                return true;
            }
            if (k == EMPTY) {
                return false;
            }
            h = (h + 1) & mask;
        }
    }

    private static boolean insert(long[] table, long key) {
        int mask = table.length - 1;
        int h = slot(key, mask);
        while (true) {
            long k = table[h];
            if (k == key) {
                return false;
            }
            if (k == EMPTY) {
                table[h] = key;
                return true;
            }
            h = (h + 1) & mask;
        }
    }

    private void grow() {
        long[] bigger = new long[keys.length * 2];
        Arrays.fill(bigger, EMPTY);
        for (long k : keys) {
            if (k != EMPTY) {
                insert(bigger, k);
            }
        }
        keys = bigger;
    }

    private static int slot(long key, int mask) {
        long h = key * 0x9E3779B97F4A7C15L;
        return (int) (h ^ (h >>> 31)) & mask;
    }
}
