package dev.trestle.engine.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Partial UTF-8 sequences are held back until complete. */
class Utf8StreamTest {

    @Test
    void holdsBackIncompleteCharactersByteByByte() {
        String text = "a\u00e9\u4f60\ud83d\ude00z"; // 1, 2, 3 and 4-byte characters
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        Utf8Stream s = new Utf8Stream();
        StringBuilder out = new StringBuilder();
        StringBuilder emitted = new StringBuilder();
        for (byte b : bytes) {
            String piece = s.push(new byte[] {b});
            emitted.append(piece.isEmpty() ? "." : "|" + piece);
            out.append(piece);
        }
        out.append(s.flush());
        assertEquals(text, out.toString());
        // each character appears exactly when its last byte arrives
        assertEquals("|a.|\u00e9..|\u4f60...|\ud83d\ude00|z", emitted.toString());
    }

    @Test
    void flushReplacesATruncatedTail() {
        Utf8Stream s = new Utf8Stream();
        assertEquals("ok", s.push(new byte[] {'o', 'k', (byte) 0xE4, (byte) 0xBD}));
        assertEquals("\uFFFD", s.flush());
        assertEquals("", s.flush());
    }

    @Test
    void invalidBytesDoNotStallTheStream() {
        Utf8Stream s = new Utf8Stream();
        // a stray continuation byte is not the start of anything: it is passed on (as U+FFFD)
        assertEquals("\uFFFDx", s.push(new byte[] {(byte) 0x80, 'x'}));
        // a lead byte followed by ASCII can never complete
        assertEquals("\uFFFDy", s.push(new byte[] {(byte) 0xE4, 'y'}));
    }
}
