package dev.trestle.backends.cuda;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.MemorySegment;

/**
 * Device memory owned by one {@link CudaContext}. Reads and weight uploads go through the context's pinned staging
 * buffer and wait for the stream, so a {@code read} sees every kernel queued before it. Writes of float/int
 * arrays are queued on the stream from a pinned ring and return at once (the array may be reused); kernels
 * queued after them see the data.
 */
public final class CudaBuffer implements AutoCloseable {
    private final CudaContext ctx;
    private final long ptr;
    private final long bytes;
    private boolean closed;

    CudaBuffer(CudaContext ctx, long ptr, long bytes) {
        this.ctx = ctx;
        this.ptr = ptr;
        this.bytes = bytes;
    }

    /** The {@code CUdeviceptr}. */
    public long ptr() {
        return ptr;
    }

    /** The device address {@code offset} bytes in. */
    public long at(long offset) {
        return ptr + offset;
    }

    public long bytes() {
        return bytes;
    }

    public CudaContext context() {
        return ctx;
    }

    /** Copies {@code src} (host memory, e.g. a mapped weight) to byte {@code offset}. */
    public void upload(long offset, MemorySegment src) {
        check(offset, src.byteSize());
        long chunk = 64L << 20;
        for (long done = 0; done < src.byteSize(); done += chunk) {
            long n = Math.min(chunk, src.byteSize() - done);
            MemorySegment st = ctx.staging(n);
            MemorySegment.copy(src, done, st, 0, n);
            ctx.makeCurrent();
            ctx.driver().memcpyHtoDAsync(ptr + offset + done, st, n, ctx.stream());
            ctx.synchronize();
        }
    }

    /** Queues a write of {@code n} floats of {@code src} from {@code srcOff} at float index {@code at}. */
    public void write(long at, float[] src, int srcOff, int n) {
        check(4 * at, 4L * n);
        MemorySegment st = ctx.uploadSlot(4L * n);
        MemorySegment.copy(src, srcOff, st, JAVA_FLOAT, 0, n);
        ctx.makeCurrent();
        ctx.driver().memcpyHtoDAsync(ptr + 4 * at, st, 4L * n, ctx.stream());
    }

    /** Queues a write of {@code n} ints at int index {@code at}. */
    public void write(long at, int[] src, int srcOff, int n) {
        check(4 * at, 4L * n);
        MemorySegment st = ctx.uploadSlot(4L * n);
        MemorySegment.copy(src, srcOff, st, JAVA_INT, 0, n);
        ctx.makeCurrent();
        ctx.driver().memcpyHtoDAsync(ptr + 4 * at, st, 4L * n, ctx.stream());
    }

    /** Reads {@code n} floats from float index {@code at} (waits for queued work). */
    public void read(long at, float[] dst, int dstOff, int n) {
        check(4 * at, 4L * n);
        MemorySegment st = ctx.staging(4L * n);
        ctx.makeCurrent();
        ctx.driver().memcpyDtoHAsync(st, ptr + 4 * at, 4L * n, ctx.stream());
        ctx.synchronize();
        MemorySegment.copy(st, JAVA_FLOAT, 0, dst, dstOff, n);
    }

    /** Reads {@code n} ints from int index {@code at}. */
    public void read(long at, int[] dst, int dstOff, int n) {
        check(4 * at, 4L * n);
        MemorySegment st = ctx.staging(4L * n);
        ctx.makeCurrent();
        ctx.driver().memcpyDtoHAsync(st, ptr + 4 * at, 4L * n, ctx.stream());
        ctx.synchronize();
        MemorySegment.copy(st, JAVA_INT, 0, dst, dstOff, n);
    }

    /** Zeroes the buffer (queued on the stream). */
    public void clear() {
        ctx.makeCurrent();
        ctx.driver().memsetD8Async(ptr, (byte) 0, bytes, ctx.stream());
    }

    /** Zeroes {@code n} bytes from byte {@code offset} (queued on the stream). */
    public void clear(long offset, long n) {
        check(offset, n);
        ctx.makeCurrent();
        ctx.driver().memsetD8Async(ptr + offset, (byte) 0, n, ctx.stream());
    }

    private void check(long offset, long n) {
        if (offset < 0 || n < 0 || offset + n > bytes) {
            throw new IndexOutOfBoundsException("bytes [" + offset + ", " + (offset + n) + ") of a " + bytes
                    + "-byte CUDA buffer");
        }
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            ctx.makeCurrent();
            ctx.driver().memFree(ptr);
        }
    }
}
