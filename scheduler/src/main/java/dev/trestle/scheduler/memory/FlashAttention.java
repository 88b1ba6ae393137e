package dev.trestle.scheduler.memory;

import java.util.Locale;

/** {@code -fa on|off|auto}, as in llama-server. */
public enum FlashAttention {
    ON, OFF, AUTO;

    /** Auto resolves to on: every Trestle backend has a flash-attention path. */
    public boolean enabled() {
        return this != OFF;
    }

    public static FlashAttention parse(String s) {
        return switch (s.trim().toLowerCase(Locale.ROOT)) {
            case "on", "1", "true", "enabled" -> ON;
            case "off", "0", "false", "disabled" -> OFF;
            case "auto", "-1" -> AUTO;
            default -> throw new IllegalArgumentException("expected on, off or auto, got '" + s + "'");
        };
    }
}
