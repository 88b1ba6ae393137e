package dev.trestle.engine.grammar;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Parses llama.cpp's GBNF grammar text into a {@link Grammar}.
 *
 * <p>Syntax: {@code name ::= alternatives}, one rule per line (a rule continues over newlines only inside
 * parentheses or after {@code ::=} and {@code |}); sequences of string literals {@code "..."}, character
 * classes {@code [a-z]} / {@code [^...]}, any character {@code .}, rule names and groups {@code ( ... )};
 * postfix {@code * + ?} and {@code {m}}, {@code {m,}}, {@code {m,n}}; {@code #} comments. Escapes in literals
 * and classes: {@code \n \r \t \\ \" \[ \]}, backslash x/u/U followed by 2/4/8 hex digits.
 * Groups and repetitions become helper rules named {@code <rule>_<n>}, as in llama.cpp.
 */
public final class GbnfParser {
    /** Unbounded repetition count. */
    private static final int UNBOUNDED = -1;
    /** Most elements a grammar may expand to (repetitions copy their item); keeps hostile input bounded. */
    private static final long MAX_ELEMENTS = 2_000_000;

    private final int[] src; // code points
    private int pos;
    private final List<String> names = new ArrayList<>();
    private final Map<String, Integer> ids = new HashMap<>();
    private final List<List<List<Element>>> bodies = new ArrayList<>();
    private final Map<Integer, Integer> firstUse = new HashMap<>();
    private final Map<Integer, Integer> definedAt = new HashMap<>();
    private long elements;

    private GbnfParser(String text) {
        this.src = text.codePoints().toArray();
    }

    /** Parses {@code text} with start rule {@code root}. */
    public static Grammar parse(String text) {
        return parse(text, "root");
    }

    /** Parses {@code text} with the given start rule. */
    public static Grammar parse(String text, String rootName) {
        GbnfParser p = new GbnfParser(text);
        p.parseGrammar();
        return p.build(rootName);
    }

    private Grammar build(String rootName) {
        for (int id = 0; id < names.size(); id++) {
            if (bodies.get(id) == null) {
                throw error(firstUse.get(id), "undefined rule '" + names.get(id) + "'");
            }
        }
        if (!ids.containsKey(rootName)) {
            throw new GrammarException("grammar has no '" + rootName + "' rule",
                    "add the start rule, e.g. " + rootName + " ::= ...");
        }
        List<Rule> rules = new ArrayList<>(names.size());
        for (int id = 0; id < names.size(); id++) {
            rules.add(new Rule(names.get(id), bodies.get(id)));
        }
        return new Grammar(rules, rootName);
    }

    private void parseGrammar() {
        skipSpace(true);
        if (pos >= src.length) {
            throw new GrammarException("grammar is empty", "give at least a root rule, e.g. root ::= \"yes\" | \"no\"");
        }
        while (pos < src.length) {
            parseRule();
        }
    }

    private void parseRule() {
        int start = pos;
        String name = parseName();
        if (name.isEmpty()) {
            throw error(pos, "expecting a rule name, found " + describe(pos));
        }
        skipSpace(false);
        if (!(peek(0) == ':' && peek(1) == ':' && peek(2) == '=')) {
            throw error(pos, "expecting '::=' after rule name '" + name + "', found " + describe(pos));
        }
        pos += 3;
        skipSpace(true);
        int id = symbol(name, start);
        List<List<Element>> alts = parseAlternates(name, false);
        if (pos < src.length && src[pos] != '\n' && src[pos] != '\r') {
            if (src[pos] == ')') {
                throw error(pos, "unbalanced ')' (no matching '(') in rule '" + name + "'");
            }
            throw error(pos, "expecting end of line after rule '" + name + "', found " + describe(pos));
        }
        if (definedAt.containsKey(id)) {
            throw error(start, "rule '" + name + "' is defined twice (first at "
                    + lineCol(definedAt.get(id)) + ")");
        }
        definedAt.put(id, start);
        bodies.set(id, alts);
        skipSpace(true);
    }

    private List<List<Element>> parseAlternates(String ruleName, boolean nested) {
        List<List<Element>> alts = new ArrayList<>();
        alts.add(parseSequence(ruleName, nested));
        while (peek(0) == '|') {
            pos++;
            skipSpace(true);
            alts.add(parseSequence(ruleName, nested));
        }
        return alts;
    }

    private List<Element> parseSequence(String ruleName, boolean nested) {
        List<Element> out = new ArrayList<>();
        int lastSymStart = -1;
        while (pos < src.length) {
            int c = src[pos];
            int itemPos = pos;
            if (c == '"') {
                pos++;
                lastSymStart = out.size();
                while (peek(0) != '"') {
                    if (pos >= src.length) {
                        throw error(itemPos, "unterminated string literal");
                    }
                    out.add(new Element.Chars(CharClass.single(parseChar())));
                }
                pos++;
            } else if (c == '[') {
                pos++;
                boolean negated = false;
                if (peek(0) == '^') {
                    negated = true;
                    pos++;
                }
                List<Integer> pairs = new ArrayList<>();
                while (peek(0) != ']') {
                    if (pos >= src.length) {
                        throw error(itemPos, "unterminated character class");
                    }
                    int lo = parseChar();
                    int hi = lo;
                    if (peek(0) == '-' && pos + 1 < src.length && src[pos + 1] != ']') {
                        pos++;
                        if (pos >= src.length) {
                            throw error(itemPos, "unterminated character class");
                        }
                        hi = parseChar();
                        if (hi < lo) {
                            throw error(itemPos, "character range is reversed ("
                                    + GbnfText.escape(lo, false) + "-" + GbnfText.escape(hi, false) + ")");
                        }
                    }
                    pairs.add(lo);
                    pairs.add(hi);
                }
                pos++;
                String text = new String(src, itemPos, pos - itemPos);
                lastSymStart = out.size();
                out.add(new Element.Chars(CharClass.of(pairs.stream().mapToInt(Integer::intValue).toArray(),
                        negated, text)));
            } else if (c == '.') {
                pos++;
                lastSymStart = out.size();
                out.add(new Element.Chars(CharClass.any()));
            } else if (isWordChar(c)) {
                String name = parseName();
                lastSymStart = out.size();
                out.add(new Element.RuleRef(symbol(name, itemPos)));
            } else if (c == '(') {
                pos++;
                skipSpace(true);
                int sub = newHelperRule(ruleName);
                List<List<Element>> alts = parseAlternates(ruleName, true);
                if (peek(0) != ')') {
                    throw error(itemPos, "unbalanced '(' : expecting ')' before " + describe(pos));
                }
                pos++;
                bodies.set(sub, alts);
                lastSymStart = out.size();
                out.add(new Element.RuleRef(sub));
            } else if (c == '*' || c == '+' || c == '?') {
                if (lastSymStart < 0) {
                    throw error(pos, "'" + (char) c + "' has no item before it to repeat");
                }
                pos++;
                int min = c == '+' ? 1 : 0;
                int max = c == '?' ? 1 : UNBOUNDED;
                repeat(out, lastSymStart, min, max, ruleName);
                lastSymStart = -1;
            } else if (c == '{') {
                if (lastSymStart < 0) {
                    throw error(pos, "'{' has no item before it to repeat");
                }
                pos++;
                skipSpace(nested);
                int min = parseInt(itemPos);
                int max = min;
                skipSpace(nested);
                if (peek(0) == ',') {
                    pos++;
                    skipSpace(nested);
                    max = isDigit(peek(0)) ? parseInt(itemPos) : UNBOUNDED;
                    skipSpace(nested);
                }
                if (peek(0) != '}') {
                    throw error(itemPos, "expecting '}' to close the repetition, found " + describe(pos));
                }
                pos++;
                if (max != UNBOUNDED && max < min) {
                    throw error(itemPos, "repetition {" + min + "," + max + "} has max below min");
                }
                repeat(out, lastSymStart, min, max, ruleName);
                lastSymStart = -1;
            } else {
                break;
            }
            skipSpace(nested);
        }
        return out;
    }

    // Replaces out[from..] (the last item) by min copies plus (max - min) nested optional copies, or a
    // right-recursive star rule when unbounded.
    private void repeat(List<Element> out, int from, int min, int max, String ruleName) {
        List<Element> item = new ArrayList<>(out.subList(from, out.size()));
        out.subList(from, out.size()).clear();
        long copies = (long) min + (max == UNBOUNDED ? 1 : Math.max(max - min, 0));
        elements += copies * (item.size() + 1);
        if (elements > MAX_ELEMENTS) {
            throw error(pos, "grammar too large: repetitions expand to more than " + MAX_ELEMENTS + " elements");
        }
        for (int i = 0; i < min; i++) {
            out.addAll(item);
        }
        if (max == UNBOUNDED) {
            int star = newHelperRule(ruleName);
            List<Element> more = new ArrayList<>(item);
            more.add(new Element.RuleRef(star));
            bodies.set(star, List.of(more, List.of()));
            out.add(new Element.RuleRef(star));
        } else if (max > min) {
            int prev = -1;
            for (int i = 0; i < max - min; i++) {
                int opt = newHelperRule(ruleName);
                List<Element> some = new ArrayList<>(item);
                if (prev >= 0) {
                    some.add(new Element.RuleRef(prev));
                }
                bodies.set(opt, List.of(some, List.of()));
                prev = opt;
            }
            out.add(new Element.RuleRef(prev));
        }
    }

    private int parseChar() {
        int c = src[pos];
        if (c != '\\') {
            pos++;
            return c;
        }
        int escPos = pos;
        if (pos + 1 >= src.length) {
            throw error(escPos, "escape at end of input");
        }
        int e = src[pos + 1];
        pos += 2;
        return switch (e) {
            case 'x' -> hex(2, escPos);
            case 'u' -> hex(4, escPos);
            case 'U' -> hex(8, escPos);
            case 't' -> '\t';
            case 'r' -> '\r';
            case 'n' -> '\n';
            case '\\', '"', '[', ']' -> e;
            default -> throw error(escPos, "unknown escape '\\" + new String(Character.toChars(e)) + "'");
        };
    }

    private int hex(int digits, int escPos) {
        int v = 0;
        for (int i = 0; i < digits; i++) {
            int d = pos < src.length ? Character.digit(src[pos], 16) : -1;
            if (d < 0) {
                throw error(escPos, "expecting " + digits + " hex digits in escape");
            }
            v = v * 16 + d;
            pos++;
        }
        if (v > CharClass.MAX_CODE_POINT) {
            throw error(escPos, "escape is beyond the last Unicode code point");
        }
        return v;
    }

    private int parseInt(int itemPos) {
        int start = pos;
        long v = 0;
        while (isDigit(peek(0))) {
            v = v * 10 + (src[pos] - '0');
            if (v > 100_000) {
                throw error(itemPos, "repetition count too large");
            }
            pos++;
        }
        if (pos == start) {
            throw error(pos, "expecting a number in the repetition, found " + describe(pos));
        }
        return (int) v;
    }

    private String parseName() {
        int start = pos;
        while (pos < src.length && isWordChar(src[pos])) {
            pos++;
        }
        return new String(src, start, pos - start);
    }

    private void skipSpace(boolean newlineOk) {
        while (pos < src.length) {
            int c = src[pos];
            if (c == ' ' || c == '\t') {
                pos++;
            } else if (c == '#') {
                while (pos < src.length && src[pos] != '\n' && src[pos] != '\r') {
                    pos++;
                }
            } else if (newlineOk && (c == '\n' || c == '\r')) {
                pos++;
            } else {
                break;
            }
        }
    }

    private int symbol(String name, int at) {
        Integer id = ids.get(name);
        if (id == null) {
            id = names.size();
            names.add(name);
            ids.put(name, id);
            bodies.add(null);
            firstUse.put(id, at);
        }
        return id;
    }

    private int newHelperRule(String base) {
        int n = names.size();
        String name = base + "_" + n;
        while (ids.containsKey(name)) {
            name = base + "_" + (++n);
        }
        int id = symbol(name, pos);
        bodies.set(id, List.of());
        return id;
    }

    private int peek(int ahead) {
        return pos + ahead < src.length ? src[pos + ahead] : -1;
    }

    private static boolean isWordChar(int c) {
        // llama.cpp allows [a-zA-Z0-9-]; '_' is added so printed helper rules (root_1) parse again
        return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_';
    }

    private static boolean isDigit(int c) {
        return c >= '0' && c <= '9';
    }

    private String describe(int at) {
        if (at >= src.length) {
            return "end of input";
        }
        int c = src[at];
        if (c == '\n' || c == '\r') {
            return "end of line";
        }
        return "'" + new String(Character.toChars(c)) + "'";
    }

    private String lineCol(int at) {
        int[] lc = lineAndColumn(at);
        return "line " + lc[0] + ", column " + lc[1];
    }

    private int[] lineAndColumn(int at) {
        int line = 1;
        int col = 1;
        for (int i = 0; i < Math.min(at, src.length); i++) {
            if (src[i] == '\n') {
                line++;
                col = 1;
            } else {
                col++;
            }
        }
        return new int[] {line, col};
    }

    private GrammarException error(int at, String problem) {
        int[] lc = lineAndColumn(at);
        return new GrammarException(lc[0], lc[1], problem);
    }
}
