package dev.trestle.engine.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

class ProgressPrinterTest {
    private long now;

    @Test
    void plainLinesEveryTenPercentWithRateAndEta() {
        StringWriter sw = new StringWriter();
        ProgressPrinter p = new ProgressPrinter(new PrintWriter(sw), false, () -> now);
        long total = 100L << 20;
        p.started("m.gguf", total, 0);
        for (int i = 1; i <= 100; i++) {
            now += 10_000_000L; // 10 ms per MiB -> 100 MiB/s
            p.advanced(total * i / 100);
        }
        p.finished(total, true);
        String out = sw.toString();
        assertFalse(out.contains("\r"), "no carriage returns in logs");
        String[] lines = out.split("\n");
        assertEquals("downloading m.gguf (100.0 MiB)", lines[0]);
        assertEquals(11, lines.length, out); // header, 10%..90%, done line
        assertTrue(lines[1].contains(" 10%") && lines[1].contains("10.0 MiB / 100.0 MiB")
                && lines[1].contains("100.0 MiB/s") && lines[1].contains("ETA 1s"), lines[1]);
        assertTrue(lines[10].contains("100%") && lines[10].endsWith("done"), lines[10]);
    }

    @Test
    void terminalRedrawsOneLine() {
        StringWriter sw = new StringWriter();
        ProgressPrinter p = new ProgressPrinter(new PrintWriter(sw), true, () -> now);
        p.started("m.gguf", 1000, 400);
        now += 200_000_000L;
        p.advanced(700);
        String out = sw.toString();
        assertTrue(out.contains("resuming at 400 B"), out);
        assertTrue(out.contains("\r[=====================>        ]  70%"), out);
        assertTrue(out.contains("ETA 1s"), out);
    }

    @Test
    void unitsAndDurations() {
        assertEquals("512 B", ProgressPrinter.bytes(512));
        assertEquals("1.5 GiB", ProgressPrinter.bytes(3L << 29));
        assertEquals("2m05s", ProgressPrinter.duration(125));
        assertEquals("1h01m", ProgressPrinter.duration(3660));
    }
}
