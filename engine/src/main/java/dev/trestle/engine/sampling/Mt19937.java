package dev.trestle.engine.sampling;

/**
 * The 32-bit Mersenne Twister (MT19937, Matsumoto and Nishimura 1998), the generator llama.cpp's
 * {@code dist} sampler draws from, plus the way libstdc++ turns it into a uniform double, so a seed
 * gives the same stream of draws as llama.cpp.
 */
public final class Mt19937 {
    private static final int N = 624;
    private static final int M = 397;
    private static final int MATRIX_A = 0x9908b0df;
    private static final int UPPER = 0x80000000;
    private static final int LOWER = 0x7fffffff;

    private final int[] mt = new int[N]; // (N) generator state
    private int index;

    /** A generator seeded with the low 32 bits of {@code seed}. */
    public Mt19937(long seed) {
        seed(seed);
    }

    /** Re-seeds, as std::mt19937::seed does. */
    public void seed(long seed) {
        mt[0] = (int) seed;
        for (int i = 1; i < N; i++) {
            int prev = mt[i - 1];
            mt[i] = 1812433253 * (prev ^ (prev >>> 30)) + i;
        }
        index = N;
    }

    /** The next 32-bit output, as an unsigned value in a long. */
    public long nextUnsigned() {
        if (index >= N) {
            twist();
        }
        int y = mt[index++];
        y ^= y >>> 11;
        y ^= (y << 7) & 0x9d2c5680;
        y ^= (y << 15) & 0xefc60000;
        y ^= y >>> 18;
        return y & 0xffffffffL;
    }

    /**
     * A uniform double in [0, 1) the way libstdc++'s {@code uniform_real_distribution<double>} draws it
     * from a 32-bit engine: two outputs combined as (u1 + u2 * 2^32) / 2^64, rounded to double, and a
     * result of exactly 1 replaced by the largest double below 1.
     */
    public double nextDouble() {
        double lo = nextUnsigned();
        double hi = nextUnsigned();
        double r = (lo + hi * 4294967296.0) / 18446744073709551616.0;
        return r >= 1.0 ? Math.nextDown(1.0) : r;
    }

    private void twist() {
        for (int i = 0; i < N; i++) {
            int y = (mt[i] & UPPER) | (mt[(i + 1) % N] & LOWER);
            int next = mt[(i + M) % N] ^ (y >>> 1);
            mt[i] = (y & 1) != 0 ? next ^ MATRIX_A : next;
        }
        index = 0;
    }
}
