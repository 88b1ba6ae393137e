package dev.trestle.scheduler.device;

import java.util.Locale;

/** The kinds of device a backend can offer; the prefix is how llama.cpp names their buffers (CUDA0, Vulkan1). */
public enum DeviceKind {
    CPU("CPU"),
    CUDA("CUDA"),
    VULKAN("Vulkan");

    private final String prefix;

    DeviceKind(String prefix) {
        this.prefix = prefix;
    }

    /** Buffer-name prefix: "CUDA", "Vulkan", "CPU". */
    public String prefix() {
        return prefix;
    }

    /** True when the backend can split one matrix by rows across devices ({@code -sm row}); Vulkan cannot yet. */
    public boolean supportsRowSplit() {
        return this == CUDA;
    }

    /** Parses "cuda", "CUDA", "vulkan", "cpu" (case-insensitive), or returns null. */
    public static DeviceKind parse(String s) {
        for (DeviceKind k : values()) {
            if (k.name().equalsIgnoreCase(s.trim())) {
                return k;
            }
        }
        return null;
    }

    @Override
    public String toString() {
        return prefix.toLowerCase(Locale.ROOT);
    }
}
