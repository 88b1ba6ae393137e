package dev.trestle.engine.grammar;

/**
 * Byte-at-a-time UTF-8 decoding for grammar matching, as a packed state {@code remaining << 24 | value}
 * (remaining continuation bytes, bits so far). Rejects what is not UTF-8: stray continuation bytes, overlong
 * forms (C0, C1, E0 80..9F, F0 80..8F) and code points past U+10FFFF, so an overlong spelling of an allowed
 * ASCII character cannot slip through a grammar.
 */
final class Utf8Decoder {
    static final int INVALID = -1;

    private Utf8Decoder() {
    }

    /** The state after byte {@code b}, or {@link #INVALID}; with remaining 0 the value is a whole code point. */
    static int step(int remaining, int value, int b) {
        if (remaining == 0) {
            if (b < 0x80) {
                return b;
            }
            if (b >= 0xC2 && b <= 0xDF) {
                return 1 << 24 | (b & 0x1F);
            }
            if (b >= 0xE0 && b <= 0xEF) {
                return 2 << 24 | (b & 0x0F);
            }
            if (b >= 0xF0 && b <= 0xF4) {
                return 3 << 24 | (b & 0x07);
            }
            return INVALID;
        }
        if ((b & 0xC0) != 0x80) {
            return INVALID;
        }
        // the first continuation byte decides overlong and out-of-range forms; later value==0 cannot recur
        if (remaining == 2 && value == 0 && b < 0xA0 || remaining == 3 && value == 0 && b < 0x90
                || remaining == 3 && value == 4 && b >= 0x90) {
            return INVALID;
        }
        return (remaining - 1) << 24 | (value << 6 | (b & 0x3F));
    }

    static int remaining(int state) {
        return state >>> 24;
    }

    static int value(int state) {
        return state & 0xFFFFFF;
    }

    /** Lowest code point a partial sequence can still become. */
    static int low(int remaining, int value) {
        // a lone E0 or F0 lead has value 0; the shortest legal forms start at U+0800 and U+10000
        int min = remaining == 3 ? 0x10000 : remaining == 2 ? 0x800 : 0x80;
        return Math.max(value << 6 * remaining, min);
    }

    /** Highest code point a partial sequence can still become. */
    static int high(int remaining, int value) {
        return Math.min(value << 6 * remaining | ((1 << 6 * remaining) - 1), CharClass.MAX_CODE_POINT);
    }
}
