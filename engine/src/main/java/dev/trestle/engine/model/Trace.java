package dev.trestle.engine.model;

/**
 * Receives named intermediate tensors of a forward pass, with llama.cpp's callback names ("attn_norm",
 * "Qcur", "kqv_out", "ffn_out", "l_out", "result_norm") so dumps and parity diffs line up node for node.
 * The default {@link #NONE} does nothing; a context installs another one to debug.
 */
@FunctionalInterface
public interface Trace {
    /** Does nothing (the forward pass calls it unconditionally; the JIT removes the calls). */
    Trace NONE = (name, layer, data, rows, cols) -> { };

    /**
     * {@code rows} rows of {@code cols} floats at the start of {@code data} are the tensor {@code name} of block
     * {@code layer} (-1 outside the blocks). The array is the forward pass's buffer: copy what you keep.
     */
    void tensor(String name, int layer, float[] data, int rows, int cols);
}
