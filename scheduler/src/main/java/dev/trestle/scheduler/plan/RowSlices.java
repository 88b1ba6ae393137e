package dev.trestle.scheduler.plan;

import dev.trestle.backends.type.GgmlType;

/**
 * Row split arithmetic ({@code -sm row}): where each GPU's slice of a matrix's rows begins and ends. The planner
 * budgets with it and the engine cuts the uploaded matrices with it, so both agree on every byte.
 */
public final class RowSlices {
    private RowSlices() {
    }

    /** Slice boundaries fall on multiples of the type's block size (32 rows for plain types). */
    public static long granule(GgmlType type) {
        return type.isQuantized() ? type.blockSize() : 32;
    }

    /**
     * Boundaries of {@code rows} rows cut in {@code split} proportions (summing to 1): GPU g holds rows
     * {@code [b[g], b[g+1])}; {@code b[0] = 0}, {@code b[split.length] = rows}. Inner boundaries are rounded to
     * multiples of {@code granule} and never decrease, so a GPU may get no rows.
     */
    public static long[] boundaries(long rows, long granule, double[] split) {
        long[] b = new long[split.length + 1];
        double acc = 0;
        for (int g = 0; g < split.length; g++) {
            acc += split[g];
            long boundary = g == split.length - 1 ? rows : Math.min(rows, Math.round(rows * acc / granule) * granule);
            b[g + 1] = Math.max(boundary, b[g]);
        }
        return b;
    }

    /** {@link #boundaries} as ints, for matrices whose row count fits an int (every projection does). */
    public static int[] boundaries(int rows, GgmlType type, double[] split) {
        long[] b = boundaries(rows, granule(type), split);
        int[] out = new int[b.length];
        for (int i = 0; i < b.length; i++) {
            out[i] = (int) b[i];
        }
        return out;
    }
}
