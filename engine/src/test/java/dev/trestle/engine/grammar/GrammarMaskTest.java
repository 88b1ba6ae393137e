package dev.trestle.engine.grammar;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.trestle.testdata.SharedData;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class GrammarMaskTest {
    static VocabBytes gpt2;
    static VocabTrie gpt2Trie;

    @BeforeAll
    static void loadVocab() {
        gpt2 = VocabBytes.load(SharedData.reference("tokenizer/ggml-vocab-gpt-2.gguf"));
        gpt2Trie = new VocabTrie(gpt2.bytes(), gpt2.eog());
    }

    @Test
    void gpt2VocabDecodesToBytes() {
        assertEquals(50257, gpt2.bytes().length);
        assertArrayEquals(new int[] {50256}, gpt2.eog());
        // Ġ is the byte-level stand-in for a space
        int withSpace = 0;
        for (byte[] b : gpt2.bytes()) {
            if (b.length > 1 && b[0] == ' ') {
                withSpace++;
            }
        }
        assertTrue(withSpace > 20000, "tokens with a leading space: " + withSpace);
    }

    /** The trie walk must allow exactly the tokens a one-by-one check of every token allows. */
    private static void assertMaskMatchesBruteForce(GrammarMask mask) {
        GrammarMatcher m = mask.matcher();
        int allowed = 0;
        for (int tok = 0; tok < gpt2.bytes().length; tok++) {
            final int t = tok;
            boolean expect;
            if (gpt2Trie.isEog(t)) {
                expect = m.canEnd();
            } else {
                byte[] b = gpt2.bytes()[t];
                expect = b.length > 0 && m.copy().acceptBytes(b);
            }
            assertEquals(expect, mask.isAllowed(t), () -> "token " + t + " '"
                    + new String(gpt2.bytes()[t], StandardCharsets.UTF_8) + "'");
            allowed += expect ? 1 : 0;
        }
        assertEquals(allowed, mask.allowedCount());
    }

    @Test
    void maskEqualsBruteForceAlongRandomJsonWalks() {
        Grammar g = Grammars.load("json");
        for (int seed = 0; seed < 3; seed++) {
            Random rnd = new Random(seed);
            GrammarMask mask = new GrammarMask(g, gpt2Trie);
            java.io.ByteArrayOutputStream text = new java.io.ByteArrayOutputStream();
            for (int step = 0; step < 60; step++) {
                if (mask.allowedCount() == 0) {
                    throw new AssertionError("no token allowed after: " + text.toString(StandardCharsets.UTF_8));
                }
                if (step % 6 == 0) {
                    assertMaskMatchesBruteForce(mask);
                }
                int t = sampleAllowed(mask, rnd);
                if (gpt2Trie.isEog(t)) {
                    break;
                }
                mask.accept(t);
                text.writeBytes(gpt2.bytes()[t]);
            }
        }
    }

    @Test
    void maskEqualsBruteForceForSchemaAndMultiByteGrammars() {
        Grammar[] grammars = {JsonSchemaToGbnf.toGrammar(ConstrainedSamplingTest.PERSON), Grammars.load("japanese"),
            Grammars.load("chess")};
        for (Grammar g : grammars) {
            Random rnd = new Random(7);
            GrammarMask mask = new GrammarMask(g, gpt2Trie);
            for (int step = 0; step < 40 && !mask.isFinished(); step++) {
                if (step % 4 == 0) {
                    assertMaskMatchesBruteForce(mask);
                }
                mask.accept(sampleAllowed(mask, rnd));
            }
        }
    }

    @Test
    void spmVocabularyWithByteFallbackTokens() {
        // Llama-2 SentencePiece: U+2581 pieces become spaces, <0xHH> tokens single bytes
        VocabBytes spm = VocabBytes.load(SharedData.reference("tokenizer/ggml-vocab-llama-spm.gguf"));
        VocabTrie trie = new VocabTrie(spm.bytes(), spm.eog());
        Grammar g = Grammars.load("japanese");
        Random rnd = new Random(3);
        GrammarMask mask = new GrammarMask(g, trie);
        for (int step = 0; step < 30 && !mask.isFinished(); step++) {
            GrammarMatcher m = mask.matcher();
            int expected = 0;
            for (int t = 0; t < spm.bytes().length; t++) {
                boolean ok = trie.isEog(t) ? m.canEnd() : spm.bytes()[t].length > 0 && m.copy().acceptBytes(spm.bytes()[t]);
                assertEquals(ok, mask.isAllowed(t), "token " + t);
                expected += ok ? 1 : 0;
            }
            assertEquals(expected, mask.allowedCount());
            mask.accept(sampleAllowed(mask, rnd));
        }
    }

    @Test
    void tokensEndingInsideACharacter() {
        // "é" is C3 A9 and "日" is E6 97 A5 in UTF-8; GPT-2 has tokens for partial sequences
        Grammar g = GbnfParser.parse("root ::= \"[\" [é日]+ \"]\"");
        GrammarMask mask = new GrammarMask(g, gpt2Trie);
        mask.accept(token("["));
        int lead = token(new byte[] {(byte) 0xE6});
        assertTrue(mask.isAllowed(lead));
        assertFalse(mask.isAllowed(token(new byte[] {(byte) 0xE5}))); // U+5000..U+5FFF: no allowed char
        mask.accept(lead);
        assertFalse(mask.canEnd());
        assertMaskMatchesBruteForce(mask);
        assertTrue(mask.isAllowed(token(new byte[] {(byte) 0x97})));
        assertFalse(mask.isAllowed(token("]")));
        mask.accept(token(new byte[] {(byte) 0x97}));
        mask.accept(token(new byte[] {(byte) 0xA5}));
        mask.accept(token("]"));
        assertTrue(mask.canEnd());
        assertTrue(mask.isFinished());
        assertEquals(1, mask.allowedCount()); // only end of generation
        assertTrue(mask.isAllowed(50256));
    }

    @Test
    void applySetsDisallowedLogitsToMinusInfinity() {
        Grammar g = GbnfParser.parse("root ::= \"yes\" | \"no\"");
        GrammarMask mask = new GrammarMask(g, gpt2Trie);
        float[] logits = new float[gpt2.bytes().length + 7]; // padded output rows exist in some models
        mask.apply(logits);
        int finite = 0;
        for (int t = 0; t < logits.length; t++) {
            if (logits[t] != Float.NEGATIVE_INFINITY) {
                finite++;
                String piece = new String(gpt2.bytes()[t], StandardCharsets.UTF_8);
                assertTrue("yes".startsWith(piece) || "no".startsWith(piece),
                        t + " " + java.util.Arrays.toString(gpt2.bytes()[t]));
            }
        }
        assertEquals(mask.allowedCount(), finite);
        float[] shortLogits = new float[100]; // fewer rows than the vocabulary: only those are masked
        mask.apply(shortLogits);
        for (int t = 0; t < shortLogits.length; t++) {
            assertEquals(mask.isAllowed(t), shortLogits[t] == 0f, "token " + t);
        }
        assertTrue(finite >= 4, "y, ye, yes, n, no ... allowed: " + finite);
        assertThrows(IllegalStateException.class, () -> mask.accept(token("maybe")));
        assertThrows(IllegalStateException.class, () -> mask.accept(50256)); // cannot end yet
        mask.accept(token("yes"));
        assertTrue(mask.canEnd());
        mask.accept(50256);
        assertTrue(mask.isFinished());
    }

    @Test
    void trieFromATokenizerLeavesControlTokensOut() {
        // the real Llama-2 SentencePiece vocabulary: <s> (1) is a control token, </s> (2) ends generation
        dev.trestle.engine.tokenizer.Tokenizer spm;
        try (dev.trestle.engine.gguf.GgufFile f = dev.trestle.engine.gguf.GgufFile.open(
                dev.trestle.testdata.SharedData.reference("tokenizer/ggml-vocab-llama-spm.gguf"))) {
            spm = dev.trestle.engine.tokenizer.Tokenizer.fromGguf(f.metadata());
        }
        assertTrue(spm.isControl(1));
        assertTrue(spm.isEog(2));
        VocabTrie trie = VocabTrie.of(spm);
        assertTrue(trie.isEog(2));
        assertFalse(trie.isEog(1));
        GrammarMask mask = new GrammarMask(GbnfParser.parse("root ::= [^\\x00]*"), trie);
        assertFalse(mask.isAllowed(1)); // control: never, whatever its text
        assertTrue(mask.isAllowed(2)); // EOG: the grammar can end
        int hello = spm.encode("hello", false, false)[0];
        assertTrue(mask.isAllowed(hello));
    }

    static int sampleAllowed(GrammarMask mask, Random rnd) {
        int n = mask.allowedCount();
        assertTrue(n > 0, "the grammar left no token");
        int pick = rnd.nextInt(n);
        long[] bits = mask.allowed();
        for (int w = 0; w < bits.length; w++) {
            int c = Long.bitCount(bits[w]);
            if (pick < c) {
                long word = bits[w];
                for (int i = 0; i < pick; i++) {
                    word &= word - 1;
                }
                return (w << 6) + Long.numberOfTrailingZeros(word);
            }
            pick -= c;
        }
        throw new AssertionError("unreachable");
    }

    static int token(String s) {
        return token(s.getBytes(StandardCharsets.UTF_8));
    }

    static int token(byte[] b) {
        for (int t = 0; t < gpt2.bytes().length; t++) {
            if (java.util.Arrays.equals(gpt2.bytes()[t], b)) {
                return t;
            }
        }
        throw new AssertionError("no gpt-2 token for " + java.util.Arrays.toString(b));
    }
}
