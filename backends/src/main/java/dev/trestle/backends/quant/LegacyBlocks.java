package dev.trestle.backends.quant;

/**
 * What ggml's 32-value formats (Q4_0, Q4_1, Q5_0, Q5_1) share: the block statistics their scales come from,
 * and the Q5 layout, whose low four bits pack like Q4's while the fifth bit of element j sits in bit j of a
 * u32 qh.
 */
final class LegacyBlocks {
    private LegacyBlocks() {
    }

    /** The value of largest magnitude in x[xo, xo+32), sign kept; the first of equal magnitudes. */
    static float signedAbsMax(float[] x, int xo) {
        float amax = 0.0f;
        float max = 0.0f;
        for (int j = 0; j < 32; j++) {
            float v = x[xo + j];
            if (amax < Math.abs(v)) {
                amax = Math.abs(v);
                max = v;
            }
        }
        return max;
    }

    /** The smallest value in x[xo, xo+32). */
    static float min(float[] x, int xo) {
        float min = Float.MAX_VALUE;
        for (int j = 0; j < 32; j++) {
            if (x[xo + j] < min) {
                min = x[xo + j];
            }
        }
        return min;
    }

    /** The largest value in x[xo, xo+32). */
    static float max(float[] x, int xo) {
        float max = -Float.MAX_VALUE;
        for (int j = 0; j < 32; j++) {
            if (x[xo + j] > max) {
                max = x[xo + j];
            }
        }
        return max;
    }

    /** The 5-bit level of element j (0-15) from byte q of qs, its low nibble, and qh. */
    static int level5Low(int q, int qh, int j) {
        return (q & 0x0F) | (((qh >>> j) << 4) & 0x10);
    }

    /** The 5-bit level of element j + 16 from byte q of qs, its high nibble, and qh. */
    static int level5High(int q, int qh, int j) {
        return (q >>> 4) | ((qh >>> (j + 12)) & 0x10);
    }

    /** The qs byte for levels q0 (element j) and q1 (element j + 16): their low nibbles. */
    static int lowNibbles(int q0, int q1) {
        return (q0 & 0x0F) | ((q1 & 0x0F) << 4);
    }

    /** The qh bits for levels q0 (element j) and q1 (element j + 16): their fifth bits. */
    static int fifthBits(int q0, int q1, int j) {
        return (((q0 & 0x10) >>> 4) << j) | (((q1 & 0x10) >>> 4) << (j + 16));
    }
}
