package dev.trestle.backends.cpu.kernel;

import dev.trestle.backends.bytes.Le;
import java.lang.foreign.MemorySegment;

/** Scale unpacking shared by the K-quant kernels. */
final class KQuant {
    private KQuant() {
    }

    /** Q4_K/Q5_K 6-bit scale of sub-block {@code j} (0..7) from the 12 packed bytes at {@code off}. */
    static int scale(MemorySegment w, long off, int j) {
        if (j < 4) {
            return Le.u8(w, off + j) & 63;
        }
        return (Le.u8(w, off + j + 4) & 0xf) | ((Le.u8(w, off + j - 4) >>> 6) << 4);
    }

    /** Q4_K/Q5_K 6-bit min of sub-block {@code j}. */
    static int min(MemorySegment w, long off, int j) {
        if (j < 4) {
            return Le.u8(w, off + j + 4) & 63;
        }
        return (Le.u8(w, off + j + 4) >>> 4) | ((Le.u8(w, off + j) >>> 6) << 4);
    }

    /** Q3_K signed scale {@code i} (0..15): 6 bits spread over the 12 packed bytes, minus 32. */
    static int q3Scale(MemorySegment w, long off, int i) {
        int aux0 = Le.i32(w, off);
        int aux1 = Le.i32(w, off + 4);
        int tmp = Le.i32(w, off + 8);
        int kmask1 = 0x03030303;
        int kmask2 = 0x0f0f0f0f;
        int word = switch (i >>> 2) {
            case 0 -> (aux0 & kmask2) | (((tmp) & kmask1) << 4);
            case 1 -> (aux1 & kmask2) | (((tmp >>> 2) & kmask1) << 4);
            case 2 -> ((aux0 >>> 4) & kmask2) | (((tmp >>> 4) & kmask1) << 4);
            default -> ((aux1 >>> 4) & kmask2) | (((tmp >>> 6) & kmask1) << 4);
        };
        return ((word >>> (8 * (i & 3))) & 0xff) - 32;
    }
}
