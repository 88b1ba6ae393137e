package dev.trestle.engine.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.trestle.engine.gguf.GgufMetadata;
import dev.trestle.engine.gguf.GgufValue;
import dev.trestle.engine.gguf.GgufValueType;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * SentencePiece-style BPE (Gemma 4's {@code gemma4} model): spaces become U+2581, merges run on raw
 * UTF-8 in rank order, pieces that are no token fall back to {@code <0xXX>} byte tokens. The
 * vocabulary is small enough to follow every merge by hand.
 */
class SentencePieceBpeTest {
    static final String[] TOKENS = {"<pad>", "<bos>", "<eos>", "<0x0A>", "<0xE4>", "<0xBD>", "<0xA0>",
        "\u2581", "h", "e", "l", "o", "he", "ll", "\u2581he", "\u2581hell"};
    static final int[] TYPES = {3, 3, 3, 6, 6, 6, 6, 1, 1, 1, 1, 1, 1, 1, 1, 1};
    static final String[] MERGES = {"h e", "l l", "\u2581 he", "\u2581he ll"};

    static Tokenizer gemma4() {
        Map<String, GgufValue> kv = new LinkedHashMap<>();
        kv.put("tokenizer.ggml.model", GgufValue.ofString("gemma4"));
        kv.put("tokenizer.ggml.tokens", GgufValue.ofArray(new GgufValue.GgufArray(GgufValueType.STRING, TOKENS)));
        kv.put("tokenizer.ggml.token_type", GgufValue.ofArray(new GgufValue.GgufArray(GgufValueType.INT32, TYPES)));
        kv.put("tokenizer.ggml.merges", GgufValue.ofArray(new GgufValue.GgufArray(GgufValueType.STRING, MERGES)));
        kv.put("tokenizer.ggml.bos_token_id", GgufValue.ofUint32(1));
        kv.put("tokenizer.ggml.eos_token_id", GgufValue.ofUint32(2));
        return Tokenizer.fromGguf(new GgufMetadata(kv));
    }

    @Test
    void mergesInRankOrderWithByteFallback() {
        Tokenizer t = gemma4();
        // "hello": h+e (rank 0), l+l (rank 1); "he"+"ll" is no merge
        // "\n" is no token: <0x0A>; "你" is no token: its three UTF-8 bytes
        assertArrayEquals(new int[] {12, 13, 11, 3, 4, 5, 6}, t.encode("hello\n\u4f60", false, false));
        // " hello" -> "▁hello": h+e, l+l, ▁+he, ▁he+ll
        assertArrayEquals(new int[] {15, 11}, t.encode(" hello", false, false));
    }

    @Test
    void alwaysAddsBosAndUnescapesSpaces() {
        Tokenizer t = gemma4();
        assertArrayEquals(new int[] {1, 15, 11}, t.encode(" hello", true, false));
        assertEquals("<bos> hello", t.decode(new int[] {1, 15, 11}, false));
        assertEquals(" hello\n\u4f60", t.decode(new int[] {15, 11, 3, 4, 5, 6}, true));
    }
}
