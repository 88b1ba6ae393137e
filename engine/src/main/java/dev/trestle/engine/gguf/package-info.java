/**
 * GGUF: the model file format. {@link dev.trestle.engine.gguf.GgufReader} maps and validates a
 * file (untrusted input), {@link dev.trestle.engine.gguf.GgufWriter} writes v3 files (test fixtures,
 * synthetic benchmark models, quantized outputs).
 */
package dev.trestle.engine.gguf;
