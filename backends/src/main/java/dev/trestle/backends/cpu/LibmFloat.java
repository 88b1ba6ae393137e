package dev.trestle.backends.cpu;

/**
 * Single-precision expf, sinf and cosf with glibc's algorithms (ARM optimized-routines, glibc 2.28+), so RoPE
 * angles and softmax weights round exactly as llama.cpp's CPU backend computes them on Linux. Java's
 * correctly rounded results differ from glibc in about 0.07% (expf) and 1.3% (sinf/cosf) of inputs, and on
 * rescaled models one such ulp can flip an F16 rounding downstream into a 1e-3 logit change.
 */
public final class LibmFloat {
    private LibmFloat() {
    }

    // expf: 2^(k/N) table with N = 32 and a cubic in r (exp2f_data).
    private static final int N = 32;
    private static final long[] EXP_T = new long[N];
    private static final double INV_LN2_N = 0x1.71547652b82fep+0 * N;
    private static final double SHIFT = 0x1.8p+52;
    private static final double C0 = 0x1.c6af84b912394p-5 / N / N / N;
    private static final double C1 = 0x1.ebfce50fac4f3p-3 / N / N;
    private static final double C2 = 0x1.62e42ff0c52d6p-1 / N;

    static {
        for (int i = 0; i < N; i++) {
            EXP_T[i] = Double.doubleToRawLongBits(Math.pow(2.0, i / (double) N)) - (((long) i << 52) / N);
        }
    }

    /** expf as glibc computes it (max error 0.502 ulp). */
    public static float expf(float x) {
        int abstop = (Float.floatToRawIntBits(x) >>> 20) & 0x7ff;
        if (abstop >= 0x42b) { // |x| >= 88 or NaN: the rare paths, where Java's exp agrees
            return (float) Math.exp(x);
        }
        double z = INV_LN2_N * x;
        double kd = z + SHIFT;
        long ki = Double.doubleToRawLongBits(kd);
        kd -= SHIFT;
        double r = z - kd;
        long t = EXP_T[(int) (ki & (N - 1))] + (ki << 47);
        double s = Double.longBitsToDouble(t);
        double zz = C0 * r + C1;
        double r2 = r * r;
        double y = C2 * r + 1;
        y = zz * r2 + y;
        return (float) (y * s);
    }

    // sinf/cosf: sincosf_data with a quadrant-negated second table.
    private static final double[] SIGN = {1.0, -1.0, -1.0, 1.0};
    private static final double HPI_INV = 0x1.45F306DC9C883p+23;
    private static final double HPI = 0x1.921FB54442D18p0;
    private static final double PI63 = 0x1.921FB54442D18p-62;
    private static final double S1 = -0x1.555545995a603p-3;
    private static final double S2 = 0x1.1107605230bc4p-7;
    private static final double S3 = -0x1.994eb3774cf24p-13;
    private static final double K1 = -0x1.ffffffd0c621cp-2;
    private static final double K2 = 0x1.55553e1068f19p-5;
    private static final double K3 = -0x1.6c087e89a359dp-10;
    private static final double K4 = 0x1.99343027bf8c3p-16;
    private static final long[] INV_PIO4 = {
        0xa2L, 0xa2f9L, 0xa2f983L, 0xa2f9836eL, 0xf9836e4eL, 0x836e4e44L, 0x6e4e4415L, 0x4e441529L,
        0x441529fcL, 0x1529fc27L, 0x29fc2757L, 0xfc2757d1L, 0x2757d1f5L, 0x57d1f534L, 0xd1f534ddL, 0xf534ddc0L,
        0x34ddc0dbL, 0xddc0db62L, 0xc0db6295L, 0xdb629599L, 0x6295993cL, 0x95993c43L, 0x993c4390L, 0x3c439041L};
    private static final int PIO4_TOP = abstop12(0x1.921FB6p-1f);
    private static final int TINY_TOP = abstop12(0x1p-12f);
    private static final int FAST_TOP = abstop12(120.0f);
    private static final int INF_TOP = abstop12(Float.POSITIVE_INFINITY);

    private static int abstop12(float x) {
        return (Float.floatToRawIntBits(x) >>> 20) & 0x7ff;
    }

    /** sin (n even) or cos (n odd) polynomial on the reduced argument; {@code neg} flips the cosine table. */
    private static float poly(double x, double x2, int n, boolean neg) {
        if ((n & 1) == 0) {
            double x3 = x * x2;
            double s1 = S2 + x2 * S3;
            double x7 = x3 * x2;
            double s = x + x3 * S1;
            return (float) (s + x7 * s1);
        }
        double sg = neg ? -1.0 : 1.0;
        double x4 = x2 * x2;
        double c2 = sg * K3 + x2 * (sg * K4);
        double c1 = sg + x2 * (sg * K1);
        double x6 = x4 * x2;
        double c = c1 + x4 * (sg * K2);
        return (float) (c + x6 * c2);
    }

    /** sinf ({@code cos} false) or cosf as glibc computes them (max error 0.56 ulp). */
    private static float sincos(float y, boolean cos) {
        double x = y;
        int top = abstop12(y);
        if (top < PIO4_TOP) {
            if (top < TINY_TOP) {
                return cos ? 1.0f : y;
            }
            return poly(x, x * x, cos ? 1 : 0, false);
        }
        int n;
        double s;
        boolean neg;
        if (top < FAST_TOP) {
            double r = x * HPI_INV;
            n = (((int) r) + 0x800000) >> 24;
            x = x - n * HPI;
            s = SIGN[n & 3];
            neg = (n & 2) != 0;
        } else if (top < INF_TOP) {
            int xi = Float.floatToRawIntBits(y);
            int sign = xi >>> 31;
            int base = (xi >>> 26) & 15;
            int shift = (xi >>> 23) & 7;
            long m = ((long) ((xi & 0xffffff) | 0x800000)) << shift;
            long res0 = (m * INV_PIO4[base]) & 0xffffffffL;
            long res1 = m * INV_PIO4[base + 4];
            long res2 = m * INV_PIO4[base + 8];
            res0 = (res2 >>> 32) | (res0 << 32);
            res0 += res1;
            long q = (res0 + (1L << 61)) >>> 62;
            res0 -= q << 62;
            x = (double) res0 * PI63;
            n = (int) q;
            s = SIGN[(n + sign) & 3];
            neg = ((n + sign) & 2) != 0;
        } else {
            return Float.NaN;
        }
        return poly(x * s, x * x, cos ? n ^ 1 : n, neg);
    }

    public static float sinf(float x) {
        return sincos(x, false);
    }

    public static float cosf(float x) {
        return sincos(x, true);
    }
}
