package dev.trestle.engine.grammar;

import java.util.ArrayList;
import java.util.List;

/**
 * Converts a JSON schema {@code pattern} (ECMA-262 regular expression subset) to a GBNF sequence for the
 * inside of a JSON string literal, so that every string the grammar admits, once JSON-decoded, matches the
 * pattern. Supported: literals and escapes, {@code .}, classes with ranges and negation, {@code \d \w \s}
 * and their negations, groups (capturing, {@code (?:)}, named), alternation, {@code * + ? {m} {m,} {m,n}}
 * (lazy and possessive suffixes ignored: same language), and {@code ^}/{@code $} at the ends. Without
 * anchors the pattern may match anywhere, so any characters are allowed around it. Characters that JSON
 * must escape are produced in escaped form ({@code \" \\ \n \u0001}). Lookaround, backreferences and word
 * boundaries are rejected.
 */
final class JsonPatternToGbnf {
    private static final String ANY_JSON_CHAR = "char";

    private final int[] src;
    private int pos;
    private boolean anchoredStart;
    private boolean anchoredEnd;

    private JsonPatternToGbnf(String pattern) {
        this.src = pattern.codePoints().toArray();
    }

    /** The GBNF sequence (quotes excluded; may reference the {@code char} rule); throws with a reason. */
    static String convert(String pattern) {
        JsonPatternToGbnf p = new JsonPatternToGbnf(pattern);
        if (p.peek() == '^') {
            p.pos++;
            p.anchoredStart = true;
        }
        String body = p.alternation(true);
        if (p.pos < p.src.length) {
            throw new IllegalArgumentException("unbalanced ')' at offset " + p.pos);
        }
        StringBuilder sb = new StringBuilder();
        if (!p.anchoredStart) {
            sb.append(ANY_JSON_CHAR).append("* ");
        }
        sb.append(body.isEmpty() ? "\"\"" : body);
        if (!p.anchoredEnd) {
            sb.append(' ').append(ANY_JSON_CHAR).append('*');
        }
        return sb.toString();
    }

    /** True when the converted sequence refers to the {@code char} rule. */
    static boolean usesChar(String gbnf) {
        return gbnf.contains(ANY_JSON_CHAR);
    }

    private String alternation(boolean top) {
        List<String> alts = new ArrayList<>();
        alts.add(sequence(top));
        while (peek() == '|') {
            pos++;
            alts.add(sequence(top));
        }
        if (alts.size() == 1) {
            return alts.get(0);
        }
        List<String> wrapped = new ArrayList<>();
        for (String a : alts) {
            wrapped.add(a.isEmpty() ? "\"\"" : a);
        }
        return "(" + String.join(" | ", wrapped) + ")";
    }

    private String sequence(boolean top) {
        List<String> items = new ArrayList<>();
        while (pos < src.length && peek() != '|' && peek() != ')') {
            if (peek() == '$') {
                pos++;
                if (!top || pos < src.length && peek() != '|') {
                    throw new IllegalArgumentException("'$' is only supported at the end of the pattern");
                }
                if (peek() == '|') {
                    throw new IllegalArgumentException("'$' inside an alternation is not supported; group it");
                }
                anchoredEnd = true;
                break;
            }
            if (peek() == '^') {
                throw new IllegalArgumentException("'^' is only supported at the start of the pattern");
            }
            String atom = atom();
            items.add(quantified(atom));
        }
        return String.join(" ", items);
    }

    private String quantified(String atom) {
        int c = peek();
        int min;
        int max;
        if (c == '*' || c == '+' || c == '?') {
            pos++;
            min = c == '+' ? 1 : 0;
            max = c == '?' ? 1 : -1;
        } else if (c == '{' && isQuantifierBrace()) {
            pos++;
            min = number();
            max = min;
            if (peek() == ',') {
                pos++;
                max = peek() == '}' ? -1 : number();
            }
            pos++; // '}'
            if (max >= 0 && max < min) {
                throw new IllegalArgumentException("quantifier {" + min + "," + max + "} has max below min");
            }
        } else {
            return atom;
        }
        if (peek() == '?' || peek() == '+') {
            pos++; // lazy / possessive: the same set of strings
        }
        String group = "(" + atom + ")";
        if (min == 0 && max == 1) {
            return group + "?";
        }
        if (min == 0 && max < 0) {
            return group + "*";
        }
        if (min == 1 && max < 0) {
            return group + "+";
        }
        return group + "{" + min + "," + (max < 0 ? "" : String.valueOf(max)) + "}";
    }

    private boolean isQuantifierBrace() {
        int i = pos + 1;
        int digits = 0;
        while (i < src.length && src[i] >= '0' && src[i] <= '9') {
            i++;
            digits++;
        }
        if (digits == 0) {
            return false;
        }
        if (i < src.length && src[i] == ',') {
            i++;
            while (i < src.length && src[i] >= '0' && src[i] <= '9') {
                i++;
            }
        }
        return i < src.length && src[i] == '}';
    }

    private int number() {
        long v = 0;
        while (pos < src.length && src[pos] >= '0' && src[pos] <= '9') {
            v = v * 10 + src[pos++] - '0';
            if (v > 10_000) {
                throw new IllegalArgumentException("repetition count too large");
            }
        }
        return (int) v;
    }

    private String atom() {
        int c = src[pos];
        switch (c) {
            case '(' -> {
                pos++;
                if (peek() == '?') {
                    int n = pos + 1 < src.length ? src[pos + 1] : -1;
                    if (n == ':') {
                        pos += 2;
                    } else if (n == '<' && pos + 2 < src.length && src[pos + 2] != '=' && src[pos + 2] != '!'
                            || n == 'P') {
                        while (pos < src.length && src[pos] != '>') {
                            pos++;
                        }
                        pos++;
                    } else {
                        throw new IllegalArgumentException("lookaround and inline flags are not supported");
                    }
                }
                String inner = alternation(false);
                if (peek() != ')') {
                    throw new IllegalArgumentException("unbalanced '(' in pattern");
                }
                pos++;
                return inner.isEmpty() ? "\"\"" : "(" + inner + ")";
            }
            case '[' -> {
                return set(classSet());
            }
            case '.' -> {
                pos++;
                return set(CharClass.of(new int[] {'\n', '\n', '\r', '\r', 0x2028, 0x2029}, true, null));
            }
            case '\\' -> {
                pos++;
                CharClass e = escape(false);
                return set(e);
            }
            case '*', '+', '?', '{' -> {
                if (c == '{' && !isQuantifierBrace()) {
                    pos++;
                    return set(CharClass.single('{'));
                }
                throw new IllegalArgumentException("'" + (char) c + "' has nothing to repeat");
            }
            default -> {
                pos++;
                return set(CharClass.single(c));
            }
        }
    }

    private CharClass classSet() {
        pos++; // '['
        boolean negated = false;
        if (peek() == '^') {
            negated = true;
            pos++;
        }
        List<Integer> pairs = new ArrayList<>();
        while (peek() != ']') {
            if (pos >= src.length) {
                throw new IllegalArgumentException("unterminated character class");
            }
            CharClass lo;
            if (peek() == '\\') {
                pos++;
                lo = escape(true);
            } else {
                lo = CharClass.single(src[pos++]);
            }
            if (peek() == '-' && pos + 1 < src.length && src[pos + 1] != ']' && lo.isSingle()) {
                pos++;
                CharClass hi;
                if (peek() == '\\') {
                    pos++;
                    hi = escape(true);
                } else {
                    hi = CharClass.single(src[pos++]);
                }
                if (!hi.isSingle() || hi.rangesView()[0] < lo.rangesView()[0]) {
                    throw new IllegalArgumentException("invalid range in character class");
                }
                pairs.add(lo.rangesView()[0]);
                pairs.add(hi.rangesView()[0]);
            } else {
                for (int r : lo.rangesView()) {
                    pairs.add(r);
                }
            }
        }
        pos++; // ']'
        return CharClass.of(pairs.stream().mapToInt(Integer::intValue).toArray(), negated, null);
    }

    private CharClass escape(boolean inClass) {
        if (pos >= src.length) {
            throw new IllegalArgumentException("pattern ends with a backslash");
        }
        int e = src[pos++];
        return switch (e) {
            case 'd' -> CharClass.of(new int[] {'0', '9'}, false, null);
            case 'D' -> CharClass.of(new int[] {'0', '9'}, true, null);
            case 'w' -> CharClass.of(new int[] {'a', 'z', 'A', 'Z', '0', '9', '_', '_'}, false, null);
            case 'W' -> CharClass.of(new int[] {'a', 'z', 'A', 'Z', '0', '9', '_', '_'}, true, null);
            case 's' -> CharClass.of(SPACES, false, null);
            case 'S' -> CharClass.of(SPACES, true, null);
            case 'n' -> CharClass.single('\n');
            case 'r' -> CharClass.single('\r');
            case 't' -> CharClass.single('\t');
            case 'f' -> CharClass.single('\f');
            case 'v' -> CharClass.single(0x0B);
            case '0' -> CharClass.single(0);
            case 'b' -> {
                if (inClass) {
                    yield CharClass.single('\b');
                }
                throw new IllegalArgumentException("word boundaries (\\b) are not supported");
            }
            case 'x' -> CharClass.single(hex(2));
            case 'u' -> CharClass.single(hex(4));
            default -> {
                if (e >= '1' && e <= '9') {
                    throw new IllegalArgumentException("backreferences are not supported");
                }
                if (e == 'B' || e == 'p' || e == 'P' || e == 'k') {
                    throw new IllegalArgumentException("escape \\" + (char) e + " is not supported");
                }
                yield CharClass.single(e);
            }
        };
    }

    private static final int[] SPACES = {' ', ' ', '\t', '\r', 0x0B, 0x0C, 0xA0, 0xA0, 0xFEFF, 0xFEFF,
        0x2000, 0x200A, 0x2028, 0x2029, 0x202F, 0x202F, 0x205F, 0x205F, 0x3000, 0x3000, 0x1680, 0x1680};

    private int hex(int digits) {
        int v = 0;
        for (int i = 0; i < digits; i++) {
            int d = pos < src.length ? Character.digit(src[pos], 16) : -1;
            if (d < 0) {
                throw new IllegalArgumentException("expecting " + digits + " hex digits");
            }
            v = v * 16 + d;
            pos++;
        }
        return v;
    }

    // A set of decoded characters as JSON string text: raw where JSON allows, escaped where it must.
    private static String set(CharClass cc) {
        List<String> alts = new ArrayList<>();
        int[] r = cc.rangesView();
        List<Integer> raw = new ArrayList<>();
        for (int i = 0; i < r.length; i += 2) {
            int lo = r[i];
            int hi = r[i + 1];
            for (int c = lo; c <= Math.min(hi, 0x7F); c++) {
                if (c < 0x20 || c == '"' || c == '\\' || c == 0x7F) {
                    alts.add(GbnfText.literal(jsonEscape(c)));
                }
            }
            // raw part: [lo, hi] minus the specials (all at or below 0x7F)
            int from = lo;
            for (int special : new int[] {'"', '\\', 0x7F}) {
                if (special >= from && special <= hi) {
                    addRaw(raw, Math.max(from, 0x20), special - 1);
                    from = special + 1;
                }
            }
            addRaw(raw, Math.max(from, 0x20), hi);
        }
        if (!raw.isEmpty()) {
            alts.add(0, CharClass.of(raw.stream().mapToInt(Integer::intValue).toArray(), false, null).toGbnf());
        }
        if (alts.isEmpty()) {
            throw new IllegalArgumentException("a character class in the pattern matches no character");
        }
        return alts.size() == 1 ? alts.get(0) : "(" + String.join(" | ", alts) + ")";
    }

    private static void addRaw(List<Integer> raw, int lo, int hi) {
        if (lo <= hi) {
            raw.add(lo);
            raw.add(hi);
        }
    }

    private static String jsonEscape(int c) {
        return switch (c) {
            case '"' -> "\\\"";
            case '\\' -> "\\\\";
            case '\n' -> "\\n";
            case '\r' -> "\\r";
            case '\t' -> "\\t";
            case '\b' -> "\\b";
            case '\f' -> "\\f";
            default -> String.format("\\u%04x", c);
        };
    }

    private int peek() {
        return pos < src.length ? src[pos] : -1;
    }
}
