package dev.trestle.engine.tokenizer;

import dev.trestle.common.TrestleException;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Splits text into pre-tokenizer words exactly as llama.cpp's {@code unicode_regex_split} does.
 *
 * <p>Patterns that use Unicode categories run on a "collapsed" copy of the text in which every
 * non-ASCII code point is replaced by one marker character for its category (whitespace becomes
 * U+000B), with {@code \p{L}} etc. rewritten to the marker plus the ASCII members of the
 * category. Other patterns run on the code points themselves, with non-ASCII whitespace turned into
 * U+000B. The GPT-2 and Llama-3 patterns use hand-written splitters, as llama.cpp does, whose
 * behaviour differs from the regex in corner cases (e.g. unassigned code points).
 */
final class RegexSplitter {
    private static final char C_NUMBER = 0xD1;
    private static final char C_LETTER = 0xD2;
    private static final char C_PUNCT = 0xD3;
    private static final char C_MARK = 0xD4;
    private static final char C_SYMBOL = 0xD5;
    private static final char C_OTHER = 0xD0;
    private static final char C_SPACE = 0x0B;

    /** Category escapes llama.cpp rewrites: marker character and ASCII members (a class body). */
    private static final Map<String, String> CATEGORY_CLASS = Map.of(
            "\\p{N}", C_NUMBER + "0-9",
            "\\p{L}", C_LETTER + "A-Za-z",
            "\\p{P}", C_PUNCT + "!-#%-*,-/:-;?-@\\[-\\]_\\{\\}",
            "\\p{M}", String.valueOf(C_MARK),
            "\\p{S}", C_SYMBOL + "\\$\\+<->\\^`\\|",
            "\\p{Lu}", C_LETTER + "A-Za-z",
            "\\p{Ll}", C_LETTER + "A-Za-z",
            "\\p{Lt}", C_LETTER + "A-Za-z",
            "\\p{Lm}", C_LETTER + "A-Za-z",
            "\\p{Lo}", C_LETTER + "A-Za-z");

    private final Step[] steps;

    /** One regex of the list: a hand-written splitter or a compiled pattern. */
    private record Step(Kind kind, Pattern pattern) {
    }

    private enum Kind { GPT2, LLAMA3, KIMI_K2, COLLAPSED, CODEPOINTS }

    RegexSplitter(List<String> regexes) {
        steps = new Step[regexes.size()];
        for (int i = 0; i < steps.length; i++) {
            String r = regexes.get(i);
            if (r.equals(PreTokenizer.Patterns.GPT2)) {
                steps[i] = new Step(Kind.GPT2, null);
            } else if (r.equals(PreTokenizer.Patterns.LLAMA3)) {
                steps[i] = new Step(Kind.LLAMA3, null);
            } else if (r.equals(PreTokenizer.Patterns.KIMI_K2)) {
                steps[i] = new Step(Kind.KIMI_K2, null);
            } else if (usesCategories(r)) {
                steps[i] = new Step(Kind.COLLAPSED, Pattern.compile(collapseRegex(r)));
            } else {
                steps[i] = new Step(Kind.CODEPOINTS, Pattern.compile(javaRegex(r)));
            }
        }
    }

    /**
     * Splits {@code cps} and returns the word lengths in code points (their sum is cps.length;
     * no length is zero).
     */
    IntList split(int[] cps) {
        IntList offsets = new IntList(4);
        if (cps.length == 0) {
            return offsets;
        }
        offsets.add(cps.length);
        String collapsed = null;
        CodepointText wide = null;
        for (Step step : steps) {
            switch (step.kind) {
                case GPT2 -> offsets = splitGpt2(cps, offsets);
                case LLAMA3 -> offsets = splitLlama3(cps, offsets);
                case KIMI_K2 -> offsets = splitKimiK2(cps, offsets);
                case COLLAPSED -> {
                    if (collapsed == null) {
                        collapsed = collapse(cps);
                    }
                    offsets = splitRegex(step.pattern, collapsed, null, offsets);
                }
                case CODEPOINTS -> {
                    if (wide == null) {
                        wide = new CodepointText(cps);
                    }
                    offsets = splitRegex(step.pattern, wide.text, wide, offsets);
                }
            }
        }
        return offsets;
    }

    private static boolean usesCategories(String regex) {
        for (String cat : CATEGORY_CLASS.keySet()) {
            if (regex.contains(cat)) {
                return true;
            }
        }
        return false;
    }

    /** One character per code point: ASCII as is, others by category. */
    private static String collapse(int[] cps) {
        char[] out = new char[cps.length];
        for (int i = 0; i < cps.length; i++) {
            int cp = cps[i];
            if (cp < 128) {
                out[i] = (char) cp;
                continue;
            }
            int f = CodepointFlags.of(cp);
            if ((f & CodepointFlags.WHITESPACE) != 0) {
                out[i] = C_SPACE;
                continue;
            }
            out[i] = switch (f & CodepointFlags.MASK_CATEGORIES) {
                case CodepointFlags.NUMBER -> C_NUMBER;
                case CodepointFlags.LETTER -> C_LETTER;
                case CodepointFlags.PUNCTUATION -> C_PUNCT;
                case CodepointFlags.ACCENT_MARK -> C_MARK;
                case CodepointFlags.SYMBOL -> C_SYMBOL;
                default -> C_OTHER;
            };
        }
        return new String(out);
    }

    /** Rewrites category escapes into classes over the collapsed alphabet. */
    static String collapseRegex(String regex) {
        StringBuilder sb = new StringBuilder();
        boolean inside = false;
        for (int i = 0; i < regex.length(); i++) {
            char c = regex.charAt(i);
            if (c == '[' && (i == 0 || regex.charAt(i - 1) != '\\')) {
                sb.append('[');
                inside = true;
                continue;
            }
            if (inside && c == ']' && regex.charAt(i - 1) != '\\') {
                sb.append(']');
                inside = false;
                continue;
            }
            if (c == '\\' && i + 3 < regex.length() && regex.charAt(i + 1) == 'p' && regex.charAt(i + 2) == '{') {
                int close = regex.indexOf('}', i + 3);
                if (close >= 0 && close <= i + 10) {
                    String body = CATEGORY_CLASS.get(regex.substring(i, close + 1));
                    if (body != null) {
                        sb.append(inside ? body : "[" + body + "]");
                        i = close;
                        continue;
                    }
                }
            }
            sb.append(c);
        }
        return javaRegex(sb.toString());
    }

    /** ECMAScript to java.util.regex: {@code $} means end of input only. */
    private static String javaRegex(String ecma) {
        StringBuilder sb = new StringBuilder();
        boolean inside = false;
        for (int i = 0; i < ecma.length(); i++) {
            char c = ecma.charAt(i);
            if (c == '\\' && i + 1 < ecma.length()) {
                sb.append(c).append(ecma.charAt(++i));
                continue;
            }
            if (c == '[') {
                inside = true;
            } else if (c == ']') {
                inside = false;
            } else if (c == '$' && !inside) {
                sb.append("\\z");
                continue;
            }
            sb.append(c);
        }
        return sb.toString();
    }

    /** The code points as a Java string plus the map from char index back to code point index. */
    private static final class CodepointText {
        final String text;
        final int[] cpIndex; // char index -> code point index; null when every code point is one char

        CodepointText(int[] cps) {
            StringBuilder sb = new StringBuilder(cps.length);
            boolean supplementary = false;
            for (int cp : cps) {
                int c = cp > 0x7F && CodepointFlags.isWhitespace(cp) ? C_SPACE : cp;
                sb.appendCodePoint(c);
                supplementary |= c > 0xFFFF;
            }
            text = sb.toString();
            if (supplementary) {
                cpIndex = new int[text.length() + 1];
                int ci = 0;
                for (int i = 0; i < text.length(); i++) {
                    cpIndex[i] = ci;
                    if (!Character.isHighSurrogate(text.charAt(i)) || i + 1 >= text.length()
                            || !Character.isLowSurrogate(text.charAt(i + 1))) {
                        ci++;
                    }
                }
                cpIndex[text.length()] = ci;
            } else {
                cpIndex = null;
            }
        }

        int charIndex(int cpIdx) {
            if (cpIndex == null) {
                return cpIdx;
            }
            // code point index -> first char index (binary search over the monotone map)
            int lo = 0;
            int hi = cpIndex.length - 1;
            while (lo < hi) {
                int mid = (lo + hi) >>> 1;
                if (cpIndex[mid] < cpIdx) {
                    lo = mid + 1;
                } else {
                    hi = mid;
                }
            }
            return lo;
        }

        int cpIndex(int charIdx) {
            return cpIndex == null ? charIdx : cpIndex[charIdx];
        }
    }

    private static IntList splitRegex(Pattern pattern, String text, CodepointText map, IntList offsets) {
        IntList out = new IntList(offsets.size() * 2);
        Matcher m = pattern.matcher(text);
        int start = 0; // in code points
        for (int k = 0; k < offsets.size(); k++) {
            int len = offsets.get(k);
            int from = map == null ? start : map.charIndex(start);
            int to = map == null ? start + len : map.charIndex(start + len);
            m.region(from, to);
            int prev = start;
            while (find(m)) {
                int ms = map == null ? m.start() : map.cpIndex(m.start());
                int me = map == null ? m.end() : map.cpIndex(m.end());
                if (ms > prev) {
                    out.add(ms - prev);
                }
                if (me > ms) {
                    out.add(me - ms);
                }
                prev = me;
            }
            if (prev < start + len) {
                out.add(start + len - prev);
            }
            start += len;
        }
        return out;
    }

    /** java.util.regex recurses in group loops; an enormous word must fail cleanly, not kill the thread. */
    private static boolean find(Matcher m) {
        try {
            return m.find();
        } catch (StackOverflowError e) {
            throw new TrestleException("the text has a word too long for the pre-tokenizer pattern " + m.pattern(),
                    "split the input, or give the JVM a larger thread stack (-Xss)");
        }
    }

    // ---- hand-written splitters (llama.cpp's unicode_regex_split_custom_*) ----

    /** Finds the words of one piece of text, cps[ini, end), adding their lengths to out. */
    @FunctionalInterface
    private interface WordRule {
        void split(int[] cps, int ini, int end, IntList out);
    }

    /** Applies rule to every piece of the previous split. */
    private static IntList splitPieces(int[] cps, IntList offsets, WordRule rule) {
        IntList out = new IntList(offsets.size() + cps.length / 3);
        int start = 0;
        for (int k = 0; k < offsets.size(); k++) {
            int end = start + offsets.get(k);
            rule.split(cps, start, end, out);
            start = end;
        }
        return out;
    }

    /** {@code 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+}. */
    private static IntList splitGpt2(int[] cps, IntList offsets) {
        return splitPieces(cps, offsets, RegexSplitter::gpt2Words);
    }

    private static void gpt2Words(int[] cps, int ini, int end, IntList out) {
        int prevEnd = ini;
        int pos = ini;
        while (pos < end) {
            int cp = cps[pos];
            int contraction = contractionLength(cps, pos, end, false);
            int flags2 = cp == ' ' ? flagsAt(cps, pos + 1, ini, end) : CodepointFlags.of(cp);
            if (contraction > 0) {
                pos += contraction;
            } else if ((flags2 & CodepointFlags.LETTER) != 0) {
                pos = spacedRunEnd(cps, pos, ini, end, CodepointFlags.LETTER);
            } else if ((flags2 & CodepointFlags.NUMBER) != 0) {
                pos = spacedRunEnd(cps, pos, ini, end, CodepointFlags.NUMBER);
            } else if (isOther(flags2)) {
                pos = otherRunEnd(cps, pos, ini, end, false);
            } else {
                pos = whitespaceEnd(cps, pos, ini, end, false);
            }
            prevEnd = emit(out, prevEnd, pos);
        }
    }

    /**
     * {@code (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*
     * |\s*[\r\n]+|\s+(?!\S)|\s+}.
     */
    private static IntList splitLlama3(int[] cps, IntList offsets) {
        return splitPieces(cps, offsets, RegexSplitter::llama3Words);
    }

    private static void llama3Words(int[] cps, int ini, int end, IntList out) {
        int prevEnd = ini;
        int pos = ini;
        while (pos < end) {
            int cp = cps[pos];
            int flags = CodepointFlags.of(cp);
            int contraction = contractionLength(cps, pos, end, true);
            // ' ?[^\s\p{L}\p{N}]+[\r\n]*' (llama.cpp tests the current code point's flags for "defined")
            int flags2 = cp == ' ' ? flagsAt(cps, pos + 1, ini, end) : flags;
            boolean other = (flags2 & (CodepointFlags.WHITESPACE | CodepointFlags.LETTER | CodepointFlags.NUMBER)) == 0
                    && flags != 0;
            if (contraction > 0) {
                pos += contraction;
            } else if (!(cp == '\r' || cp == '\n' || (flags & CodepointFlags.NUMBER) != 0)
                    && ((flags & CodepointFlags.LETTER) != 0
                            || (flagsAt(cps, pos + 1, ini, end) & CodepointFlags.LETTER) != 0)) {
                // [^\r\n\p{L}\p{N}]?\p{L}+
                pos++;
                while ((flagsAt(cps, pos, ini, end) & CodepointFlags.LETTER) != 0) {
                    pos++;
                }
            } else if ((flags & CodepointFlags.NUMBER) != 0) {
                pos = numberEnd(cps, pos, ini, end);
            } else if (other) {
                pos = otherRunEnd(cps, pos, ini, end, true);
            } else {
                pos = whitespaceEnd(cps, pos, ini, end, true);
            }
            prevEnd = emit(out, prevEnd, pos);
        }
    }

    /**
     * Kimi-K2's tiktoken pattern: {@code [\p{Han}]+}, then letter words without Han characters with an
     * optional leading non-letter and an optional English contraction, then the Llama-3 rules for
     * numbers, punctuation and whitespace.
     */
    private static IntList splitKimiK2(int[] cps, IntList offsets) {
        return splitPieces(cps, offsets, RegexSplitter::kimiK2Words);
    }

    private static void kimiK2Words(int[] cps, int ini, int end, IntList out) {
        int prevEnd = ini;
        int pos = ini;
        while (pos < end) {
            int cp = cps[pos];
            int flags = CodepointFlags.of(cp);
            if (CodepointFlags.isHan(cp)) {
                while (pos < end && CodepointFlags.isHan(cps[pos])) {
                    pos++;
                }
                prevEnd = emit(out, prevEnd, pos);
                continue;
            }
            boolean leadingCandidate = !(cp == '\r' || cp == '\n'
                    || (flags & (CodepointFlags.LETTER | CodepointFlags.NUMBER)) != 0);
            if ((flags & CodepointFlags.LETTER) != 0
                    || (leadingCandidate && isNonHanLetter(cps, pos + 1, ini, end))) {
                boolean leading = false;
                if (leadingCandidate) {
                    leading = true;
                    pos++;
                }
                boolean letters = false;
                while (isNonHanLetter(cps, pos, ini, end)) {
                    letters = true;
                    pos++;
                }
                if (letters || (!leading && isNonHanLetter(cps, pos, ini, end))) {
                    if (!letters) {
                        pos++;
                    }
                    while (isNonHanLetter(cps, pos, ini, end)) {
                        pos++;
                    }
                    pos += contractionLength(cps, pos, end, true);
                    prevEnd = emit(out, prevEnd, pos);
                    continue;
                } else if (leading) {
                    pos--;
                }
            }
            int flags2 = cp == ' ' ? flagsAt(cps, pos + 1, ini, end) : flags;
            if ((flags & CodepointFlags.NUMBER) != 0) {
                pos = numberEnd(cps, pos, ini, end);
            } else if (isOther(flags2)) {
                pos = otherRunEnd(cps, pos, ini, end, true);
            } else {
                pos = whitespaceEnd(cps, pos, ini, end, true);
            }
            prevEnd = emit(out, prevEnd, pos);
        }
    }

    /**
     * The length of the contraction {@code 's|'t|'re|'ve|'m|'ll|'d} at pos (case-insensitive when asked), or 0
     * when none starts there.
     */
    private static int contractionLength(int[] cps, int pos, int end, boolean ignoreCase) {
        if (pos + 1 >= end || cps[pos] != '\'') {
            return 0;
        }
        int next = ignoreCase ? CodepointFlags.toLower(cps[pos + 1]) : cps[pos + 1];
        if (next == 's' || next == 't' || next == 'm' || next == 'd') {
            return 2;
        }
        if (pos + 2 < end) {
            int next2 = ignoreCase ? CodepointFlags.toLower(cps[pos + 2]) : cps[pos + 2];
            if ((next == 'r' && next2 == 'e') || (next == 'v' && next2 == 'e') || (next == 'l' && next2 == 'l')) {
                return 3;
            }
        }
        return 0;
    }

    /** The end of {@code ' ?X+'} at pos, where X is the code points with any of the flags in mask. */
    private static int spacedRunEnd(int[] cps, int pos, int ini, int end, int mask) {
        if (cps[pos] == ' ') {
            pos++;
        }
        while ((flagsAt(cps, pos, ini, end) & mask) != 0) {
            pos++;
        }
        return pos;
    }

    /** The end of {@code ' ?[^\s\p{L}\p{N}]+'} at pos, followed by {@code [\r\n]*} when asked. */
    private static int otherRunEnd(int[] cps, int pos, int ini, int end, boolean newlines) {
        if (cps[pos] == ' ') {
            pos++;
        }
        while (isOther(flagsAt(cps, pos, ini, end))) {
            pos++;
        }
        if (newlines) {
            while (pos < end && (cps[pos] == '\r' || cps[pos] == '\n')) {
                pos++;
            }
        }
        return pos;
    }

    /** The end of {@code \p{N}{1,3}} at pos: the next group of at most three digits. */
    private static int numberEnd(int[] cps, int pos, int ini, int end) {
        int start = pos;
        while (pos - start < 3 && (flagsAt(cps, pos, ini, end) & CodepointFlags.NUMBER) != 0) {
            pos++;
        }
        return pos;
    }

    /**
     * The end of the whitespace match at pos: {@code \s*[\r\n]+} first when asked, then {@code \s+(?!\S)} (the
     * last space of a run before a word goes to that word), then {@code \s+}; one code point when nothing matches.
     */
    private static int whitespaceEnd(int[] cps, int pos, int ini, int end, boolean crLfRun) {
        int ws = 0;
        int lastCrLf = 0;
        while ((flagsAt(cps, pos + ws, ini, end) & CodepointFlags.WHITESPACE) != 0) {
            int c2 = cps[pos + ws];
            if (crLfRun && (c2 == '\r' || c2 == '\n')) {
                lastCrLf = pos + ws + 1;
            }
            ws++;
        }
        if (lastCrLf > 0) {
            return lastCrLf;
        }
        if (ws > 1 && pos + ws < end) {
            return pos + ws - 1;
        }
        if (ws > 0) {
            return pos + ws;
        }
        return pos + 1;
    }

    private static boolean isNonHanLetter(int[] cps, int pos, int ini, int end) {
        return pos >= ini && pos < end && (CodepointFlags.of(cps[pos]) & CodepointFlags.LETTER) != 0
                && !CodepointFlags.isHan(cps[pos]);
    }

    /** Not whitespace, letter or number, and inside the text: {@code [^\s\p{L}\p{N}]}. */
    private static boolean isOther(int flags) {
        return (flags & (CodepointFlags.WHITESPACE | CodepointFlags.LETTER | CodepointFlags.NUMBER)) == 0 && flags != 0;
    }

    private static int flagsAt(int[] cps, int pos, int ini, int end) {
        return pos >= ini && pos < end ? CodepointFlags.of(cps[pos]) : CodepointFlags.OUT_OF_RANGE;
    }

    private static int emit(IntList out, int prevEnd, int end) {
        if (end > prevEnd) {
            out.add(end - prevEnd);
        }
        return end;
    }
}
