package dev.trestle.backends.quant;

import dev.trestle.backends.bytes.Le;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * The 12-byte scale/min packing shared by Q4_K and Q5_K: eight 6-bit scales and eight 6-bit mins.
 * Entries 0-3 sit in the low 6 bits of bytes 0-3 (scales) and 4-7 (mins); entries 4-7 keep their
 * low nibbles in bytes 8-11 and their top 2 bits in the high bits of bytes 0-7.
 */
final class KScales {
    private KScales() {
    }

    static int scale(MemorySegment s, long base, int j) {
        if (j < 4) {
            return Le.u8(s, base + j) & 63;
        }
        return (Le.u8(s, base + j + 4) & 0xF) | ((Le.u8(s, base + j - 4) >>> 6) << 4);
    }

    static int min(MemorySegment s, long base, int j) {
        if (j < 4) {
            return Le.u8(s, base + j + 4) & 63;
        }
        return (Le.u8(s, base + j + 4) >>> 4) | ((Le.u8(s, base + j) >>> 6) << 4);
    }

    /** Packs 6-bit {@code ls[j]}, {@code lm[j]} into {@code out[0..12)}. */
    static void pack(int[] ls, int[] lm, byte[] out) {
        Arrays.fill(out, (byte) 0);
        for (int j = 0; j < 8; ++j) {
            if (j < 4) {
                out[j] = (byte) ls[j];
                out[j + 4] = (byte) lm[j];
            } else {
                out[j + 4] = (byte) ((ls[j] & 0xF) | ((lm[j] & 0xF) << 4));
                out[j - 4] |= (byte) ((ls[j] >>> 4) << 6);
                out[j] |= (byte) ((lm[j] >>> 4) << 6);
            }
        }
    }
}
