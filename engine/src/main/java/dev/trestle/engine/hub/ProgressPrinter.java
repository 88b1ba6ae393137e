package dev.trestle.engine.hub;

import java.io.PrintWriter;
import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * Prints download progress: on a terminal one bar redrawn in place (bytes, percent, rate, ETA); into a
 * log or pipe plain lines every 10% (and at least every 30 s), so logs stay readable.
 */
public final class ProgressPrinter implements DownloadProgress {
    private static final int BAR_WIDTH = 30;
    private static final long TTY_REDRAW_NS = 100_000_000L;
    private static final long PLAIN_MAX_SILENCE_NS = 30_000_000_000L;

    private final PrintWriter out;
    private final boolean tty;
    private final LongSupplier nanoClock;
    private String name;
    private long total;
    private long startedAtBytes;
    private long startNs;
    private long lastPrintNs;
    private int lastDecile;

    /**
     * @param tty       redraw one line with '\r' (a terminal) instead of printing plain lines
     * @param nanoClock time source ({@code System::nanoTime})
     */
    public ProgressPrinter(PrintWriter out, boolean tty, LongSupplier nanoClock) {
        this.out = out;
        this.tty = tty;
        this.nanoClock = nanoClock;
    }

    /** A printer on stderr that draws a bar when stderr is a terminal. */
    public static ProgressPrinter toStderr() {
        java.io.Console c = System.console();
        return new ProgressPrinter(new PrintWriter(System.err, true), c != null && c.isTerminal(), System::nanoTime);
    }

    @Override
    public void started(String name, long total, long resumedAt) {
        this.name = name;
        this.total = total;
        this.startedAtBytes = resumedAt;
        this.startNs = nanoClock.getAsLong();
        this.lastPrintNs = startNs;
        this.lastDecile = total > 0 ? (int) (resumedAt * 10 / total) : 0;
        String resumed = resumedAt > 0 ? ", resuming at " + bytes(resumedAt) : "";
        out.println("downloading " + name + " (" + (total >= 0 ? bytes(total) : "size unknown") + resumed + ")");
        out.flush();
    }

    @Override
    public void advanced(long done) {
        long now = nanoClock.getAsLong();
        if (tty) {
            if (now - lastPrintNs >= TTY_REDRAW_NS) {
                lastPrintNs = now;
                out.print("\r" + line(done, now) + "\u001b[K");
                out.flush();
            }
            return;
        }
        int decile = total > 0 ? (int) (done * 10 / total) : 0;
        if ((total > 0 && decile > lastDecile && done < total) || now - lastPrintNs >= PLAIN_MAX_SILENCE_NS) {
            lastDecile = decile;
            lastPrintNs = now;
            out.println("  " + line(done, now));
            out.flush();
        }
    }

    @Override
    public void finished(long done, boolean ok) {
        long now = nanoClock.getAsLong();
        String end = ok ? "  " + line(done, now) + " done" : "  " + line(done, now) + " interrupted";
        out.println(tty ? "\r" + end.strip() + "\u001b[K" : end);
        out.flush();
    }

    /** "[=====>     ]  45%  12.3 MiB / 27.0 MiB  5.1 MiB/s  ETA 3s" (bar and ETA only when the size is known). */
    String line(long done, long now) {
        double secs = Math.max(1e-9, (now - startNs) / 1e9);
        double rate = (done - startedAtBytes) / secs;
        StringBuilder sb = new StringBuilder();
        if (total > 0) {
            int pct = (int) Math.min(100, done * 100 / total);
            int filled = (int) Math.min(BAR_WIDTH, done * BAR_WIDTH / total);
            sb.append('[').append("=".repeat(filled));
            if (filled < BAR_WIDTH) {
                sb.append('>').append(" ".repeat(BAR_WIDTH - filled - 1));
            }
            sb.append("] ").append(String.format(Locale.ROOT, "%3d%%", pct)).append("  ")
                    .append(bytes(done)).append(" / ").append(bytes(total));
        } else {
            sb.append(bytes(done));
        }
        sb.append("  ").append(bytes((long) rate)).append("/s");
        if (total > 0 && rate > 0 && done < total) {
            sb.append("  ETA ").append(duration((long) Math.ceil((total - done) / rate)));
        }
        return sb.toString();
    }

    /** Binary units as llama.cpp and most tools print them: "512 B", "12.3 MiB". */
    public static String bytes(long n) {
        if (n < 1024) {
            return n + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        double v = n;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
    }

    static String duration(long s) {
        if (s < 60) {
            return s + "s";
        }
        if (s < 3600) {
            return (s / 60) + "m" + String.format(Locale.ROOT, "%02d", s % 60) + "s";
        }
        return (s / 3600) + "h" + String.format(Locale.ROOT, "%02d", (s % 3600) / 60) + "m";
    }

    String name() {
        return name;
    }
}
