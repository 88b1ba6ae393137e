package dev.trestle.engine.tokenizer;

import java.util.Arrays;

/**
 * Min-heap of merge candidates: a 64-bit priority key (rank or negated score in the high half,
 * left symbol index in the low half, so ties go to the leftmost pair) and the pair's length.
 */
final class PairHeap {
    private long[] keys = new long[64];
    private int[] sizes = new int[64];
    private int n;

    void clear() {
        n = 0;
    }

    boolean isEmpty() {
        return n == 0;
    }

    void push(long key, int size) {
        if (n == keys.length) {
            keys = Arrays.copyOf(keys, n * 2);
            sizes = Arrays.copyOf(sizes, n * 2);
        }
        int i = n++;
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            if (keys[parent] <= key) {
                break;
            }
            keys[i] = keys[parent];
            sizes[i] = sizes[parent];
            i = parent;
        }
        keys[i] = key;
        sizes[i] = size;
    }

    /** Key of the smallest entry (call {@link #topSize} before {@link #pop}). */
    long topKey() {
        return keys[0];
    }

    int topSize() {
        return sizes[0];
    }

    void pop() {
        long key = keys[--n];
        int size = sizes[n];
        int i = 0;
        int half = n >>> 1;
        while (i < half) {
            int child = 2 * i + 1;
            if (child + 1 < n && keys[child + 1] < keys[child]) {
                child++;
            }
            if (key <= keys[child]) {
                break;
            }
            keys[i] = keys[child];
            sizes[i] = sizes[child];
            i = child;
        }
        keys[i] = key;
        sizes[i] = size;
    }

    /** Priority key for a BPE merge: lower rank first, then leftmost. */
    static long rankKey(int rank, int left) {
        return ((long) rank << 32) | (left & 0xFFFFFFFFL);
    }

    /** Priority key for an SPM merge: higher score first, then leftmost. */
    static long scoreKey(float score, int left) {
        int bits = Float.floatToIntBits(-score + 0.0f); // +0.0f folds -0.0 into 0.0, as == does in C++
        int sortable = bits ^ ((bits >> 31) & 0x7FFFFFFF);
        return ((long) sortable << 32) | (left & 0xFFFFFFFFL);
    }

    static int left(long key) {
        return (int) key;
    }
}
