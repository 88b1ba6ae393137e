package dev.trestle.engine.tokenizer;

import java.util.Arrays;

/** A growable list of ints (token ids, offsets) without boxing. */
final class IntList {
    private int[] data;
    private int size;

    IntList() {
        this(16);
    }

    IntList(int capacity) {
        data = new int[Math.max(4, capacity)];
    }

    void add(int v) {
        if (size == data.length) {
            data = Arrays.copyOf(data, data.length * 2);
        }
        data[size++] = v;
    }

    void addAll(int[] values) {
        for (int v : values) {
            add(v);
        }
    }

    int get(int i) {
        return data[i];
    }

    int size() {
        return size;
    }

    void truncate(int newSize) {
        size = newSize;
    }

    int[] toArray() {
        return Arrays.copyOf(data, size);
    }
}
