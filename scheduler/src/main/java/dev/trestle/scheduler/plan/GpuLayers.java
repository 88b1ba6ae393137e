package dev.trestle.scheduler.plan;

import dev.trestle.common.TrestleException;
import java.util.Locale;

/** {@code -ngl N|auto|all}: how many repeating layers (from the last) live on GPUs. */
public record GpuLayers(Mode mode, int count) {
    /** How the value was given. */
    public enum Mode { AUTO, ALL, COUNT }

    public static final GpuLayers AUTO = new GpuLayers(Mode.AUTO, 0);
    public static final GpuLayers ALL = new GpuLayers(Mode.ALL, 0);

    public static GpuLayers of(int n) {
        return n < 0 ? AUTO : new GpuLayers(Mode.COUNT, n);
    }

    /** Parses "auto", "all" or a count (-1 means auto, as in llama.cpp). */
    public static GpuLayers parse(String s) {
        String v = s.trim().toLowerCase(Locale.ROOT);
        if (v.equals("auto")) {
            return AUTO;
        }
        if (v.equals("all")) {
            return ALL;
        }
        try {
            return of(Integer.parseInt(v));
        } catch (NumberFormatException e) {
            throw new TrestleException("-ngl '" + s + "' is not a number, auto or all", "e.g. -ngl 99, -ngl all or -ngl auto");
        }
    }

    /** The count for a model of {@code nLayer} layers ("all" and auto mean n_layer + 1: the output head too). */
    public int resolve(int nLayer) {
        return mode == Mode.COUNT ? Math.min(count, nLayer + 1) : nLayer + 1;
    }

    @Override
    public String toString() {
        return mode == Mode.COUNT ? Integer.toString(count) : mode.name().toLowerCase(Locale.ROOT);
    }
}
