package dev.trestle.backends.cpu;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * A fixed pool of worker threads that split an index range (rows of a matmul, heads of attention).
 *
 * <p>The calling thread takes part, so {@code -t 1} runs everything on the caller. Workers are daemon
 * threads parked between jobs; a job costs two unparks per worker and no allocation.
 */
public final class CpuThreadPool implements AutoCloseable {
    /** Body of a parallel loop: processes indices {@code [from, to)} as chunk {@code chunk}. */
    @FunctionalInterface
    public interface RangeBody {
        void run(int from, int to);
    }

    private final int threads;
    private final Thread[] workers;
    private final AtomicInteger pending = new AtomicInteger();
    private volatile long generation;
    private volatile boolean closed;
    private volatile RangeBody body;
    private volatile int jobSize;
    private volatile Throwable failure;
    private final Thread[] waiter = new Thread[1];

    /** Starts {@code threads - 1} workers (the caller is the last thread). */
    public CpuThreadPool(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        }
        this.threads = threads;
        this.workers = new Thread[threads - 1];
        for (int i = 0; i < workers.length; i++) {
            final int index = i + 1;
            Thread t = new Thread(() -> workerLoop(index), "trestle-cpu-" + index);
            t.setDaemon(true);
            workers[i] = t;
            t.start();
        }
    }

    /** The default thread count: the number of available processors (physical cores are not visible to the JVM). */
    public static int defaultThreads() {
        return Math.max(1, Runtime.getRuntime().availableProcessors());
    }

    public int threads() {
        return threads;
    }

    /**
     * Runs {@code body} over {@code [0, n)} split into at most {@code threads} contiguous chunks and waits.
     * Not reentrant: a body must not call back into the pool.
     */
    public void parallelFor(int n, RangeBody body) {
        if (n <= 0) {
            return;
        }
        int parts = Math.min(threads, n);
        if (parts == 1) {
            body.run(0, n);
            return;
        }
        synchronized (this) {
            this.body = body;
            this.jobSize = n;
            this.failure = null;
            waiter[0] = Thread.currentThread();
            pending.set(parts - 1);
            generation++;
            for (int i = 0; i < parts - 1; i++) {
                LockSupport.unpark(workers[i]);
            }
            runChunk(0, parts, n, body);
            while (pending.get() != 0) {
                LockSupport.park(this);
            }
            this.body = null;
            Throwable f = failure;
            if (f != null) {
                if (f instanceof RuntimeException re) {
                    throw re;
                }
                if (f instanceof Error e) {
                    throw e;
                }
                throw new IllegalStateException(f);
            }
        }
    }

    private static void runChunk(int chunk, int parts, int n, RangeBody body) {
        int from = (int) ((long) n * chunk / parts);
        int to = (int) ((long) n * (chunk + 1) / parts);
        if (from < to) {
            body.run(from, to);
        }
    }

    private void workerLoop(int index) {
        long seen = 0;
        while (!closed) {
            long g = generation;
            if (g == seen) {
                LockSupport.park(this);
                continue;
            }
            RangeBody b = body;
            int n = jobSize;
            if (generation != g) {
                continue; // a newer job was being published while we read: read it again
            }
            seen = g;
            int parts = Math.min(threads, n);
            if (b != null && index < parts) {
                try {
                    runChunk(index, parts, n, b);
                } catch (Throwable t) {
                    failure = t;
                }
                if (pending.decrementAndGet() == 0) {
                    LockSupport.unpark(waiter[0]);
                }
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        for (Thread t : workers) {
            LockSupport.unpark(t);
        }
    }
}
