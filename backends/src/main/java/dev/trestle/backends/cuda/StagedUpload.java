package dev.trestle.backends.cuda;

import dev.trestle.nativ.cuda.CudaDriver;
import java.lang.foreign.MemorySegment;

/**
 * Copies host memory (mapped weights) to the GPU without stalling its stream: chunks go through two pinned
 * buffers in turn, each chunk's device copy queued asynchronously on the context's stream, so the host fills
 * one buffer while the other is on the bus. The host only waits when it needs a buffer whose previous copy has
 * not finished. Kernels queued after {@link #copy} see the bytes (same stream).
 */
public final class StagedUpload implements AutoCloseable {
    private final CudaContext ctx;
    private final long chunk;
    private final MemorySegment[] pinned = new MemorySegment[2];
    private final MemorySegment[] copied = new MemorySegment[2];   // events: the chunk's device copy is done
    private final boolean[] pending = new boolean[2];
    private int next;

    /** Two pinned buffers of {@code chunk} bytes on {@code ctx}. */
    public StagedUpload(CudaContext ctx, long chunk) {
        this.ctx = ctx;
        this.chunk = chunk;
        ctx.makeCurrent();
        for (int i = 0; i < 2; i++) {
            pinned[i] = ctx.driver().memHostAlloc(chunk, CudaDriver.CU_MEMHOSTALLOC_PORTABLE);
            copied[i] = ctx.newEvent();
        }
    }

    /** Queues a copy of {@code src} to {@code dst} at byte {@code dstOff}. */
    public void copy(MemorySegment src, CudaBuffer dst, long dstOff) {
        long bytes = src.byteSize();
        if (dstOff < 0 || dstOff + bytes > dst.bytes()) {
            throw new IndexOutOfBoundsException(bytes + " bytes at " + dstOff + " of a " + dst.bytes() + "-byte buffer");
        }
        CudaDriver cu = ctx.driver();
        for (long done = 0; done < bytes; done += chunk) {
            long n = Math.min(chunk, bytes - done);
            int b = next;
            next ^= 1;
            if (pending[b]) {
                ctx.makeCurrent();
                cu.eventSynchronize(copied[b]);   // this buffer's previous chunk must be on the device
            }
            MemorySegment.copy(src, done, pinned[b], 0, n);
            ctx.makeCurrent();
            cu.memcpyHtoDAsync(dst.at(dstOff + done), pinned[b], n, ctx.stream());
            cu.eventRecord(copied[b], ctx.stream());
            pending[b] = true;
        }
    }

    @Override
    public void close() {
        ctx.synchronize();
        for (int i = 0; i < 2; i++) {
            ctx.driver().memFreeHost(pinned[i]);
            ctx.destroyEvent(copied[i]);
        }
    }
}
