package dev.trestle.backends.spi;

/**
 * A backend: a device plus the means to run the engine's op set on it. The CPU backend is complete for every
 * op; GPU backends may lack an op only when {@link Device#supportsOp} says so, and the planner routes it to
 * the CPU.
 */
public interface Backend extends AutoCloseable {
    Device device();

    /** Worker threads (CPU) or streams (GPU) this backend uses. */
    int parallelism();

    @Override
    void close();
}
