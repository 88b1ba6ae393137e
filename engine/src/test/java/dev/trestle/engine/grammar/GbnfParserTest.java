package dev.trestle.engine.grammar;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class GbnfParserTest {

    private static GrammarException fails(String gbnf) {
        return assertThrows(GrammarException.class, () -> GbnfParser.parse(gbnf));
    }

    @Test
    void parsesTheExampleGrammarsAndPrintsThemBack() {
        String[][] samples = {
            {"arithmetic", "1+2=3\n", "1+=3\n"},
            {"json", "{\"a\": [1, \"x\"]}", "{\"a\": [1, \"x\"}"},
            {"list", "- a\n- b\n", "- a\n-b\n"},
            {"chess", "1. e4 e5\n2. Nf3 Nc6\n", "1. e4 e5\n2. Nf9 Nc6\n"},
            {"japanese", "ひら カナ。", "ひらカナ。"},
        };
        for (String[] s : samples) {
            Grammar g = Grammars.load(s[0]);
            assertEquals("root", g.rules().get(g.root()).name());
            // the printed form is GBNF that parses to an equivalent grammar
            Grammar again = GbnfParser.parse(g.toGbnf());
            assertEquals(g.rules().size(), again.rules().size(), s[0]);
            assertTrue(g.matches(s[1]) && again.matches(s[1]), s[0]);
            assertFalse(g.matches(s[2]) || again.matches(s[2]), s[0]);
        }
    }

    @Test
    void helperRulesFollowLlamaCppNaming() {
        Grammar g = GbnfParser.parse("root ::= (\"a\" | \"b\")* x\nx ::= \"c\"");
        assertTrue(g.ruleIndex("root_1") >= 0, g::toGbnf);
        assertTrue(g.ruleIndex("x") >= 0);
    }

    @Test
    void commentsAndLineContinuation() {
        Grammar g = GbnfParser.parse("""
                # leading comment
                root ::= # after the operator
                  "a" |   # first
                  "b"     # second

                  # blank lines and comments between rules
                """);
        assertTrue(g.matches("a"));
        assertTrue(g.matches("b"));
    }

    @Test
    void escapes() {
        Grammar g = GbnfParser.parse("root ::= \"\\x41\\u00e9\\U0001F600\\t\\\"\\\\\" [\\[\\]]");
        assertTrue(g.matches("Aé😀\t\"\\["));
        assertTrue(g.matches("Aé😀\t\"\\]"));
    }

    @Test
    void undefinedRuleNamesRuleAndPosition() {
        GrammarException e = fails("root ::= a b\na ::= \"x\"\n");
        assertTrue(e.getMessage().contains("undefined rule 'b'"), e.getMessage());
        assertEquals(1, e.line());
        assertEquals(12, e.column());
    }

    @Test
    void unbalancedParentheses() {
        GrammarException open = fails("root ::= (\"a\" \"b\"\n");
        assertTrue(open.getMessage().contains("unbalanced '('"), open.getMessage());
        assertEquals(1, open.line());
        assertEquals(10, open.column());
        GrammarException close = fails("root ::= \"a\")\n");
        assertTrue(close.getMessage().contains("unbalanced ')'"), close.getMessage());
    }

    @Test
    void otherErrors() {
        assertTrue(fails("").getMessage().contains("empty"));
        assertTrue(fails("item ::= \"a\"").getMessage().contains("no 'root' rule"));
        assertTrue(fails("root = \"a\"").getMessage().contains("'::='"));
        assertTrue(fails("root ::= \"abc").getMessage().contains("unterminated string"));
        assertTrue(fails("root ::= [a-z").getMessage().contains("unterminated character class"));
        assertTrue(fails("root ::= [z-a]").getMessage().contains("reversed"));
        assertTrue(fails("root ::= \"\\q\"").getMessage().contains("unknown escape"));
        assertTrue(fails("root ::= \"\\x4\"").getMessage().contains("hex digits"));
        assertTrue(fails("root ::= * \"a\"").getMessage().contains("no item before it"));
        assertTrue(fails("root ::= \"a\"{3,1}").getMessage().contains("max below min"));
        assertTrue(fails("root ::= \"a\"{2").getMessage().contains("'}'"));
        assertTrue(fails("root ::= x x\nx ::= \"0123456789\"{100000} \"0123456789\"{100000}").getMessage()
                .contains("too large"));
        assertTrue(fails("root ::= \"0123456789\"{1000000}").getMessage().contains("too large"));
        assertTrue(fails("root ::= \"a\"\nroot ::= \"b\"").getMessage().contains("defined twice"));
        GrammarException line2 = fails("root ::= x\nx ::= \"a\" \"b\" !\n");
        assertEquals(2, line2.line());
        assertEquals(15, line2.column());
    }

    @Test
    void leftRecursionIsRejected() {
        assertTrue(fails("root ::= root \"a\" | \"b\"").getMessage().contains("left recursion"));
        // indirect, and through a nullable prefix
        assertTrue(fails("root ::= x\nx ::= y \"a\"\ny ::= x | \"b\"").getMessage().contains("left recursion"));
        assertTrue(fails("root ::= e root \"a\" | \"b\"\ne ::= \"z\" |").getMessage().contains("left recursion"));
        assertTrue(fails("root ::= (\"a\"?)*").getMessage().contains("left recursion"));
        // right recursion is fine
        assertTrue(GbnfParser.parse("root ::= \"a\" root | \"b\"").matches("aaab"));
    }

    @Test
    void grammarExceptionIsUserFacing() {
        GrammarException e = fails("root ::= nope");
        assertTrue(e.fix() != null && !e.fix().isBlank());
    }
}
