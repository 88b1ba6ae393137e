package dev.trestle.backends.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Quantizes float activations to ggml's dot-product formats, with the arithmetic of ggml's x86 CPU
 * backend: Q8_0/Q8_1 scale by {@code 127 / max|x|} and round half to even (the AVX path), Q8_K uses
 * {@code -127 / x_at_max|x|} and round half to even (quantize_row_q8_K_ref's nearest_int).
 */
public final class ActivationQuantizer {
    private ActivationQuantizer() {
    }

    /**
     * Q8_0 with each block's quant sum into {@code sums[dOff + b]} (the Q4_0/Q8_0 repacked kernels' offset term):
     * vectorized, the same bytes, scales and sums as {@link #q8_0} then summing (a NaN makes every quant of its
     * block 0 in both, as Java's float-to-int conversion does).
     */
    static void q8_0WithSums(float[] x, int xOff, int n, byte[] qs, int qOff, float[] d, int dOff, int[] sums) {
        int lanes = F.length();
        if (lanes < 8 || lanes > 32) {
            q8_0(x, xOff, n, qs, qOff, d, dOff);
            for (int b = 0; b < n / 32; b++) {
                int sum = 0;
                for (int j = 0; j < 32; j++) {
                    sum += qs[qOff + b * 32 + j];
                }
                sums[dOff + b] = sum;
            }
            return;
        }
        for (int b = 0; b < n / 32; b++) {
            int base = xOff + b * 32;
            float amax = absMax(x, base, 32);
            d[dOff + b] = Half.round(amax / 127f);
            float id = amax != 0f ? 127f / amax : 0f;
            int sum = 0;
            for (int j = 0; j < 32; j += lanes) {
                IntVector q = (IntVector) FloatVector.fromArray(F, x, base + j).mul(id).add(ROUND).sub(ROUND)
                        .convert(VectorOperators.F2I, 0);
                q.convertShape(VectorOperators.I2B, B, 0).reinterpretAsBytes().intoArray(qs, qOff + b * 32 + j);
                sum += q.reduceLanes(VectorOperators.ADD);
            }
            sums[dOff + b] = sum;
        }
    }

    /** Q8_0: 32-element blocks, F16 scale. */
    static void q8_0(float[] x, int xOff, int n, byte[] qs, int qOff, float[] d, int dOff) {
        for (int b = 0; b < n / 32; b++) {
            int base = xOff + b * 32;
            float amax = 0f;
            for (int j = 0; j < 32; j++) {
                amax = Math.max(amax, Math.abs(x[base + j]));
            }
            float dd = amax / 127f;
            d[dOff + b] = Half.round(dd);
            float id = amax != 0f ? 127f / amax : 0f;
            for (int j = 0; j < 32; j++) {
                qs[qOff + b * 32 + j] = (byte) (int) Math.rint(x[base + j] * id);
            }
        }
    }

    /** Q8_1: as Q8_0 plus {@code s = d * sum(q)} rounded to F16 (used by Q4_1/Q5_1 dots for the min term). */
    static void q8_1(float[] x, int xOff, int n, byte[] qs, int qOff, float[] d, float[] s, int dOff) {
        for (int b = 0; b < n / 32; b++) {
            int base = xOff + b * 32;
            float amax = 0f;
            for (int j = 0; j < 32; j++) {
                amax = Math.max(amax, Math.abs(x[base + j]));
            }
            float dd = amax / 127f;
            d[dOff + b] = Half.round(dd);
            float id = amax != 0f ? 127f / amax : 0f;
            int sum = 0;
            for (int j = 0; j < 32; j++) {
                int q = (int) Math.rint(x[base + j] * id);
                qs[qOff + b * 32 + j] = (byte) q;
                sum += q;
            }
            s[dOff + b] = Half.round(dd * sum);
        }
    }

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    /** One byte per float lane: the quants of one float vector. */
    private static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class, VectorShape.forBitSize(8 * F.length()));
    /** Added and subtracted, rounds a float below 2^22 in magnitude to the nearest integer, ties to even. */
    private static final float ROUND = 0x1.8p23f;

    /**
     * Q8_K: 256-element blocks, F32 scale, 16-element partial sums. Vectorized; the same bytes, scales and sums as
     * {@link #q8_KReference} (the first element of largest magnitude sets the scale; {@code rint} is the add and
     * subtract of 1.5 * 2^23, exact below 2^22, and the scaled values are at most 127 in magnitude). A block with a
     * NaN takes the scalar path, whose comparisons skip it.
     */
    static void q8_K(float[] x, int xOff, int n, byte[] qs, int qOff, float[] d, int dOff, short[] bsums, int bOff) {
        int lanes = F.length();
        if (lanes < 8 || lanes > 16) {
            q8_KReference(x, xOff, n, qs, qOff, d, dOff, bsums, bOff);
            return;
        }
        for (int b = 0; b < n / 256; b++) {
            int base = xOff + b * 256;
            float amax = absMax(x, base, 256);
            if (Float.isNaN(amax)) {
                q8_KReference(x, base, 256, qs, qOff + b * 256, d, dOff + b, bsums, bOff + b * 16);
                continue;
            }
            int q0 = qOff + b * 256;
            if (amax == 0f) {
                zeroBlock(qs, q0, d, dOff + b, bsums, bOff + b * 16);
                continue;
            }
            int at = 0;
            while (Math.abs(x[base + at]) != amax) {
                at++;
            }
            float iscale = -127f / x[base + at];
            for (int j = 0; j < 256; j += lanes) {
                IntVector q = (IntVector) FloatVector.fromArray(F, x, base + j).mul(iscale).add(ROUND).sub(ROUND)
                        .convert(VectorOperators.F2I, 0);
                q = q.min(127);
                q.convertShape(VectorOperators.I2B, B, 0).reinterpretAsBytes().intoArray(qs, q0 + j);
                int sum = q.reduceLanes(VectorOperators.ADD);
                int k = bOff + b * 16 + j / 16;
                bsums[k] = (short) (j % 16 == 0 ? sum : bsums[k] + sum);
            }
            d[dOff + b] = 1f / iscale;
        }
    }

    /** A Q8_K block of zeros: scale, quants and sums 0. */
    private static void zeroBlock(byte[] qs, int q0, float[] d, int di, short[] bsums, int bi) {
        d[di] = 0f;
        java.util.Arrays.fill(qs, q0, q0 + 256, (byte) 0);
        java.util.Arrays.fill(bsums, bi, bi + 16, (short) 0);
    }

    /** max |x[base + j]| over {@code n} (a multiple of the lanes) elements; NaN if one is NaN. */
    private static float absMax(float[] x, int base, int n) {
        FloatVector am = FloatVector.zero(F);
        for (int j = 0; j < n; j += F.length()) {
            am = am.max(FloatVector.fromArray(F, x, base + j).abs());
        }
        return am.reduceLanes(VectorOperators.MAX);
    }

    /** Q8_K, one element at a time: the reference {@link #q8_K} reproduces. */
    static void q8_KReference(float[] x, int xOff, int n, byte[] qs, int qOff, float[] d, int dOff, short[] bsums,
                              int bOff) {
        for (int b = 0; b < n / 256; b++) {
            int base = xOff + b * 256;
            float max = 0f;
            float amax = 0f;
            for (int j = 0; j < 256; j++) {
                float ax = Math.abs(x[base + j]);
                if (ax > amax) {
                    amax = ax;
                    max = x[base + j];
                }
            }
            int q0 = qOff + b * 256;
            if (amax == 0f) {
                zeroBlock(qs, q0, d, dOff + b, bsums, bOff + b * 16);
                continue;
            }
            float iscale = -127f / max;
            for (int j = 0; j < 256; j++) {
                int v = (int) Math.rint(iscale * x[base + j]);
                qs[q0 + j] = (byte) Math.min(127, v);
            }
            for (int j = 0; j < 16; j++) {
                int sum = 0;
                for (int i = 0; i < 16; i++) {
                    sum += qs[q0 + j * 16 + i];
                }
                bsums[bOff + b * 16 + j] = (short) sum;
            }
            d[dOff + b] = 1f / iscale;
        }
    }
}
