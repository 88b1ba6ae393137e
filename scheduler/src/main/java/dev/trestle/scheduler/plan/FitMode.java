package dev.trestle.scheduler.plan;

import dev.trestle.common.TrestleException;
import java.util.Locale;

/** {@code --fit on|off}; unset means on exactly when -ngl is auto. */
public enum FitMode {
    ON, OFF, UNSET;

    public static FitMode parse(String s) {
        return switch (s.trim().toLowerCase(Locale.ROOT)) {
            case "on", "1", "true" -> ON;
            case "off", "0", "false" -> OFF;
            default -> throw new TrestleException("--fit '" + s + "' is not on or off", "use --fit on or --fit off");
        };
    }
}
