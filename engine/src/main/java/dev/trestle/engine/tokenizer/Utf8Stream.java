package dev.trestle.engine.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Turns a stream of token bytes into text without ever emitting a broken UTF-8 character: bytes of
 * an incomplete sequence are held back until the rest arrives (or {@link #flush} at the end).
 */
public final class Utf8Stream {
    private final ByteArrayOutputStream pending = new ByteArrayOutputStream();

    /** Appends bytes; returns the text that is now complete (possibly empty). */
    public String push(byte[] bytes) {
        pending.writeBytes(bytes);
        byte[] all = pending.toByteArray();
        int complete = completePrefix(all);
        pending.reset();
        pending.write(all, complete, all.length - complete);
        return new String(all, 0, complete, StandardCharsets.UTF_8);
    }

    /** Returns whatever is held back (invalid sequences become U+FFFD). */
    public String flush() {
        byte[] all = pending.toByteArray();
        pending.reset();
        return new String(all, StandardCharsets.UTF_8);
    }

    /** Length of the longest prefix that does not end inside a multi-byte sequence. */
    static int completePrefix(byte[] b) {
        int n = b.length;
        // look back at most 3 bytes for the start of the last sequence
        for (int back = 1; back <= Math.min(3, n); back++) {
            int c = b[n - back] & 0xFF;
            if ((c & 0xC0) == 0x80) {
                continue; // continuation byte: keep looking for the lead
            }
            int need = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 1;
            return back < need ? n - back : n;
        }
        return n;
    }
}
