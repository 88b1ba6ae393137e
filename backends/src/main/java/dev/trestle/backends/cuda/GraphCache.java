package dev.trestle.backends.cuda;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Bookkeeping of the CUDA graphs of decode steps: one graph per shape, a shape being the first layer of a run of
 * layers on one GPU and the micro-batch's token count (kernel grids and scratch sizes depend on nothing else;
 * positions, cells and visibility are read from device buffers). A shape runs eagerly the first time (which
 * also sizes the ops' scratch buffers), is captured the second time and replayed after that. Graphs hold
 * scratch addresses, so they are dropped when the scratch is reallocated (its generation changes). A failed
 * capture or instantiation turns graphs off for good. Plain Java: the driver calls live in the caller.
 */
public final class GraphCache {
    /** What to do with the layers of one run. */
    public enum Action {
        /** Queue the kernels one by one. */
        EAGER,
        /** Queue them into a stream capture, then instantiate and launch the graph. */
        CAPTURE,
        /** Launch the stored graph instead of queueing anything. */
        REPLAY
    }

    /** Graphs are for decode steps: micro-batches below the tensor-core GEMM threshold. */
    public static final int MAX_TOKENS = LaunchConfig.GEMM_MIN_TOKENS - 1;

    private final Map<Long, MemorySegment> graphs = new HashMap<>();
    private final Map<Long, Integer> seen = new HashMap<>();
    private final List<MemorySegment> stale = new ArrayList<>();
    private boolean enabled;
    private String disabledReason;
    private long generation;

    /** {@code enabled = false} (no graph support in the driver, or turned off) makes every action EAGER. */
    public GraphCache(boolean enabled, String reasonWhenDisabled) {
        this.enabled = enabled;
        this.disabledReason = enabled ? null : reasonWhenDisabled;
    }

    /** True unless {@code trestle.cuda.graphs=false} or the environment variable TRESTLE_CUDA_DISABLE_GRAPHS is set. */
    public static boolean wanted() {
        String env = System.getenv("TRESTLE_CUDA_DISABLE_GRAPHS");
        return !"false".equalsIgnoreCase(System.getProperty("trestle.cuda.graphs", "true"))
                && (env == null || env.isEmpty() || env.equals("0"));
    }

    private static long key(int firstLayer, int tokens) {
        return ((long) firstLayer << 32) | tokens;
    }

    /**
     * The action for a run starting at {@code firstLayer} with {@code tokens} rows. {@code capturable}: the run
     * has no host transfer or second stream inside (no CPU experts, no row split). {@code scratchGeneration}:
     * the ops' current scratch generation; when it moved, every stored graph is returned by {@link #stale()}.
     */
    public Action action(int firstLayer, int tokens, boolean capturable, long scratchGeneration) {
        if (scratchGeneration != generation) {
            generation = scratchGeneration;
            seen.clear();
            stale.addAll(graphs.values());
            graphs.clear();
        }
        if (!enabled || !capturable || tokens < 1 || tokens > MAX_TOKENS) {
            return Action.EAGER;
        }
        long k = key(firstLayer, tokens);
        if (graphs.containsKey(k)) {
            return Action.REPLAY;
        }
        int n = seen.merge(k, 1, Integer::sum);
        return n >= 2 ? Action.CAPTURE : Action.EAGER;
    }

    /** Graphs dropped since the last call, for the caller to destroy. */
    public List<MemorySegment> stale() {
        List<MemorySegment> out = new ArrayList<>(stale);
        stale.clear();
        return out;
    }

    /** Stores the instantiated graph of a shape just captured. */
    public void store(int firstLayer, int tokens, MemorySegment exec) {
        graphs.put(key(firstLayer, tokens), exec);
    }

    /** The stored graph of a shape (after {@link #action} said REPLAY). */
    public MemorySegment get(int firstLayer, int tokens) {
        MemorySegment g = graphs.get(key(firstLayer, tokens));
        if (g == null) {
            throw new IllegalStateException("no graph for layer " + firstLayer + ", " + tokens + " tokens");
        }
        return g;
    }

    /** A capture failed: no more graphs; returns the stored ones for the caller to destroy. */
    public List<MemorySegment> disable(String reason) {
        enabled = false;
        disabledReason = reason;
        stale.addAll(graphs.values());
        graphs.clear();
        return stale();
    }

    public boolean enabled() {
        return enabled;
    }

    /** Why graphs are off, or null. */
    public String disabledReason() {
        return disabledReason;
    }

    /** Stored graphs. */
    public int size() {
        return graphs.size();
    }

    /** Every stored graph and clears the cache (at close). */
    public List<MemorySegment> drain() {
        stale.addAll(graphs.values());
        graphs.clear();
        return stale();
    }
}
