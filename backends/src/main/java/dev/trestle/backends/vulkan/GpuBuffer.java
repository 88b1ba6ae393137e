package dev.trestle.backends.vulkan;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A device storage buffer. Writes and reads go through {@link VulkanDevice}: mapped directly when the
 * device-local memory is host visible (UMA, ReBAR, lavapipe), else staged through a host-visible buffer.
 */
public final class GpuBuffer implements AutoCloseable {
    final VulkanDevice device;
    final long buffer;
    final long memory;
    final long size;
    final MemorySegment mapped; // null when not host visible

    GpuBuffer(VulkanDevice device, long buffer, long memory, long size, MemorySegment mapped) {
        this.device = device;
        this.buffer = buffer;
        this.memory = memory;
        this.size = size;
        this.mapped = mapped;
    }

    public long size() {
        return size;
    }

    /** Copies {@code src} to byte offset {@code dst}; waits for pending work that may read it. */
    public void write(long dst, MemorySegment src) {
        device.write(this, dst, src);
    }

    public void write(long dst, float[] src, int off, int n) {
        write(dst, MemorySegment.ofArray(src).asSlice(4L * off, 4L * n));
    }

    public void write(long dst, int[] src, int off, int n) {
        write(dst, MemorySegment.ofArray(src).asSlice(4L * off, 4L * n));
    }

    /** Copies {@code dst.byteSize()} bytes from byte offset {@code src} after finishing pending work. */
    public void read(long src, MemorySegment dst) {
        device.read(this, src, dst);
    }

    public void read(long src, float[] dst, int off, int n) {
        read(src, MemorySegment.ofArray(dst).asSlice(4L * off, 4L * n));
    }

    public void read(long src, int[] dst, int off, int n) {
        read(src, MemorySegment.ofArray(dst).asSlice(4L * off, 4L * n));
    }

    /** Reads floats as a convenience for tests. */
    public float[] readFloats(long srcElem, int n) {
        float[] out = new float[n];
        read(4L * srcElem, out, 0, n);
        return out;
    }

    static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT_UNALIGNED;

    @Override
    public void close() {
        device.free(this);
    }
}
