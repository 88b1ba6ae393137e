package dev.trestle.engine.gguf;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;

/**
 * The strings of a GGUF string array kept as their wire bytes (one bulk copy) and decoded on first
 * use, so that reading a header with a 150k-token vocabulary costs one pass over the lengths, and
 * {@code trestle inspect} never builds 300k String objects it does not print.
 */
final class PackedStrings {
    private final int count;
    private byte[] wire;          // the array's bytes as in the file: (u64 length, bytes) per string
    private final int[] starts;   // (count) offset of each string's first byte in wire
    private String[] decoded;

    /** {@code wire} holds {@code count} length-prefixed strings beginning at the given offsets. */
    PackedStrings(MemorySegment wire, int[] starts) {
        this.count = starts.length;
        this.wire = wire.toArray(ValueLayout.JAVA_BYTE);
        this.starts = starts;
    }

    int count() {
        return count;
    }

    /** String {@code i}, decoding only that one unless everything is decoded already. */
    synchronized String get(int i) {
        if (decoded != null) {
            return decoded[i];
        }
        return decode(i);
    }

    /** All strings (decoded once; the wire bytes are dropped afterwards). */
    synchronized String[] strings() {
        if (decoded == null) {
            String[] s = new String[count];
            for (int i = 0; i < count; i++) {
                s[i] = decode(i);
            }
            decoded = s;
            wire = null;
        }
        return decoded;
    }

    private String decode(int i) {
        int start = starts[i];
        // each string ends where the next one's 8-byte length begins
        int end = i + 1 < count ? starts[i + 1] - 8 : wire.length;
        int len = end - start;
        // malformed UTF-8 becomes U+FFFD, as in any Java text decoding; llama.cpp keeps raw bytes
        return new String(wire, start, len, StandardCharsets.UTF_8);
    }
}
