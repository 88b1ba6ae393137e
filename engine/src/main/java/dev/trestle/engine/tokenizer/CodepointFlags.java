package dev.trestle.engine.tokenizer;

import java.text.Normalizer;

/**
 * Unicode character classes as llama.cpp's tokenizers see them: one general-category flag per
 * code point (letter, number, mark, punctuation, symbol, separator, control, undefined) plus its
 * own whitespace set. Categories come from the JDK's Unicode tables.
 */
final class CodepointFlags {
    static final int UNDEFINED = 0x0001;
    static final int NUMBER = 0x0002;
    static final int LETTER = 0x0004;
    static final int SEPARATOR = 0x0008;
    static final int ACCENT_MARK = 0x0010;
    static final int PUNCTUATION = 0x0020;
    static final int SYMBOL = 0x0040;
    static final int CONTROL = 0x0080;
    static final int MASK_CATEGORIES = 0x00FF;
    static final int WHITESPACE = 0x0100;

    /** Flags for positions outside the text: no category at all (llama.cpp's empty flags). */
    static final int OUT_OF_RANGE = 0;

    private static final short[] BMP = new short[0x10000];

    static {
        for (int cp = 0; cp < 0x10000; cp++) {
            BMP[cp] = (short) compute(cp);
        }
    }

    private CodepointFlags() {
    }

    /** The flags of one code point. */
    static int of(int cp) {
        if (cp >= 0 && cp < 0x10000) {
            return BMP[cp];
        }
        return cp <= Character.MAX_CODE_POINT && cp >= 0 ? compute(cp) : UNDEFINED;
    }

    static boolean isWhitespace(int cp) {
        return (of(cp) & WHITESPACE) != 0;
    }

    private static int compute(int cp) {
        int f = switch (Character.getType(cp)) {
            case Character.UPPERCASE_LETTER, Character.LOWERCASE_LETTER, Character.TITLECASE_LETTER,
                 Character.MODIFIER_LETTER, Character.OTHER_LETTER -> LETTER;
            case Character.NON_SPACING_MARK, Character.ENCLOSING_MARK, Character.COMBINING_SPACING_MARK -> ACCENT_MARK;
            case Character.DECIMAL_DIGIT_NUMBER, Character.LETTER_NUMBER, Character.OTHER_NUMBER -> NUMBER;
            case Character.SPACE_SEPARATOR, Character.LINE_SEPARATOR, Character.PARAGRAPH_SEPARATOR -> SEPARATOR;
            case Character.CONTROL, Character.FORMAT, Character.PRIVATE_USE, Character.SURROGATE -> CONTROL;
            case Character.DASH_PUNCTUATION, Character.START_PUNCTUATION, Character.END_PUNCTUATION,
                 Character.CONNECTOR_PUNCTUATION, Character.OTHER_PUNCTUATION, Character.INITIAL_QUOTE_PUNCTUATION,
                 Character.FINAL_QUOTE_PUNCTUATION -> PUNCTUATION;
            case Character.MATH_SYMBOL, Character.CURRENCY_SYMBOL, Character.MODIFIER_SYMBOL,
                 Character.OTHER_SYMBOL -> SYMBOL;
            default -> UNDEFINED;
        };
        if (isWhitespaceCodepoint(cp)) {
            f |= WHITESPACE;
        }
        return f;
    }

    /** The Unicode White_Space property (PropList.txt), the set llama.cpp uses for {@code \s}. */
    private static boolean isWhitespaceCodepoint(int cp) {
        return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680
                || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F
                || cp == 0x205F || cp == 0x3000;
    }

    /** Simple (one-to-one) lowercase mapping from UnicodeData.txt. */
    static int toLower(int cp) {
        return Character.toLowerCase(cp);
    }

    /** The first code point of the canonical decomposition (llama.cpp's one-to-one NFD table). */
    static int nfdFirst(int cp) {
        if (cp < 0xC0) {
            return cp;
        }
        if (cp < 0x10000) {
            int cached = NFD_BMP[cp];
            if (cached == 0) {
                cached = computeNfdFirst(cp) + 1; // racy but idempotent
                NFD_BMP[cp] = cached;
            }
            return cached - 1;
        }
        return computeNfdFirst(cp);
    }

    /** nfdFirst + 1 for BMP code points, 0 = not computed yet. */
    private static final int[] NFD_BMP = new int[0x10000];

    private static int computeNfdFirst(int cp) {
        String s = Character.toString(cp);
        if (Normalizer.isNormalized(s, Normalizer.Form.NFD)) {
            return cp;
        }
        return Normalizer.normalize(s, Normalizer.Form.NFD).codePointAt(0);
    }

    /** CJK ideograph ranges that BERT's basic tokenizer splits into single-character words. */
    static boolean isChineseChar(int cp) {
        return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF)
                || (cp >= 0x20000 && cp <= 0x2A6DF) || (cp >= 0x2A700 && cp <= 0x2B73F)
                || (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B920 && cp <= 0x2CEAF)
                || (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
    }

    /** Han ideographs (Kimi-K2's {@code \p{Han}} split). */
    static boolean isHan(int cp) {
        return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF)
                || (cp >= 0x20000 && cp <= 0x2A6DF) || (cp >= 0x2A700 && cp <= 0x2B73F)
                || (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B820 && cp <= 0x2CEAF)
                || (cp >= 0x2CEB0 && cp <= 0x2EBEF) || (cp >= 0xF900 && cp <= 0xFAFF)
                || (cp >= 0x2F800 && cp <= 0x2FA1F);
    }
}
