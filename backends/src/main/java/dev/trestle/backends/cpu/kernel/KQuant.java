package dev.trestle.backends.cpu.kernel;

import dev.trestle.backends.bytes.Le;
import dev.trestle.backends.cpu.ActivationRows;
import java.lang.foreign.MemorySegment;

/** Scale unpacking shared by the K-quant kernels. */
final class KQuant {
    private KQuant() {
    }

    /**
     * Offset of sub-block {@code j}'s {@code g} scale bytes in a repacked Q5_K super-block at {@code so}
     * ({@code g} d and {@code g} -dmin floats first, then per sub-block of {@code subBytes} its scales, its mins
     * and its quants). For repacking: the kernels write these offsets out, as C2 does not inline even this small
     * helper into them (node budget).
     */
    static long subBlock(long so, int g, int subBytes, int j) {
        return so + 8L * g + (long) j * subBytes;
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

    /** Element {@code e} (0..255) of the super-block at {@code bo}, as an unsigned quant. */
    @FunctionalInterface
    interface Quants {
        int at(MemorySegment w, long bo, int e);
    }

    /**
     * The scalar reference of the repacked Q4_K/Q5_K kernels over stored rows (super-blocks of {@code blockBytes},
     * d and dmin at 0 and 2, packed scales at 4): per super-block exact integer sums, then
     * {@code fma(isum, d * dy, acc)} and {@code fma(msum, -dmin * dy, acc)}, the order the kernels accumulate in.
     */
    static float scaleMinReference(MemorySegment w, long wOff, int blockBytes, Quants quants, ActivationRows a,
                                   int aOff, int n) {
        byte[] qs = a.qs();
        float[] ds = a.scales();
        short[] bs = a.bsums();
        float acc = 0f;
        for (int b = 0; b < n / 256; b++) {
            long bo = wOff + (long) b * blockBytes;
            int ao = aOff + b * 256;
            int isum = 0;
            int msum = 0;
            for (int j = 0; j < 8; j++) {
                int dot = 0;
                for (int l = 0; l < 32; l++) {
                    dot += quants.at(w, bo, 32 * j + l) * qs[ao + 32 * j + l];
                }
                isum += scale(w, bo + 4, j) * dot;
                msum += min(w, bo + 4, j) * (bs[ao / 16 + 2 * j] + bs[ao / 16 + 2 * j + 1]);
            }
            float dy = ds[ao / 256];
            acc = Math.fma((float) isum, Le.f16(w, bo) * dy, acc);
            acc = Math.fma((float) msum, -Le.f16(w, bo + 2) * dy, acc);
        }
        return acc;
    }
}
