package dev.trestle.scheduler.plan;

import dev.trestle.common.TrestleException;
import java.util.Arrays;
import java.util.Locale;

/** {@code -ts a,b,...}: proportions per GPU (60,40 == 0.6,0.4 == 3,2); missing trailing values are 0. */
public final class TensorSplit {
    private TensorSplit() {
    }

    /** Parses the list as given (not normalized); empty for an empty string. */
    public static double[] parse(String spec) {
        if (spec == null || spec.isBlank()) {
            return new double[0];
        }
        String[] parts = spec.split("[,/;]");
        double[] v = new double[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                v[i] = Double.parseDouble(parts[i].trim());
            } catch (NumberFormatException e) {
                throw new TrestleException("-ts '" + spec + "': '" + parts[i] + "' is not a number",
                        "give one proportion per GPU, e.g. -ts 60,40");
            }
        }
        return v;
    }

    /** Validates {@code values} against {@code gpus} devices and returns proportions summing to 1. */
    public static double[] normalize(double[] values, int gpus) {
        if (values.length > gpus) {
            throw new TrestleException("-ts has " + values.length + " values but there " + (gpus == 1 ? "is " : "are ")
                    + gpus + " GPU" + (gpus == 1 ? "" : "s"), "give at most one proportion per GPU (trestle devices lists them)");
        }
        double sum = 0;
        for (double x : values) {
            if (x < 0 || Double.isNaN(x) || Double.isInfinite(x)) {
                throw new TrestleException("-ts " + render(values) + " has a negative or invalid value",
                        "proportions are zero or positive, e.g. -ts 60,40");
            }
            sum += x;
        }
        if (sum == 0) {
            throw new TrestleException("-ts " + render(values) + " is all zeros", "give at least one GPU a positive share");
        }
        double[] p = Arrays.copyOf(values, gpus);
        for (int i = 0; i < p.length; i++) {
            p[i] /= sum;
        }
        return p;
    }

    /** Proportions as whole percentages, "61,39". */
    public static String percent(double[] p) {
        StringBuilder sb = new StringBuilder();
        for (double x : p) {
            if (!sb.isEmpty()) {
                sb.append(',');
            }
            sb.append(Math.round(x * 100));
        }
        return sb.toString();
    }

    private static String render(double[] v) {
        StringBuilder sb = new StringBuilder();
        for (double x : v) {
            if (!sb.isEmpty()) {
                sb.append(',');
            }
            sb.append(x == Math.rint(x) ? Long.toString((long) x) : String.format(Locale.ROOT, "%s", x));
        }
        return sb.toString();
    }
}
