package dev.trestle.backends.cpu;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * Native memory from the C allocator, freed when its segment becomes unreachable. Used for load-time copies of
 * weights: arena allocations count against the JVM's direct-memory limit (by default the heap size), which a
 * repacked multi-GiB model would exceed.
 */
final class OffHeap {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final MethodHandle MALLOC = LINKER.downcallHandle(
            LINKER.defaultLookup().find("malloc").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));
    private static final MethodHandle FREE = LINKER.downcallHandle(
            LINKER.defaultLookup().find("free").orElseThrow(), FunctionDescriptor.ofVoid(ValueLayout.ADDRESS));
    private static final long ALIGN = 64;

    private OffHeap() {
    }

    /** {@code size} uninitialized bytes aligned to 64, or null when the C allocator has none left. */
    static MemorySegment allocate(long size) {
        MemorySegment raw;
        try {
            raw = (MemorySegment) MALLOC.invokeExact(size + ALIGN - 1);
        } catch (Throwable t) {
            throw new IllegalStateException("malloc failed", t);
        }
        if (raw.address() == 0) {
            return null;
        }
        long skip = -raw.address() & (ALIGN - 1);
        return raw.reinterpret(size + ALIGN - 1, Arena.ofAuto(), OffHeap::free).asSlice(skip, size);
    }

    private static void free(MemorySegment s) {
        try {
            FREE.invokeExact(s);
        } catch (Throwable t) {
            throw new IllegalStateException("free failed", t);
        }
    }
}
