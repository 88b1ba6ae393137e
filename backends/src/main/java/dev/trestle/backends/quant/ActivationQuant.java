package dev.trestle.backends.quant;

import dev.trestle.backends.bytes.Le;
import java.lang.foreign.MemorySegment;
import java.util.Objects;

/**
 * Activation quantization as llama.cpp's x86 CPU backend does it before a quantized dot product
 * (ggml-cpu quantize_row_q8_0/q8_1 with AVX/AVX2, the build llama.cpp uses on x86-64). It differs
 * from the reference quantizers in {@link Q8_0Codec}/{@link Q8_1Codec}: the inverse step is
 * {@code 127 / amax} (not {@code 1 / (amax / 127)}) and rounding is half to even, so a few quants
 * differ by one. Q8_K activations use the reference path ({@link Q8KCodec}) on x86 too.
 * Matching this matters for logit parity with llama.cpp on quantized models.
 */
public final class ActivationQuant {
    private ActivationQuant() {
    }

    /** Quantizes {@code n} values (a multiple of 32) to Q8_0 blocks at {@code dst[off]}. */
    public static void q8_0(float[] x, int xo, MemorySegment dst, long off, int n) {
        quantize(x, xo, dst, off, n, false);
    }

    /** Quantizes {@code n} values (a multiple of 32) to Q8_1 blocks (with the d * sum field). */
    public static void q8_1(float[] x, int xo, MemorySegment dst, long off, int n) {
        quantize(x, xo, dst, off, n, true);
    }

    private static void quantize(float[] x, int xo, MemorySegment dst, long off, int n, boolean withSum) {
        if (n % 32 != 0) {
            throw new IllegalArgumentException("activations are quantized in blocks of 32 values; got " + n);
        }
        int bytes = withSum ? 36 : 34;
        int qs = withSum ? 4 : 2;
        Objects.checkFromIndexSize(xo, n, x.length);
        Objects.checkFromIndexSize(off, (long) n / 32 * bytes, dst.byteSize());
        for (int b = 0; b < n / 32; b++, xo += 32, off += bytes) {
            float amax = 0.0f;
            for (int j = 0; j < 32; j++) {
                amax = Math.max(amax, Math.abs(x[xo + j]));
            }
            float d = amax / 127.f;
            Le.putF16(dst, off, d);
            float id = amax != 0.0f ? 127.f / amax : 0.0f;
            int sum = 0;
            for (int j = 0; j < 32; j++) {
                // round half to even, then the saturating int16/int8 packs
                int q = (int) Math.rint(x[xo + j] * id);
                q = Math.max(-128, Math.min(127, q));
                Le.putU8(dst, off + qs + j, q);
                sum += q;
            }
            if (withSum) {
                Le.putF16(dst, off + 2, d * sum);
            }
        }
    }
}
