package dev.trestle.scheduler.memory;

import dev.trestle.common.TrestleException;
import java.util.Locale;

/** Parses and prints byte counts the way users write them ("16GiB", "64GB", "512MiB", "448GB/s"). */
public final class ByteSize {
    public static final long KIB = 1024;
    public static final long MIB = 1024 * KIB;
    public static final long GIB = 1024 * MIB;

    private ByteSize() {
    }

    /**
     * Parses a size with a unit: B, KB/MB/GB/TB (powers of 1000), KiB/MiB/GiB/TiB and K/M/G/T
     * (powers of 1024). {@code what} names the flag in the error.
     */
    public static long parse(String text, String what) {
        String s = text.trim().replace(" ", "");
        int i = 0;
        while (i < s.length() && (Character.isDigit(s.charAt(i)) || s.charAt(i) == '.')) {
            i++;
        }
        if (i == 0) {
            throw bad(text, what);
        }
        double value;
        try {
            value = Double.parseDouble(s.substring(0, i));
        } catch (NumberFormatException e) {
            throw bad(text, what);
        }
        long unit = switch (s.substring(i).toLowerCase(Locale.ROOT)) {
            case "b" -> 1L;
            case "kb" -> 1000L;
            case "mb" -> 1000_000L;
            case "gb" -> 1000_000_000L;
            case "tb" -> 1000_000_000_000L;
            case "k", "kib" -> KIB;
            case "m", "mib" -> MIB;
            case "g", "gib" -> GIB;
            case "t", "tib" -> 1024 * GIB;
            default -> throw bad(text, what);
        };
        return Math.round(value * unit);
    }

    /** Parses a bandwidth such as "448GB/s" (a bare number means GB/s) into bytes per second. */
    public static double parseBandwidth(String text, String what) {
        String s = text.trim();
        if (s.toLowerCase(Locale.ROOT).endsWith("/s")) {
            s = s.substring(0, s.length() - 2);
        }
        if (!s.isEmpty() && Character.isDigit(s.charAt(s.length() - 1))) {
            s = s + "GB";
        }
        return parse(s, what);
    }

    private static TrestleException bad(String text, String what) {
        return new TrestleException(what + ": cannot read the size '" + text + "'",
                "write a number with a unit, e.g. 16GiB, 24GB, 512MiB (GiB = 1024^3 bytes, GB = 1000^3)");
    }

    /** "15.9 GiB", "812.0 MiB", "300 B": binary units, one decimal. */
    public static String format(long bytes) {
        double b = Math.abs((double) bytes);
        String sign = bytes < 0 ? "-" : "";
        if (b >= GIB) {
            return sign + String.format(Locale.ROOT, "%.2f GiB", b / GIB);
        }
        if (b >= MIB) {
            return sign + String.format(Locale.ROOT, "%.1f MiB", b / MIB);
        }
        if (b >= KIB) {
            return sign + String.format(Locale.ROOT, "%.1f KiB", b / KIB);
        }
        return sign + (long) b + " B";
    }

    /** Whole MiB, rounded up, as llama.cpp prints budgets. */
    public static long mibCeil(long bytes) {
        return Math.floorDiv(bytes + MIB - 1, MIB);
    }
}
