package dev.trestle.backends.quant;

/** Conversions between float and the 16-bit and 8-bit float formats ggml stores (fp16, bf16, e8m0). */
public final class HalfFloat {
    private HalfFloat() {
    }

    /** IEEE binary16 bits to float (exact). */
    public static float f16ToFloat(short bits) {
        return Float.float16ToFloat(bits);
    }

    /** Float to IEEE binary16 bits, rounding to nearest even, like ggml's F16C/software conversion. */
    public static short floatToF16(float f) {
        return Float.floatToFloat16(f);
    }

    /** Round-trips {@code f} through fp16, as every fp16-stored scale does. */
    public static float roundToF16(float f) {
        return Float.float16ToFloat(Float.floatToFloat16(f));
    }

    /** bfloat16 bits to float (exact: bf16 is the top half of a float). */
    public static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xFFFF) << 16);
    }

    /**
     * Float to bfloat16 bits, rounding to nearest even; NaN stays NaN (forced quiet) instead of
     * rounding into infinity, as ggml does.
     */
    public static short floatToBf16(float f) {
        int i = Float.floatToRawIntBits(f);
        if ((i & 0x7fffffff) > 0x7f800000) {
            return (short) ((i >>> 16) | 64);
        }
        return (short) ((i + 0x7fff + ((i >>> 16) & 1)) >>> 16);
    }

    /**
     * Half of the E8M0 scale {@code 2^(e-127)}, i.e. {@code 2^(e-128)}: MXFP4 stores its E2M1 values
     * doubled as integers, so the decoder uses the halved scale. e = 0 and 1 give the subnormals 2^-128, 2^-127.
     */
    public static float e8m0ToFloatHalf(int e) {
        int u = e & 0xFF;
        int bits = u < 2 ? 0x00200000 << u : (u - 1) << 23;
        return Float.intBitsToFloat(bits);
    }
}
