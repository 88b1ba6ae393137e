package dev.trestle.engine.runtime;

import dev.trestle.backends.spi.OpKind;
import dev.trestle.backends.type.GgmlType;
import dev.trestle.engine.model.TensorKind;

/**
 * One tensor as the placement planner sees it: bytes, layer, role and the op that reads it (no names needed
 * for planning; the name is kept for reports).
 *
 * @param name  GGUF tensor name
 * @param type  storage type
 * @param bytes size in the file
 * @param layer block index, -1 outside the blocks
 * @param role  part of the model
 * @param op    op that reads it (GET_ROWS, MUL_MAT, MUL_MAT_ID, or MUL for norms, biases and scales)
 */
public record TensorUse(String name, GgmlType type, long bytes, int layer, TensorKind.LayerRole role, OpKind op) {
}
