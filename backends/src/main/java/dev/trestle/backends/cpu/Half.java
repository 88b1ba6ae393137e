package dev.trestle.backends.cpu;

/** IEEE half and bfloat16 conversions with the rounding ggml's CPU backend uses (round to nearest even). */
public final class Half {
    private Half() {
    }

    /** F16 bits to float (exact). */
    public static float toFloat(short h) {
        return Float.float16ToFloat(h);
    }

    /** Float to F16 bits, round to nearest even, as F16C's vcvtps2ph does. */
    public static short fromFloat(float f) {
        return Float.floatToFloat16(f);
    }

    /** Rounds a float to the nearest F16 value. */
    public static float round(float f) {
        return Float.float16ToFloat(Float.floatToFloat16(f));
    }

    /** BF16 bits to float (exact). */
    public static float bf16ToFloat(short b) {
        return Float.intBitsToFloat((b & 0xffff) << 16);
    }

    /** Float to BF16 bits, round to nearest even; NaN stays a quiet NaN (ggml_compute_fp32_to_bf16). */
    public static short floatToBf16(float f) {
        int u = Float.floatToRawIntBits(f);
        if ((u & 0x7fffffff) > 0x7f800000) {
            return (short) ((u >>> 16) | 64);
        }
        return (short) ((u + (0x7fff + ((u >>> 16) & 1))) >>> 16);
    }
}
