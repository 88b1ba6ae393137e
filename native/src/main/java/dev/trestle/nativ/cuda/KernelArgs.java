package dev.trestle.nativ.cuda;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * The {@code void **kernelParams} of {@code cuLaunchKernel}: an array of pointers, each to one argument's
 * value. Values sit in 8-byte slots allocated once, so filling and launching allocates nothing; the driver
 * copies the values at launch, so the same instance is reused for the next launch right away.
 *
 * <p>Not thread-safe: one per stream.
 */
public final class KernelArgs {
    private static final long SLOT = 8;

    private final MemorySegment values;   // (maxArgs) 8-byte slots
    private final MemorySegment pointers; // (maxArgs) addresses of the slots
    private final int maxArgs;
    private int count;

    /** Room for {@code maxArgs} arguments, allocated in {@code arena} (which frees it). */
    public KernelArgs(Arena arena, int maxArgs) {
        this.maxArgs = maxArgs;
        this.values = arena.allocate(SLOT * maxArgs, SLOT);
        this.pointers = arena.allocate(ADDRESS.byteSize() * maxArgs, ADDRESS.byteAlignment());
        for (int i = 0; i < maxArgs; i++) {
            pointers.setAtIndex(ADDRESS, i, values.asSlice(i * SLOT, SLOT));
        }
    }

    /** Starts a new argument list. */
    public KernelArgs reset() {
        count = 0;
        return this;
    }

    /** A pointer argument ({@code CUdeviceptr} or {@code T*}). */
    public KernelArgs ptr(@NativeType("CUdeviceptr") long devicePointer) {
        values.set(JAVA_LONG, next(), devicePointer);
        return this;
    }

    /** An {@code int} or {@code unsigned int} argument. */
    public KernelArgs i32(int v) {
        values.set(JAVA_INT, next(), v);
        return this;
    }

    /** A {@code long long} argument. */
    public KernelArgs i64(long v) {
        values.set(JAVA_LONG, next(), v);
        return this;
    }

    /** A {@code float} argument. */
    public KernelArgs f32(float v) {
        values.set(JAVA_FLOAT, next(), v);
        return this;
    }

    /** Arguments added since {@link #reset()}. */
    public int count() {
        return count;
    }

    /** The {@code void **} to pass to {@code cuLaunchKernel}. */
    public MemorySegment params() {
        return pointers;
    }

    /** The 8-byte value slot of argument {@code i} (tests and diagnostics). */
    public MemorySegment slot(int i) {
        return values.asSlice(i * SLOT, SLOT);
    }

    private long next() {
        if (count == maxArgs) {
            throw new IllegalStateException("more than " + maxArgs + " kernel arguments");
        }
        return count++ * SLOT;
    }
}
