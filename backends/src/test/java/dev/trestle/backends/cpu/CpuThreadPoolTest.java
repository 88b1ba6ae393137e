package dev.trestle.backends.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The pool's contract: every index once, failures rethrown after all chunks ran, spinning then parking. */
class CpuThreadPoolTest {
    private static final long LONG_SPIN = 2_000_000L; // 2 ms

    /** Runs many jobs of random sizes back to back; each index must be visited exactly once per job. */
    private static void coverage(CpuThreadPool pool, int jobs, long seed) {
        Random rnd = new Random(seed);
        for (int j = 0; j < jobs; j++) {
            int n = 1 + rnd.nextInt(j % 7 == 0 ? 5 : 300);
            AtomicIntegerArray hits = new AtomicIntegerArray(n);
            pool.parallelFor(n, (from, to) -> {
                for (int i = from; i < to; i++) {
                    hits.incrementAndGet(i);
                }
            });
            for (int i = 0; i < n; i++) {
                assertEquals(1, hits.get(i), "job " + j + " (n=" + n + ") index " + i);
            }
        }
    }

    @Test
    @Timeout(120)
    void everyIndexOnceWithAndWithoutSpinning() {
        for (int threads : new int[] {1, 2, 3, 5}) {
            for (long spin : new long[] {0L, 1_000L, LONG_SPIN}) {
                try (CpuThreadPool pool = new CpuThreadPool(threads, spin)) {
                    coverage(pool, 400, threads * 31L + spin);
                }
            }
        }
    }

    @Test
    @Timeout(60)
    void jobsAfterWorkersParkedStillRunOnEveryThread() throws InterruptedException {
        try (CpuThreadPool pool = new CpuThreadPool(3, 1_000L)) {
            for (int round = 0; round < 20; round++) {
                awaitAllParked(pool);
                ConcurrentHashMap<Thread, Boolean> ran = new ConcurrentHashMap<>();
                pool.parallelFor(3, (from, to) -> ran.put(Thread.currentThread(), true));
                assertEquals(3, ran.size(), "round " + round + ": every thread takes a chunk");
            }
        }
    }

    @Test
    @Timeout(60)
    void idlePoolParksAndStaysParked() throws InterruptedException {
        try (CpuThreadPool pool = new CpuThreadPool(3, LONG_SPIN)) {
            coverage(pool, 50, 7);
            awaitAllParked(pool);
            long parks = pool.workerParks();
            Thread.sleep(200);
            // a parked worker that kept waking up would park again and count it
            assertEquals(parks, pool.workerParks(), "an idle pool does not wake its workers");
            assertEquals(2, pool.parkedWorkers());
        }
    }

    @Test
    @Timeout(60)
    void workerFailureIsRethrownAfterAllChunksAndPoolStaysUsable() {
        for (long spin : new long[] {0L, LONG_SPIN}) {
            try (CpuThreadPool pool = new CpuThreadPool(4, spin)) {
                for (int round = 0; round < 20; round++) {
                    AtomicInteger done = new AtomicInteger();
                    IllegalStateException boom = new IllegalStateException("boom");
                    IllegalStateException thrown = assertThrows(IllegalStateException.class,
                            () -> pool.parallelFor(400, (from, to) -> {
                                if (from >= 300) {
                                    throw boom;
                                }
                                done.addAndGet(to - from);
                            }));
                    assertSame(boom, thrown);
                    assertEquals(300, done.get(), "the other chunks finished before the rethrow");
                    coverage(pool, 5, round);
                }
            }
        }
    }

    @Test
    @Timeout(60)
    void callerFailureWaitsForWorkersBeforeRethrowing() {
        for (long spin : new long[] {0L, LONG_SPIN}) {
            try (CpuThreadPool pool = new CpuThreadPool(2, spin)) {
                for (int round = 0; round < 20; round++) {
                    AtomicInteger done = new AtomicInteger();
                    assertThrows(ArithmeticException.class, () -> pool.parallelFor(200, (from, to) -> {
                        if (from == 0) {
                            throw new ArithmeticException("caller chunk");
                        }
                        // the worker's chunk is slower than the caller's failure
                        long until = System.nanoTime() + 200_000;
                        while (System.nanoTime() < until) {
                            Thread.onSpinWait();
                        }
                        done.addAndGet(to - from);
                    }));
                    assertEquals(100, done.get(), "the worker's chunk completed before parallelFor returned");
                    coverage(pool, 5, round);
                }
            }
        }
    }

    @Test
    void errorsPassThrough() {
        try (CpuThreadPool pool = new CpuThreadPool(2, 0L)) {
            assertThrows(AssertionError.class, () -> pool.parallelFor(10, (from, to) -> {
                if (from > 0) {
                    throw new AssertionError("worker error");
                }
            }));
            coverage(pool, 5, 1);
        }
    }

    @Test
    @Timeout(60)
    void loadAwarePoolRunsJobsWhicheverWayItWaits() {
        // spinning or not depends on this machine's load average: both ways must give the same coverage
        try (CpuThreadPool pool = new CpuThreadPool(3, LONG_SPIN, true)) {
            coverage(pool, 300, 23);
        }
        try (CpuThreadPool pool = new CpuThreadPool(2, 0L, true)) {
            coverage(pool, 50, 29);
            assertTrue(!pool.spinning(), "a pool without a spin budget never spins");
        }
    }

    @Test
    void rejectsBadArguments() {
        assertThrows(IllegalArgumentException.class, () -> new CpuThreadPool(0));
        assertThrows(IllegalArgumentException.class, () -> new CpuThreadPool(2, -1L));
    }

    /** Waits (bounded by the test's timeout) until every worker has given up spinning and parked. */
    private static void awaitAllParked(CpuThreadPool pool) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (pool.parkedWorkers() < pool.threads() - 1) {
            assertTrue(System.nanoTime() < deadline, "workers never parked");
            Thread.sleep(1);
        }
    }
}
