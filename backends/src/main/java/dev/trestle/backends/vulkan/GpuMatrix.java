package dev.trestle.backends.vulkan;

import dev.trestle.backends.type.GgmlType;
import dev.trestle.common.TrestleException;
import java.lang.foreign.MemorySegment;
import java.util.EnumSet;
import java.util.Set;

/**
 * A weight matrix (or a stack of experts) resident on a Vulkan device in its storage type, read block by
 * block by the shaders. Shape in ggml order: {@code cols} x {@code rows} x {@code experts}.
 */
public final class GpuMatrix implements AutoCloseable {
    /** Weight types the matmul and get_rows shaders read directly. */
    public static final Set<GgmlType> TYPES = EnumSet.of(GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0,
            GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q5_1, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K);

    final String name;
    final GgmlType type;
    final int cols;
    final int rows;
    final int experts;
    final long rowBytes;
    final GpuBuffer buffer;

    /** Uploads {@code data} (the tensor's bytes) to {@code device}. */
    public GpuMatrix(VulkanDevice device, String name, GgmlType type, MemorySegment data, int cols, int rows,
                     int experts) {
        if (!TYPES.contains(type)) {
            throw new TrestleException("tensor " + name + ": type " + type.llamaName()
                    + " has no Vulkan kernel", "keep this tensor on the CPU with -ot or lower -ngl");
        }
        this.name = name;
        this.type = type;
        this.cols = cols;
        this.rows = rows;
        this.experts = experts;
        this.rowBytes = type.bytesFor(cols);
        long bytes = rowBytes * rows * experts;
        if (bytes > device.info().maxStorageBufferRange() || bytes > 0xffff_ffffL) {
            throw new TrestleException("tensor " + name + " (" + bytes + " bytes) exceeds the device's largest "
                    + "storage buffer (" + device.info().maxStorageBufferRange() + " bytes)",
                    "keep it on the CPU with -ot '" + name + "=CPU'");
        }
        this.buffer = device.allocate(bytes);
        buffer.write(0, data.asSlice(0, bytes));
    }

    /** True when a weight of this type and byte size can live on {@code info}'s device. */
    public static boolean fits(VulkanDeviceInfo info, GgmlType type, long bytes) {
        return TYPES.contains(type) && bytes <= info.maxStorageBufferRange() && bytes <= 0xffff_ffffL;
    }

    public GgmlType type() {
        return type;
    }

    public int cols() {
        return cols;
    }

    public int rows() {
        return rows;
    }

    public int experts() {
        return experts;
    }

    public String name() {
        return name;
    }

    @Override
    public void close() {
        buffer.close();
    }
}
