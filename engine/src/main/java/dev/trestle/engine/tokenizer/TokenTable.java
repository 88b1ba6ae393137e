package dev.trestle.engine.tokenizer;

/**
 * Token text to id lookup that can probe a range of a larger string without allocating a
 * substring (the merge loops look up millions of candidate pieces).
 */
final class TokenTable {
    private final String[] texts;
    private final int[] slots; // id + 1, 0 = empty
    private final int mask;
    private final int maxLength;

    /** Indexes {@code texts}; on duplicate texts the lowest id wins, as in llama.cpp. */
    TokenTable(String[] texts) {
        this.texts = texts;
        int cap = Integer.highestOneBit(Math.max(4, texts.length * 2 - 1)) << 1;
        slots = new int[cap];
        mask = cap - 1;
        int max = 0;
        for (int id = 0; id < texts.length; id++) {
            String t = texts[id];
            max = Math.max(max, t.length());
            int h = mix(t.hashCode()) & mask;
            while (true) {
                int s = slots[h];
                if (s == 0) {
                    slots[h] = id + 1;
                    break;
                }
                if (texts[s - 1].equals(t)) {
                    break; // keep the first id
                }
                h = (h + 1) & mask;
            }
        }
        maxLength = max;
    }

    /** Id of the token whose text equals {@code s}, or -1. */
    int get(String s) {
        return get(s, 0, s.length());
    }

    /** Id of the token whose text equals {@code s[from, to)}, or -1. */
    int get(CharSequence s, int from, int to) {
        if (to - from > maxLength) {
            return -1; // longer than any token: skip hashing (merge loops probe long pieces often)
        }
        int hash = 0;
        for (int i = from; i < to; i++) {
            hash = 31 * hash + s.charAt(i);
        }
        int h = mix(hash) & mask;
        int len = to - from;
        while (true) {
            int slot = slots[h];
            if (slot == 0) {
                return -1;
            }
            String t = texts[slot - 1];
            if (t.length() == len && regionEquals(t, s, from, len)) {
                return slot - 1;
            }
            h = (h + 1) & mask;
        }
    }

    /** Id of the token whose text equals {@code buf[from, to)}, or -1. */
    int get(char[] buf, int from, int to) {
        if (to - from > maxLength) {
            return -1;
        }
        int hash = 0;
        for (int i = from; i < to; i++) {
            hash = 31 * hash + buf[i];
        }
        int h = mix(hash) & mask;
        int len = to - from;
        while (true) {
            int slot = slots[h];
            if (slot == 0) {
                return -1;
            }
            String t = texts[slot - 1];
            if (t.length() == len && regionEquals(t, buf, from, len)) {
                return slot - 1;
            }
            h = (h + 1) & mask;
        }
    }

    private static boolean regionEquals(String t, char[] buf, int from, int len) {
        for (int i = 0; i < len; i++) {
            if (t.charAt(i) != buf[from + i]) {
                return false;
            }
        }
        return true;
    }

    private static boolean regionEquals(String t, CharSequence s, int from, int len) {
        for (int i = 0; i < len; i++) {
            if (t.charAt(i) != s.charAt(from + i)) {
                return false;
            }
        }
        return true;
    }

    private static int mix(int h) {
        h *= 0x9E3779B9;
        return h ^ (h >>> 16);
    }
}
