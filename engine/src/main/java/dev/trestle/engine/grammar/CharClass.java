package dev.trestle.engine.grammar;

import java.util.Arrays;

/**
 * A set of code points: sorted, disjoint, inclusive ranges. Negated classes ({@code [^...]}, {@code .}) are
 * stored complemented, so matching never needs to know how the class was written.
 */
public final class CharClass {
    /** Largest Unicode code point. */
    public static final int MAX_CODE_POINT = 0x10FFFF;

    private final int[] ranges; // (lo, hi) inclusive pairs, sorted, disjoint, non-adjacent
    private final long ascii0; // membership of code points 0..63
    private final long ascii1; // membership of code points 64..127
    private final String source; // as written, for printing

    private CharClass(int[] ranges, String source) {
        this.ranges = ranges;
        this.source = source;
        long a0 = 0;
        long a1 = 0;
        for (int i = 0; i < ranges.length; i += 2) {
            for (int c = ranges[i]; c <= Math.min(ranges[i + 1], 127); c++) {
                if (c < 64) {
                    a0 |= 1L << c;
                } else {
                    a1 |= 1L << (c - 64);
                }
            }
        }
        this.ascii0 = a0;
        this.ascii1 = a1;
    }

    /** The class of the given inclusive (lo, hi) pairs, in any order, complemented when {@code negated}. */
    public static CharClass of(int[] pairs, boolean negated, String source) {
        int[] merged = normalize(pairs);
        return new CharClass(negated ? complement(merged) : merged, source);
    }

    /** A single code point. */
    public static CharClass single(int cp) {
        return new CharClass(new int[] {cp, cp}, null);
    }

    /** Any code point ({@code .}). */
    public static CharClass any() {
        return new CharClass(new int[] {0, MAX_CODE_POINT}, ".");
    }

    /** True when {@code cp} is in the class. */
    public boolean matches(int cp) {
        if (cp < 64) {
            return (ascii0 >>> cp & 1) != 0;
        }
        if (cp < 128) {
            return (ascii1 >>> (cp - 64) & 1) != 0;
        }
        int[] r = ranges;
        for (int i = 0; i < r.length; i += 2) {
            if (cp < r[i]) {
                return false;
            }
            if (cp <= r[i + 1]) {
                return true;
            }
        }
        return false;
    }

    /** True when some code point in {@code [lo, hi]} is in the class (used for partial UTF-8 sequences). */
    public boolean intersects(int lo, int hi) {
        int[] r = ranges;
        for (int i = 0; i < r.length; i += 2) {
            if (r[i] <= hi && r[i + 1] >= lo) {
                return true;
            }
        }
        return false;
    }

    /** The inclusive (lo, hi) pairs, sorted and disjoint (a copy). */
    public int[] ranges() {
        return ranges.clone();
    }

    int[] rangesView() {
        return ranges;
    }

    /** True when the class holds exactly one code point. */
    public boolean isSingle() {
        return ranges.length == 2 && ranges[0] == ranges[1];
    }

    /** GBNF text for this class. */
    public String toGbnf() {
        if (source != null) {
            return source;
        }
        if (isSingle()) {
            return "\"" + GbnfText.escape(ranges[0], true) + "\"";
        }
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < ranges.length; i += 2) {
            sb.append(GbnfText.escape(ranges[i], false));
            if (ranges[i + 1] != ranges[i]) {
                sb.append('-').append(GbnfText.escape(ranges[i + 1], false));
            }
        }
        return sb.append(']').toString();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof CharClass c && Arrays.equals(ranges, c.ranges);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(ranges);
    }

    @Override
    public String toString() {
        return toGbnf();
    }

    private static int[] normalize(int[] pairs) {
        int n = pairs.length / 2;
        long[] packed = new long[n];
        for (int i = 0; i < n; i++) {
            int lo = pairs[2 * i];
            int hi = pairs[2 * i + 1];
            packed[i] = ((long) Math.min(lo, hi) << 32) | Math.max(lo, hi);
        }
        Arrays.sort(packed);
        int[] out = new int[2 * n];
        int m = 0;
        for (long p : packed) {
            int lo = (int) (p >>> 32);
            int hi = (int) p;
            if (m > 0 && lo <= out[m - 1] + 1) {
                out[m - 1] = Math.max(out[m - 1], hi);
            } else {
                out[m++] = lo;
                out[m++] = hi;
            }
        }
        return Arrays.copyOf(out, m);
    }

    private static int[] complement(int[] r) {
        int[] out = new int[r.length + 2];
        int m = 0;
        int next = 0;
        for (int i = 0; i < r.length; i += 2) {
            if (r[i] > next) {
                out[m++] = next;
                out[m++] = r[i] - 1;
            }
            next = r[i + 1] + 1;
        }
        if (next <= MAX_CODE_POINT) {
            out[m++] = next;
            out[m++] = MAX_CODE_POINT;
        }
        return Arrays.copyOf(out, m);
    }
}
