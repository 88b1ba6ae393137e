package dev.trestle.scheduler.plan;

import dev.trestle.scheduler.device.Device;
import java.util.Locale;

/**
 * Published memory bandwidths of common GPUs, used for the tokens/s ceiling when --bandwidth does not
 * name a device. Longer names come first so "RTX 4060 Ti" is not read as "RTX 4060".
 */
final class KnownBandwidth {
    /** Dual-channel DDR5-5600: what a typical desktop reaches; --bandwidth cpu=... overrides it. */
    static final double CPU_ASSUMED = 80e9;

    private static final String[] NAMES = {
        "RTX 5090", "RTX 5080", "RTX 5070 Ti", "RTX 5070", "RTX 5060 Ti", "RTX 5060",
        "RTX 4090", "RTX 4080", "RTX 4070 Ti", "RTX 4070", "RTX 4060 Ti", "RTX 4060",
        "RTX 3090", "RTX 3080", "RTX 3070", "RTX 3060",
        "H200", "H100", "A100", "L40S", "L4", "A6000",
        "RX 7900 XTX", "RX 7900 XT", "RX 7800 XT", "RX 7600", "RX 9070 XT",
    };
    private static final double[] GBPS = {
        1792, 960, 896, 672, 448, 448,
        1008, 717, 504, 504, 288, 272,
        936, 760, 448, 360,
        4800, 3350, 2039, 864, 300, 768,
        960, 800, 624, 288, 640,
    };

    private KnownBandwidth() {
    }

    /** Bytes/s for a known GPU name, or 0. */
    static double of(Device d) {
        String name = d.name().toUpperCase(Locale.ROOT);
        for (int i = 0; i < NAMES.length; i++) {
            if (name.contains(NAMES[i].toUpperCase(Locale.ROOT))) {
                return GBPS[i] * 1e9;
            }
        }
        return 0;
    }
}
