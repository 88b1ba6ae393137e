/**
 * Reference codecs for ggml's storage types: {@link dev.trestle.backends.quant.QuantCodec} per type,
 * looked up through {@link dev.trestle.backends.quant.Codecs#of}.
 *
 * <p>Quantizers reproduce llama.cpp's {@code quantize_row_*_ref} byte for byte (same float operation
 * order, round-half-even {@code nearest_int}, {@code roundf} where ggml uses it, fp16 rounding to
 * nearest even); dequantizers reproduce {@code dequantize_row_*}. They are scalar and clear on purpose:
 * the CPU backend's vectorized dot kernels are tested against them.
 */
package dev.trestle.backends.quant;
