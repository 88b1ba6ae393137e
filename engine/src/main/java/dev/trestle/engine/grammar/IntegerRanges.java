package dev.trestle.engine.grammar;

import java.util.ArrayList;
import java.util.List;

/**
 * GBNF for the decimal integers in a range, digit by digit (canonical form: no leading zeros, no "-0", at
 * most 16 digits like the {@code integral-part} rule).
 */
final class IntegerRanges {
    private static final int MAX_DIGITS = 16;

    private IntegerRanges() {
    }

    /** Alternatives matching the integers in [lo, hi]; a null bound is open. */
    static String gbnf(Long lo, Long hi) {
        List<String> alts = new ArrayList<>();
        if (lo == null || lo < 0) {
            // negative n in [lo, min(hi, -1)]: its magnitude lies in [max(1, -hi), -lo]
            long magLo = hi != null && hi < 0 ? -hi : 1;
            Long magHi = lo == null ? null : -lo;
            alts.add("\"-\" (" + nonNegative(magLo, magHi) + ")");
        }
        if (hi == null || hi >= 0) {
            alts.add(nonNegative(lo == null ? 0 : Math.max(lo, 0), hi));
        }
        return String.join(" | ", alts);
    }

    // [a, b] with a >= 0; b null means up to MAX_DIGITS digits
    private static String nonNegative(long a, Long b) {
        List<String> alts = new ArrayList<>();
        int la = digits(a);
        int lb = b == null ? MAX_DIGITS : digits(b);
        for (int len = la; len <= lb; len++) {
            long from = len == la ? a : pow10(len - 1);
            if (b == null && len > la) {
                // every longer number: one alternative for all remaining lengths
                alts.add("[1-9] [0-9]{" + (len - 1) + "," + (MAX_DIGITS - 1) + "}");
                break;
            }
            long to = b != null && len == lb ? b : pow10(len) - 1;
            alts.add(sameLength(Long.toString(from), Long.toString(to)));
        }
        return String.join(" | ", alts);
    }

    // x <= y, both of the same length
    private static String sameLength(String x, String y) {
        if (x.equals(y)) {
            return GbnfText.literal(x);
        }
        int p = 0;
        while (x.charAt(p) == y.charAt(p)) {
            p++;
        }
        String prefix = p > 0 ? GbnfText.literal(x.substring(0, p)) + " " : "";
        String xs = x.substring(p);
        String ys = y.substring(p);
        int m = xs.length();
        char x0 = xs.charAt(0);
        char y0 = ys.charAt(0);
        if (m == 1) {
            return prefix + digitClass(x0, y0);
        }
        String xt = xs.substring(1);
        String yt = ys.substring(1);
        boolean xZeros = xt.chars().allMatch(c -> c == '0');
        boolean yNines = yt.chars().allMatch(c -> c == '9');
        List<String> alts = new ArrayList<>();
        if (!xZeros) {
            alts.add("\"" + x0 + "\" " + group(sameLength(xt, "9".repeat(m - 1))));
        }
        char midLo = xZeros ? x0 : (char) (x0 + 1);
        char midHi = yNines ? y0 : (char) (y0 - 1);
        if (midLo <= midHi) {
            alts.add(digitClass(midLo, midHi) + " [0-9]{" + (m - 1) + "}");
        }
        if (!yNines) {
            alts.add("\"" + y0 + "\" " + group(sameLength("0".repeat(m - 1), yt)));
        }
        return prefix + "(" + String.join(" | ", alts) + ")";
    }

    private static String group(String s) {
        return s.contains(" | ") ? "(" + s + ")" : s;
    }

    private static String digitClass(char lo, char hi) {
        return lo == hi ? "\"" + lo + "\"" : "[" + lo + "-" + hi + "]";
    }

    private static int digits(long v) {
        return Long.toString(v).length();
    }

    private static long pow10(int n) {
        long r = 1;
        for (int i = 0; i < n; i++) {
            r *= 10;
        }
        return r;
    }
}
