package dev.trestle.backends.quant;

import dev.trestle.backends.type.GgmlType;
import java.lang.foreign.MemorySegment;

/**
 * Reference (scalar) conversion between floats and one ggml storage type.
 *
 * <p>Byte layouts and rounding follow ggml exactly: {@link #quantize} produces the bytes llama.cpp's
 * {@code quantize_row_*_ref} produces for the same floats, and {@link #dequantize} the floats of
 * {@code dequantize_row_*}. These are the oracles for the vectorized kernels, not the hot path.
 * Codecs are stateless and thread-safe.
 */
public interface QuantCodec {
    /** The type this codec reads and writes. */
    GgmlType type();

    /**
     * Decodes {@code n} values (a multiple of the block size) starting at byte {@code srcOffset} of
     * {@code src} into {@code dst[dstOffset .. dstOffset+n)}.
     */
    void dequantize(MemorySegment src, long srcOffset, float[] dst, int dstOffset, int n);

    /** False for types that can be read but not written (a {@link #quantize} call then throws). */
    default boolean canQuantize() {
        return true;
    }

    /**
     * Encodes {@code src[srcOffset .. srcOffset+n)} ({@code n} a multiple of the block size) into
     * {@code dst} at byte {@code dstOffset}, writing {@code type().bytesFor(n)} bytes.
     *
     * @throws UnsupportedOperationException when {@link #canQuantize()} is false
     */
    void quantize(float[] src, int srcOffset, MemorySegment dst, long dstOffset, int n);
}
