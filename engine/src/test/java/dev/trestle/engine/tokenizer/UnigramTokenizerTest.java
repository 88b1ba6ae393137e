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
 * The unigram (T5) Viterbi search on a small vocabulary whose best segmentations are worked out by
 * hand from the scores.
 */
class UnigramTokenizerTest {
    static final String[] TOKENS = {"<pad>", "</s>", "<unk>", "\u2581", "\u2581ab", "a", "b", "\u2581a", "<x>"};
    static final float[] SCORES = {0, 0, 0, -2f, -1.6f, -1f, -1f, -0.5f, 0};
    static final int[] TYPES = {3, 3, 2, 1, 1, 1, 1, 1, 4};

    static Tokenizer t5(boolean addSpacePrefix) {
        Map<String, GgufValue> kv = new LinkedHashMap<>();
        kv.put("tokenizer.ggml.model", GgufValue.ofString("t5"));
        kv.put("tokenizer.ggml.tokens", GgufValue.ofArray(new GgufValue.GgufArray(GgufValueType.STRING, TOKENS)));
        kv.put("tokenizer.ggml.scores", GgufValue.ofArray(new GgufValue.GgufArray(GgufValueType.FLOAT32, SCORES)));
        kv.put("tokenizer.ggml.token_type", GgufValue.ofArray(new GgufValue.GgufArray(GgufValueType.INT32, TYPES)));
        kv.put("tokenizer.ggml.add_space_prefix", GgufValue.ofBool(addSpacePrefix));
        kv.put("tokenizer.ggml.remove_extra_whitespaces", GgufValue.ofBool(true));
        return Tokenizer.fromGguf(new GgufMetadata(kv));
    }

    @Test
    void picksTheHighestScoringSegmentation() {
        Tokenizer t = t5(true);
        // "▁ab": ▁ab = -1.6, ▁a + b = -1.5 (best), ▁ + a + b = -4
        assertArrayEquals(new int[] {7, 6}, t.encode("ab", false, false));
        // EOS is added for T5, BOS is not
        assertArrayEquals(new int[] {7, 6, 1}, t.encode("ab", true, false));
        // extra spaces merge into one U+2581 before each word
        assertArrayEquals(new int[] {7, 6, 7}, t.encode("ab   a", false, false));
    }

    @Test
    void unknownCharactersCollapseIntoOneUnknownToken() {
        Tokenizer t = t5(true);
        assertArrayEquals(new int[] {7, 2}, t.encode("acc", false, false));
        assertArrayEquals(new int[] {7, 2, 6}, t.encode("a\u4f60\u597db", false, false));
    }

    @Test
    void userDefinedTokensScoreZeroAndAreSplitOut() {
        Tokenizer t = t5(false);
        // remove_extra_whitespaces puts U+2581 before every word even without add_space_prefix
        assertArrayEquals(new int[] {8, 7, 6}, t.encode("<x>ab", false, false));
        assertEquals("ab", t.decode(new int[] {5, 6}, false));
    }
}
