package dev.trestle.engine.grammar;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class GrammarMatcherTest {

    private static void accepts(Grammar g, String s) {
        assertTrue(g.matches(s), () -> "should accept: " + s);
    }

    private static void rejects(Grammar g, String s) {
        assertFalse(g.matches(s), () -> "should reject: " + s);
    }

    @Test
    void arithmetic() {
        Grammar g = Grammars.load("arithmetic");
        accepts(g, "1+2=3\n");
        accepts(g, "x = 5\n(a +b) *c=d\n");
        accepts(g, "( x1 )/y_2=7\n");
        rejects(g, "1+2=3"); // missing newline
        rejects(g, "1+=3\n");
        rejects(g, "(1+2=3\n"); // unbalanced
        rejects(g, "=3\n");
        rejects(g, "1+2=3+4\n"); // right side is a single term
        rejects(g, "Abc=1\n"); // identifiers are lower case
        rejects(g, "");
    }

    @Test
    void json() {
        Grammar g = Grammars.load("json");
        accepts(g, "{}");
        accepts(g, "{\"a\": 1, \"b\": [true, false, null, -0.5e10, \"x\\n\\u00e9\"]}");
        accepts(g, "{\"nested\": {\"deep\": [[], {}, [1, [2, [3]]]]}}");
        accepts(g, "{\"k\":\n  \"v\"}");
        accepts(g, "{\"unicode\": \"héllo wörld 日本 😀\"}");
        rejects(g, "[]"); // root is an object
        rejects(g, "{\"a\" 1}");
        rejects(g, "{\"a\": 1,}");
        rejects(g, "{\"a\": tru}");
        rejects(g, "{\"a\": \"unterminated}");
        rejects(g, "{\"a\": \"bad \\x escape\"}");
        rejects(g, "{\"a\": \"raw \u0001 control\"}");
        rejects(g, "{\"a\": 01}");
        rejects(g, "{} {}");
    }

    @Test
    void list() {
        Grammar g = Grammars.load("list");
        accepts(g, "- one\n");
        accepts(g, "- one\n- two words\n- trois élément\n");
        rejects(g, "- \n"); // an item needs text
        rejects(g, "one\n");
        rejects(g, "- one");
        rejects(g, "- one\u2028two\n"); // line separator inside an item
        rejects(g, "");
    }

    @Test
    void chess() {
        Grammar g = Grammars.load("chess");
        accepts(g, "1. e4 e5\n2. Nf3 Nc6\n");
        accepts(g, "1. e4 e5\n2. Nf3 Nc6\n3. Bb5 a6\n4. O-O Nf6\n5. exd5 Qxd5+\n10. e8=Q Kxe8#\n");
        accepts(g, "1. d4 d5\n2. O-O-O Rad1\n");
        rejects(g, "1. e4 e5\n"); // at least two move pairs
        rejects(g, "1. e9 e5\n2. Nf3 Nc6\n"); // rank 9
        rejects(g, "1. e4 e5\n2. Zf3 Nc6\n"); // no such piece
        rejects(g, "1. e4 e5\n0. Nf3 Nc6\n"); // move numbers start at 1
        rejects(g, "1. e4 e5\n2. O-O-O-O Nc6\n");
        rejects(g, "2. e4 e5\n2. Nf3 Nc6\n");
    }

    @Test
    void multiByteClassesAndPartialUtf8() {
        Grammar g = Grammars.load("japanese");
        accepts(g, "ひらがな カタカナ 漢字。");
        rejects(g, "ひらカナ。"); // scripts do not mix within a word
        rejects(g, "abc。");

        GrammarMatcher m = new GrammarMatcher(g);
        byte[] text = "ひら。".getBytes(StandardCharsets.UTF_8);
        // feed one byte at a time: every prefix must be accepted, the end only after the last byte
        for (int i = 0; i < text.length; i++) {
            assertTrue(m.acceptBytes(new byte[] {text[i]}), "byte " + i);
            assertEquals(i == text.length - 1, m.canEnd(), "canEnd after byte " + i);
        }
        // a lead byte whose every completion is outside the grammar is rejected at once
        GrammarMatcher m2 = new GrammarMatcher(g);
        assertFalse(m2.acceptBytes(new byte[] {(byte) 0xC3})); // U+00C0..U+00FF
        assertTrue(m2.acceptBytes(new byte[] {(byte) 0xE3})); // U+3000..U+3FFF holds kana
        assertFalse(m2.acceptBytes(new byte[] {(byte) 0x80, (byte) 0x80})); // U+3000: ideographic space
        assertTrue(m2.acceptBytes(new byte[] {(byte) 0x81, (byte) 0x82})); // U+3042 あ
        assertFalse(m2.acceptBytes(new byte[] {(byte) 0x82})); // stray continuation byte
    }

    @Test
    void rejectionLeavesStateUnchanged() {
        Grammar g = GbnfParser.parse("root ::= \"ab\" \"c\"*");
        GrammarMatcher m = new GrammarMatcher(g);
        assertTrue(m.acceptString("ab"));
        assertTrue(m.canEnd());
        assertFalse(m.acceptString("cx"));
        assertTrue(m.canEnd());
        assertTrue(m.canAccept('c'));
        assertFalse(m.canAccept('x'));
        assertTrue(m.canAcceptBytes("ccc".getBytes(StandardCharsets.UTF_8)));
        assertFalse(m.canAcceptBytes("cca".getBytes(StandardCharsets.UTF_8)));
        assertTrue(m.acceptString("cc"));
        assertTrue(m.canEnd());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "a", "aa", "aaa", "aaaa", "aaaaa"})
    void boundedRepetition(String s) {
        Grammar g = GbnfParser.parse("root ::= \"a\"{2,4}");
        assertEquals(s.length() >= 2 && s.length() <= 4, g.matches(s));
        Grammar exact = GbnfParser.parse("root ::= [a]{3}");
        assertEquals(s.length() == 3, exact.matches(s));
        Grammar atLeast = GbnfParser.parse("root ::= (\"a\"){2,}");
        assertEquals(s.length() >= 2, atLeast.matches(s));
        Grammar opt = GbnfParser.parse("root ::= \"a\"? \"a\"?");
        assertEquals(s.length() <= 2, opt.matches(s));
    }

    @Test
    void ambiguityKeepsAllParses() {
        // both alternatives share a prefix; the matcher must track them together
        Grammar g = GbnfParser.parse("root ::= x | y\nx ::= \"ab\" \"c\"\ny ::= \"a\" [b-z] \"d\"");
        accepts(g, "abc");
        accepts(g, "abd");
        accepts(g, "azd");
        rejects(g, "azc");
        // nullable rules in the middle of a sequence
        Grammar n = GbnfParser.parse("root ::= \"<\" e e \">\"\ne ::= \"x\" |");
        for (String s : new String[] {"<>", "<x>", "<xx>"}) {
            accepts(n, s);
        }
        rejects(n, "<xxx>");
    }

    @Test
    void negatedAndAnyClasses() {
        Grammar g = GbnfParser.parse("root ::= [^a-cx] . [\\x00-\\x1F\\]\\x2D]");
        accepts(g, "d\u00e9\n");
        accepts(g, "Z😀]");
        accepts(g, "ééé-".substring(1));
        rejects(g, "b\u00e9\n");
        rejects(g, "x\u00e9\n");
        rejects(g, "dd ");
        assertTrue(Arrays.equals(new int[] {0, 0x1F, '-', '-', ']', ']'},
                ((Element.Chars) g.rules().get(0).alternatives().get(0).get(2)).chars().ranges()));
    }
}
