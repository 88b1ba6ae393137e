package dev.trestle.engine.gguf;

import dev.trestle.backends.type.GgmlType;
import java.util.Arrays;

/**
 * One entry of the GGUF tensor table.
 *
 * @param name   tensor name as llama.cpp spells it ("blk.0.attn_q.weight")
 * @param type   storage type
 * @param shape  dimensions in ggml order: shape[0] is the row length (contiguous), then rows, ...
 * @param offset byte offset of the data, relative to the start of the data section
 * @param bytes  size of the data in bytes
 */
public record GgufTensorInfo(String name, GgmlType type, long[] shape, long offset, long bytes) {

    public GgufTensorInfo {
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    /** Dimension {@code i} in ggml order, 1 past the last dimension. */
    public long dim(int i) {
        return i < shape.length ? shape[i] : 1;
    }

    public int rank() {
        return shape.length;
    }

    /** Number of elements. */
    public long elements() {
        long n = 1;
        for (long d : shape) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    /** Shape as llama.cpp prints it: "[64, 512]". */
    public String shapeString() {
        return Arrays.toString(shape);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GgufTensorInfo t && t.name.equals(name) && t.type == type
                && Arrays.equals(t.shape, shape) && t.offset == offset && t.bytes == bytes;
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Arrays.hashCode(shape);
    }

    @Override
    public String toString() {
        return name + " " + type + " " + shapeString();
    }
}
