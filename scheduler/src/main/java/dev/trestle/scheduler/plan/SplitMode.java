package dev.trestle.scheduler.plan;

import dev.trestle.common.TrestleException;
import java.util.Locale;

/** {@code -sm none|layer|row}. */
public enum SplitMode {
    /** One GPU ({@code -mg}) holds every offloaded layer. */
    NONE,
    /** Consecutive layers go to GPUs in {@code -ts} proportions. */
    LAYER,
    /** Each matrix is cut by rows across GPUs; the rest lives on the main GPU. */
    ROW;

    public static SplitMode parse(String s) {
        for (SplitMode m : values()) {
            if (m.name().equalsIgnoreCase(s.trim())) {
                return m;
            }
        }
        throw new TrestleException("-sm '" + s + "' is not a split mode", "use -sm none, -sm layer or -sm row");
    }

    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
