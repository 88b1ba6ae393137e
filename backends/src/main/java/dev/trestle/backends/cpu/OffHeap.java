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
    /** Transparent huge page size on x86-64 and most arm64 Linux kernels. */
    private static final long HUGE = 2L << 20;
    private static final int MADV_HUGEPAGE = 14;
    /** Linux only: asks the kernel to back a range with transparent huge pages ({@code madvise} mode of THP). */
    private static final MethodHandle MADVISE = LINKER.defaultLookup().find("madvise")
            .filter(a -> System.getProperty("os.name", "").startsWith("Linux"))
            .map(a -> LINKER.downcallHandle(a, FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS,
                    ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT)))
            .orElse(null);

    private OffHeap() {
    }

    /**
     * {@code size} uninitialized bytes aligned to 64 (from 2 MiB up, on Linux: 2 MiB-aligned and advised onto
     * transparent huge pages), or null when the C allocator has none left.
     */
    static MemorySegment allocate(long size) {
        boolean huge = MADVISE != null && size >= HUGE;
        long align = huge ? HUGE : ALIGN;
        MemorySegment raw;
        try {
            raw = (MemorySegment) MALLOC.invokeExact(size + align - 1);
        } catch (Throwable t) {
            throw new IllegalStateException("malloc failed", t);
        }
        if (raw.address() == 0) {
            return null;
        }
        long skip = -raw.address() & (align - 1);
        MemorySegment seg = raw.reinterpret(size + align - 1, Arena.ofAuto(), OffHeap::free).asSlice(skip, size);
        if (huge) {
            // weights are streamed once per token: 4 KiB pages cost a TLB miss every 4 KiB of a multi-GiB walk
            try {
                int unused = (int) MADVISE.invokeExact(seg, size & -HUGE, MADV_HUGEPAGE);
            } catch (Throwable t) {
                throw new IllegalStateException("madvise failed", t);
            }
        }
        return seg;
    }

    private static void free(MemorySegment s) {
        try {
            FREE.invokeExact(s);
        } catch (Throwable t) {
            throw new IllegalStateException("free failed", t);
        }
    }
}
