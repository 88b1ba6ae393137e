package dev.trestle.backends.cpu;

import java.lang.management.ManagementFactory;
import java.lang.management.OperatingSystemMXBean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * A fixed pool of worker threads that split an index range (rows of a matmul, heads of attention).
 *
 * <p>The calling thread takes part, so {@code -t 1} runs everything on the caller. A decode step issues
 * about a hundred short jobs back to back, and a park/unpark hand-off costs tens of microseconds on a VM, so
 * both sides spin for a bounded time ({@code spinNanos}, default 50 us, {@code -Dtrestle.cpu.spinMicros})
 * before they park: workers waiting for the next job, the caller waiting for the workers. A side unparks the
 * other only when it has announced that it parks; an idle pool ends up parked (no CPU). No allocation per job.
 *
 * <p>Spinning only pays when every pool thread has a CPU of its own: on an oversubscribed machine a spinning
 * thread burns the scheduler share the thread it waits for needs (measured here: 2-4x slower hand-offs at a load
 * of 8 on 2 vCPUs). So the pool spins only while the one-minute load average is at most the processor count
 * (plus a half), re-read every {@link #LOAD_CHECK_NANOS} (the default pool; tests fix the spin).
 */
public final class CpuThreadPool implements AutoCloseable {
    /** Body of a parallel loop: processes indices {@code [from, to)} as chunk {@code chunk}. */
    @FunctionalInterface
    public interface RangeBody {
        void run(int from, int to);
    }

    /** How long a waiting thread spins before it parks, unless the constructor is given a value. */
    public static final long DEFAULT_SPIN_NANOS = Math.max(0L, Long.getLong("trestle.cpu.spinMicros", 50L)) * 1000L;
    private static final int SPINS_PER_CLOCK_READ = 64;
    static final long LOAD_CHECK_NANOS = 250_000_000L;
    private static final OperatingSystemMXBean OS = ManagementFactory.getOperatingSystemMXBean();
    private static final int CPUS = Runtime.getRuntime().availableProcessors();

    private final int threads;
    private final long spinNanos;
    private final boolean loadAware;
    private final Worker[] workers;
    private final AtomicInteger pending = new AtomicInteger();
    private volatile long generation;
    private volatile boolean closed;
    private volatile RangeBody body;
    private volatile int jobSize;
    private volatile Throwable failure;
    private volatile Thread waiter;
    private volatile boolean waiterParked;
    private volatile long spinNow;    // spinNanos, or 0 while the machine is oversubscribed
    private long nextLoadCheck;       // caller side, under the pool's lock

    /** A worker thread with the flag it raises before parking (the caller unparks only flagged workers). */
    private final class Worker extends Thread {
        final int index;
        volatile boolean parked;
        volatile long parks; // times this worker really parked (tests check that an idle pool parks)

        Worker(int index) {
            super("trestle-cpu-" + index);
            this.index = index;
            setDaemon(true);
        }

        @Override
        public void run() {
            workerLoop(this);
        }
    }

    /**
     * Starts {@code threads - 1} workers (the caller is the last thread), spinning {@link #DEFAULT_SPIN_NANOS}
     * while the machine is not oversubscribed.
     */
    public CpuThreadPool(int threads) {
        this(threads, DEFAULT_SPIN_NANOS, true);
    }

    /** Starts {@code threads - 1} workers that always spin {@code spinNanos} (0 = never) before parking. */
    public CpuThreadPool(int threads, long spinNanos) {
        this(threads, spinNanos, false);
    }

    /** Starts {@code threads - 1} workers; {@code loadAware}: spin only while the load average allows. */
    public CpuThreadPool(int threads, long spinNanos, boolean loadAware) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        }
        if (spinNanos < 0) {
            throw new IllegalArgumentException("spinNanos must be >= 0, got " + spinNanos);
        }
        this.threads = threads;
        this.spinNanos = spinNanos;
        this.loadAware = loadAware;
        this.spinNow = spinNanos;
        this.nextLoadCheck = System.nanoTime();
        this.workers = new Worker[threads - 1];
        for (int i = 0; i < workers.length; i++) {
            workers[i] = new Worker(i + 1);
            workers[i].start();
        }
    }

    /** The default thread count: the number of available processors (physical cores are not visible to the JVM). */
    public static int defaultThreads() {
        return Math.max(1, Runtime.getRuntime().availableProcessors());
    }

    public int threads() {
        return threads;
    }

    /** Nanoseconds a waiting thread spins before parking. */
    public long spinNanos() {
        return spinNanos;
    }

    /** Workers currently parked (a snapshot; for tests and diagnostics). */
    public int parkedWorkers() {
        int n = 0;
        for (Worker w : workers) {
            if (w.parked) {
                n++;
            }
        }
        return n;
    }

    /** Total times the workers have parked since start (for tests and diagnostics). */
    public long workerParks() {
        long n = 0;
        for (Worker w : workers) {
            n += w.parks;
        }
        return n;
    }

    /**
     * Runs {@code body} over {@code [0, n)} split into at most {@code threads} contiguous chunks and waits.
     * Not reentrant: a body must not call back into the pool. When a chunk throws, the other chunks still
     * finish before the first failure is rethrown.
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
            if (loadAware && spinNanos > 0) {
                checkLoad();
            }
            this.body = body;
            this.jobSize = n;
            this.failure = null;
            this.waiter = Thread.currentThread();
            pending.set(parts - 1);
            generation++;
            // a worker raises its flag before it re-reads the generation, so one of the two sides sees the other
            for (int i = 0; i < parts - 1; i++) {
                Worker w = workers[i];
                if (w.parked) {
                    LockSupport.unpark(w);
                }
            }
            Throwable own = null;
            try {
                runChunk(0, parts, n, body);
            } catch (Throwable t) {
                own = t;
            }
            awaitWorkers();
            this.body = null;
            Throwable f = own != null ? own : failure;
            failure = null;
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

    /** Turns spinning off while the machine has more runnable threads than processors, on again after. */
    private void checkLoad() {
        long now = System.nanoTime();
        if (now - nextLoadCheck < 0) {
            return;
        }
        nextLoadCheck = now + LOAD_CHECK_NANOS;
        double load = OS.getSystemLoadAverage(); // negative where the platform has none: keep spinning
        spinNow = load < 0 || load <= CPUS + 0.5 ? spinNanos : 0L;
    }

    /** Whether waiting threads spin before parking now (false while the machine is oversubscribed). */
    public boolean spinning() {
        return spinNow > 0;
    }

    private void awaitWorkers() {
        if (pending.get() == 0) {
            return;
        }
        long spin = spinNow;
        if (spin > 0) {
            long deadline = System.nanoTime() + spin;
            int spins = 0;
            while (pending.get() != 0) {
                Thread.onSpinWait();
                if (++spins == SPINS_PER_CLOCK_READ) {
                    spins = 0;
                    if (System.nanoTime() - deadline >= 0) {
                        break;
                    }
                    Thread.yield(); // on an oversubscribed machine, let a worker we wait for have this CPU
                }
            }
        }
        // a worker decrements before it reads this flag, so one of the two sides sees the other
        waiterParked = true;
        while (pending.get() != 0) {
            LockSupport.park(this);
        }
        waiterParked = false;
    }

    private static void runChunk(int chunk, int parts, int n, RangeBody body) {
        int from = (int) ((long) n * chunk / parts);
        int to = (int) ((long) n * (chunk + 1) / parts);
        if (from < to) {
            body.run(from, to);
        }
    }

    private void workerLoop(Worker self) {
        long seen = 0;
        while (true) {
            long g = awaitJob(self, seen);
            if (closed) {
                return;
            }
            RangeBody b = body;
            int n = jobSize;
            if (generation != g) {
                continue; // a newer job was being published while we read: read it again
            }
            seen = g;
            int parts = Math.min(threads, n);
            if (b != null && self.index < parts) {
                try {
                    runChunk(self.index, parts, n, b);
                } catch (Throwable t) {
                    failure = t;
                }
                if (pending.decrementAndGet() == 0 && waiterParked) {
                    LockSupport.unpark(waiter);
                }
            }
        }
    }

    /** Waits until the generation differs from {@code seen} or the pool closes: spins, then parks. */
    private long awaitJob(Worker self, long seen) {
        long deadline = 0;
        long spin = spinNow;
        boolean spinning = spin > 0;
        int spins = 0;
        while (true) {
            long g = generation;
            if (g != seen || closed) {
                return g;
            }
            if (spinning) {
                Thread.onSpinWait();
                if (++spins == SPINS_PER_CLOCK_READ) {
                    spins = 0;
                    long now = System.nanoTime();
                    if (deadline == 0) {
                        deadline = now + spin;
                    } else if (now - deadline >= 0) {
                        spinning = false;
                    }
                    Thread.yield();
                }
                continue;
            }
            self.parked = true;
            if (generation == seen && !closed) {
                self.parks++;
                LockSupport.park(this);
            }
            self.parked = false;
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
