package dev.trestle.scheduler.profile;

import dev.trestle.backends.type.GgmlType;
import java.util.Arrays;

/**
 * One weight tensor as the planner sees it.
 *
 * @param name   llama.cpp's tensor name; {@code -ot} regexes match it
 * @param role   what the tensor does
 * @param layer  repeating layer index, or {@link #INPUT} / {@link #OUTPUT_LAYER}
 * @param type   storage type
 * @param shape  ggml order: shape[0] is the row length, shape[1] the rows, shape[2] the experts
 * @param bytes  stored size
 * @param tiedTo for a tensor the model reuses under a second name (tied output head), the name of
 *               the stored tensor; null otherwise. With mmap a tie costs no extra host memory.
 */
public record TensorProfile(String name, TensorRole role, int layer, GgmlType type, long[] shape, long bytes,
                            String tiedTo) {
    /** The input group: token embeddings, always host-resident as in llama.cpp. */
    public static final int INPUT = -1;
    /** The output group: output norm and head, placed with "layer" n_layer in -ngl terms. */
    public static final int OUTPUT_LAYER = -2;

    public TensorProfile {
        shape = shape.clone();
    }

    public TensorProfile(String name, TensorRole role, int layer, GgmlType type, long[] shape, long bytes) {
        this(name, role, layer, type, shape, bytes, null);
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    /** Dimension {@code i}, 1 beyond the rank. */
    public long dim(int i) {
        return i < shape.length ? shape[i] : 1;
    }

    public int rank() {
        return shape.length;
    }

    /** Rows of a matrix (all dims after the first, multiplied). */
    public long rows() {
        long r = 1;
        for (int i = 1; i < shape.length; i++) {
            r *= shape[i];
        }
        return r;
    }

    /** True for a repeating-layer tensor. */
    public boolean inLayer() {
        return layer >= 0;
    }

    /** A 2-D weight matrix whose rows can be split across GPUs in row mode. */
    public boolean isRowSplittable() {
        return rank() == 2 && dim(1) > 1 && switch (role) {
            case ATTENTION, FFN_DENSE, FFN_SHARED_EXPERT, OUTPUT -> true;
            default -> false;
        };
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorProfile t && t.name.equals(name) && t.role == role && t.layer == layer
                && t.type == type && Arrays.equals(t.shape, shape) && t.bytes == bytes
                && java.util.Objects.equals(t.tiedTo, tiedTo);
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Long.hashCode(bytes);
    }

    @Override
    public String toString() {
        return name + " " + role + " " + type + " " + Arrays.toString(shape);
    }
}
