package dev.trestle.engine.runtime;

import dev.trestle.common.TrestleException;

/** llama.cpp's {@code -fa on|off|auto}; auto resolves to on for the CPU backend, as in llama.cpp. */
public enum FlashAttn {
    ON, OFF, AUTO;

    public static FlashAttn parse(String s) {
        return switch (s.toLowerCase(java.util.Locale.ROOT)) {
            case "on", "1", "true" -> ON;
            case "off", "0", "false" -> OFF;
            case "auto", "-1" -> AUTO;
            default -> throw new TrestleException("unknown -fa value '" + s + "'", "use -fa on, off or auto");
        };
    }

    public boolean resolve() {
        return this != OFF;
    }
}
