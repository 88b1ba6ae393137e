package dev.trestle.backends.cuda;

import dev.trestle.nativ.cuda.CudaDriver;
import dev.trestle.nativ.cuda.CudaKernels;
import dev.trestle.nativ.cuda.KernelArgs;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One GPU as Trestle uses it: the device's primary context, one non-blocking stream, Trestle's kernel modules
 * loaded into the context, a pinned staging buffer for reads and weight uploads, and a pinned ring for small
 * host-to-device writes that are queued without waiting for the stream. Every call makes the context current
 * first, so a context may be driven from any one thread at a time (not concurrently).
 */
public final class CudaContext implements AutoCloseable {
    private static final long MIN_STAGING = 4L << 20;
    private static final long SLOT_ALIGN = 256;

    private final CudaDriver cu;
    private final int ordinal;
    private final int device;
    private final MemorySegment ctx;
    private final MemorySegment stream;
    private final Arena arena = Arena.ofShared();
    private final KernelArgs args;
    private final List<MemorySegment> modules = new ArrayList<>();
    private final Map<String, MemorySegment> functions = new HashMap<>();
    private final String name;
    private MemorySegment staging;    // pinned host memory, grown on demand
    // writes: a pinned ring of two halves used in turn; before a half is reused, the host waits for the event
    // recorded after the last copy out of it (not for the whole stream)
    private MemorySegment ring;
    private long half;
    private int cur;
    private long pos;
    private final MemorySegment[] halfDone = new MemorySegment[2];
    private final boolean[] halfPending = new boolean[2];

    private CudaContext(CudaDriver cu, int ordinal) {
        this.cu = cu;
        this.ordinal = ordinal;
        this.device = cu.deviceGet(ordinal);
        this.name = cu.deviceGetName(device);
        this.ctx = cu.devicePrimaryCtxRetain(device);
        try {
            cu.ctxSetCurrent(ctx);
            this.stream = cu.streamCreate(CudaDriver.CU_STREAM_NON_BLOCKING);
            this.args = new KernelArgs(arena, 24);
            for (CudaKernels.Module m : CudaKernels.Module.values()) {
                byte[] image = CudaKernels.fatbin(m);
                try (Arena tmp = Arena.ofConfined()) {
                    MemorySegment img = tmp.allocate(image.length, 16);
                    MemorySegment.copy(image, 0, img, java.lang.foreign.ValueLayout.JAVA_BYTE, 0, image.length);
                    modules.add(cu.moduleLoadData(img, m.file() + ".fatbin on " + name));
                }
            }
            this.staging = cu.memHostAlloc(MIN_STAGING, CudaDriver.CU_MEMHOSTALLOC_PORTABLE);
            this.half = MIN_STAGING;
            this.ring = cu.memHostAlloc(2 * half, CudaDriver.CU_MEMHOSTALLOC_PORTABLE);
            for (int i = 0; i < 2; i++) {
                halfDone[i] = cu.eventCreate(CudaDriver.CU_EVENT_DISABLE_TIMING);
            }
        } catch (RuntimeException e) {
            cu.devicePrimaryCtxRelease(device);
            throw e;
        }
    }

    /** Opens CUDA device {@code ordinal} (loads the driver on first use). */
    public static CudaContext open(int ordinal) {
        return new CudaContext(CudaDriver.load(), ordinal);
    }

    public CudaDriver driver() {
        return cu;
    }

    public int ordinal() {
        return ordinal;
    }

    public String name() {
        return name;
    }

    public MemorySegment stream() {
        return stream;
    }

    public MemorySegment context() {
        return ctx;
    }

    /** The {@code CUdevice} handle. */
    public int device() {
        return device;
    }

    /** True when both contexts are the same device's primary context (one GPU opened twice). */
    public boolean sharesContextWith(CudaContext other) {
        return ctx.address() == other.ctx.address();
    }

    /** A new ordering event of this context ({@code CU_EVENT_DISABLE_TIMING}); destroy it with {@link #destroyEvent}. */
    public MemorySegment newEvent() {
        makeCurrent();
        return cu.eventCreate(CudaDriver.CU_EVENT_DISABLE_TIMING);
    }

    public void destroyEvent(MemorySegment event) {
        makeCurrent();
        cu.eventDestroy(event);
    }

    /** Records {@code event} (one of this context's) after everything queued so far on this context's stream. */
    public void record(MemorySegment event) {
        makeCurrent();
        cu.eventRecord(event, stream);
    }

    /** Makes this context's stream wait for {@code event} (of any context) without blocking the host. */
    public void waitFor(MemorySegment event) {
        makeCurrent();
        cu.streamWaitEvent(stream, event);
    }

    /** Binds this context to the calling thread (cheap; done before every operation). */
    public void makeCurrent() {
        cu.ctxSetCurrent(ctx);
    }

    /** Free and total device memory now. */
    public long[] memory() {
        makeCurrent();
        return cu.memGetInfo();
    }

    /** Allocates {@code bytes} of device memory; the buffer frees it on close. */
    public CudaBuffer allocate(long bytes) {
        makeCurrent();
        return new CudaBuffer(this, cu.memAlloc(Math.max(bytes, 16)), bytes);
    }

    /** The kernel {@code name}, looked up once across the modules. */
    public MemorySegment function(String kernel) {
        MemorySegment f = functions.get(kernel);
        if (f == null) {
            RuntimeException last = null;
            for (MemorySegment m : modules) {
                try {
                    f = cu.moduleGetFunction(m, kernel);
                    break;
                } catch (RuntimeException e) {
                    last = e;
                }
            }
            if (f == null) {
                throw new IllegalStateException("no CUDA kernel " + kernel + " in Trestle's modules", last);
            }
            functions.put(kernel, f);
        }
        return f;
    }

    /** The argument list for the next launch (reset). */
    public KernelArgs args() {
        return args.reset();
    }

    /** Launches {@code kernel} on this context's stream with the arguments filled into {@link #args()}. */
    public void launch(String kernel, LaunchConfig.Grid grid, int block, int sharedMem) {
        makeCurrent();
        cu.launchKernel(function(kernel), grid.x(), grid.y(), grid.z(), block, 1, 1, sharedMem, stream, args.params(),
                kernel);
    }

    /** Waits for everything queued on the stream. */
    public void synchronize() {
        makeCurrent();
        cu.streamSynchronize(stream);
    }

    /** Pinned staging memory of at least {@code bytes} (host side of every transfer; the stream is idle after use). */
    MemorySegment staging(long bytes) {
        if (staging.byteSize() < bytes) {
            makeCurrent();
            cu.memFreeHost(staging);
            staging = cu.memHostAlloc(Math.max(bytes, 2 * staging.byteSize()), CudaDriver.CU_MEMHOSTALLOC_PORTABLE);
        }
        return staging;
    }

    /**
     * Pinned host memory of {@code bytes} for a host-to-device copy about to be queued on the stream; valid until
     * that copy has run. The host waits only when the ring's other half still has copies in flight.
     */
    MemorySegment uploadSlot(long bytes) {
        long need = (bytes + SLOT_ALIGN - 1) / SLOT_ALIGN * SLOT_ALIGN;
        makeCurrent();
        if (need > half) {
            // a write larger than a half: everything queued may still read the old ring
            cu.streamSynchronize(stream);
            cu.memFreeHost(ring);
            half = Math.max(need, 2 * half);
            ring = cu.memHostAlloc(2 * half, CudaDriver.CU_MEMHOSTALLOC_PORTABLE);
            cur = 0;
            pos = 0;
            halfPending[0] = false;
            halfPending[1] = false;
        } else if (pos + need > half) {
            cu.eventRecord(halfDone[cur], stream);   // after every copy queued out of this half
            halfPending[cur] = true;
            cur ^= 1;
            pos = 0;
            if (halfPending[cur]) {
                cu.eventSynchronize(halfDone[cur]);
                halfPending[cur] = false;
            }
        }
        MemorySegment slot = ring.asSlice(cur * half + pos, bytes);
        pos += need;
        return slot;
    }

    @Override
    public void close() {
        makeCurrent();
        cu.streamSynchronize(stream);
        cu.memFreeHost(ring);
        for (MemorySegment e : halfDone) {
            cu.eventDestroy(e);
        }
        for (MemorySegment m : modules) {
            cu.moduleUnload(m);
        }
        modules.clear();
        cu.memFreeHost(staging);
        cu.streamDestroy(stream);
        cu.devicePrimaryCtxRelease(device);
        arena.close();
    }
}
