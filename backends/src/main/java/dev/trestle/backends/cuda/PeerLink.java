package dev.trestle.backends.cuda;

import dev.trestle.nativ.cuda.CudaDriver;
import java.lang.foreign.MemorySegment;

/**
 * A one-way copy path from one GPU's memory to another's, ordered by events instead of host waits: a copy starts
 * after everything already queued on the source context's stream, and the destination's stream waits for it.
 * The route is picked once: the same primary context (one GPU opened twice) copies device to device; GPUs that
 * can reach each other ({@code cuDeviceCanAccessPeer}) get peer access enabled and copy peer to peer; otherwise
 * the bytes go through a pinned host buffer (device to host on the source stream, host to device on the
 * destination's).
 */
public final class PeerLink implements AutoCloseable {
    /** How the bytes travel. */
    public enum Route {
        /** One context on both ends: {@code cuMemcpyDtoDAsync}. */
        SAME_CONTEXT,
        /** Peer access enabled both ways: {@code cuMemcpyPeerAsync}. */
        PEER,
        /** Through pinned host memory: {@code cuMemcpyDtoHAsync}, event, {@code cuMemcpyHtoDAsync}. */
        HOST
    }

    private final CudaContext src;
    private final CudaContext dst;
    private final Route route;
    private final MemorySegment done;      // src's event: the copy (or its device-to-host half) is queued before it
    private final MemorySegment pinned;    // HOST route only
    private final MemorySegment drained;   // HOST route: dst's event after the host-to-device half read the buffer
    private boolean inFlight;              // HOST route: a previous copy may still read the pinned buffer
    private final long capacity;

    /** Opens a link for copies of up to {@code capacity} bytes (the size of the pinned buffer on the host route). */
    private PeerLink(CudaContext src, CudaContext dst, Route route, long capacity) {
        this.src = src;
        this.dst = dst;
        this.route = route;
        this.capacity = capacity;
        if (route == Route.PEER) {
            src.makeCurrent();
            src.driver().ctxEnablePeerAccess(dst.context());
            dst.makeCurrent();
            dst.driver().ctxEnablePeerAccess(src.context());
        }
        this.done = src.newEvent();
        this.pinned = route == Route.HOST
                ? src.driver().memHostAlloc(Math.max(capacity, 16), CudaDriver.CU_MEMHOSTALLOC_PORTABLE) : null;
        this.drained = route == Route.HOST ? dst.newEvent() : null;
    }

    /** A link from {@code src} to {@code dst} for copies of up to {@code capacity} bytes. */
    public static PeerLink open(CudaContext src, CudaContext dst, long capacity) {
        return open(src, dst, capacity, forcedHost());
    }

    /** As {@link #open(CudaContext, CudaContext, long)}; {@code forceHost} takes the pinned-host route regardless. */
    public static PeerLink open(CudaContext src, CudaContext dst, long capacity, boolean forceHost) {
        boolean same = src.sharesContextWith(dst);
        boolean peer = !same && !forceHost && src.driver().deviceCanAccessPeer(src.device(), dst.device())
                && src.driver().deviceCanAccessPeer(dst.device(), src.device());
        return new PeerLink(src, dst, route(same, peer, forceHost), capacity);
    }

    /**
     * The route for a pair of contexts: {@code forceHost} (the {@code trestle.cuda.p2p=host} property, to
     * exercise that path on one GPU) goes through the host; else the same context copies in place, peers copy
     * directly, anything else through the host.
     */
    public static Route route(boolean sameContext, boolean canAccessPeer, boolean forceHost) {
        if (forceHost) {
            return Route.HOST;
        }
        if (sameContext) {
            return Route.SAME_CONTEXT;
        }
        return canAccessPeer ? Route.PEER : Route.HOST;
    }

    /** {@code -Dtrestle.cuda.p2p=host} or TRESTLE_CUDA_P2P=host: every GPU-to-GPU copy through pinned host memory. */
    static boolean forcedHost() {
        String env = System.getenv("TRESTLE_CUDA_P2P");
        return "host".equalsIgnoreCase(System.getProperty("trestle.cuda.p2p", env == null ? "" : env));
    }

    public Route route() {
        return route;
    }

    public CudaContext source() {
        return src;
    }

    public CudaContext destination() {
        return dst;
    }

    /**
     * Queues a copy of {@code bytes} from {@code from} (at byte {@code fromOff}, memory of the source) to
     * {@code to} (at byte {@code toOff}, memory of the destination). It runs after the work queued so far on the
     * source's stream; the destination's stream waits for it. Neither side blocks the host.
     */
    public void copy(CudaBuffer from, long fromOff, CudaBuffer to, long toOff, long bytes) {
        if (bytes > capacity && route == Route.HOST || fromOff + bytes > from.bytes() || toOff + bytes > to.bytes()) {
            throw new IndexOutOfBoundsException(bytes + " bytes from " + fromOff + " of " + from.bytes() + " to " + toOff
                    + " of " + to.bytes() + " (link capacity " + capacity + ")");
        }
        CudaDriver cu = src.driver();
        if (route == Route.HOST && inFlight) {
            src.waitFor(drained);    // the previous copy's second half must have read the pinned buffer
        }
        src.makeCurrent();
        switch (route) {
            case SAME_CONTEXT -> cu.memcpyDtoDAsync(to.at(toOff), from.at(fromOff), bytes, src.stream());
            case PEER -> cu.memcpyPeerAsync(to.at(toOff), dst.context(), from.at(fromOff), src.context(), bytes,
                    src.stream());
            case HOST -> cu.memcpyDtoHAsync(pinned, from.at(fromOff), bytes, src.stream());
        }
        cu.eventRecord(done, src.stream());
        dst.waitFor(done);
        if (route == Route.HOST) {
            dst.makeCurrent();
            cu.memcpyHtoDAsync(to.at(toOff), pinned, bytes, dst.stream());
            cu.eventRecord(drained, dst.stream());
            inFlight = true;
        }
    }

    @Override
    public void close() {
        src.synchronize();
        dst.synchronize();
        src.destroyEvent(done);
        if (pinned != null) {
            dst.destroyEvent(drained);
            src.driver().memFreeHost(pinned);
        }
    }
}
