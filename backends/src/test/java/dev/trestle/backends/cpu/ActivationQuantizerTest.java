package dev.trestle.backends.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** The vectorized activation quantizers against their one-element-at-a-time references. */
class ActivationQuantizerTest {
    @Test
    void q8KEqualsTheScalarReferenceBitForBit() {
        Random rnd = new Random(5);
        int n = 256 * 12;
        float[] x = new float[n + 7];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) rnd.nextGaussian() * (i % 3 == 0 ? 30f : 1f);
        }
        // block 1: all zero; block 2: the largest magnitude twice with opposite signs (the first sets the sign);
        // block 3: values on the .5 rounding ties of the scale; block 4: a NaN; block 5: subnormals only
        java.util.Arrays.fill(x, 7 + 256, 7 + 512, 0f);
        x[7 + 512 + 40] = -100f;
        x[7 + 512 + 90] = 100f;
        for (int i = 0; i < 256; i++) {
            x[7 + 768 + i] = (i - 128) * 0.5f;
        }
        x[7 + 768] = -127f;
        x[7 + 1024 + 17] = Float.NaN;
        for (int i = 0; i < 256; i++) {
            x[7 + 1280 + i] = Float.MIN_VALUE * (i - 100);
        }
        byte[] qs = new byte[n];
        byte[] qsRef = new byte[n];
        float[] d = new float[n / 256];
        float[] dRef = new float[n / 256];
        short[] bs = new short[n / 16];
        short[] bsRef = new short[n / 16];
        ActivationQuantizer.q8_K(x, 7, n, qs, 0, d, 0, bs, 0);
        ActivationQuantizer.q8_KReference(x, 7, n, qsRef, 0, dRef, 0, bsRef, 0);
        assertArrayEquals(qsRef, qs);
        assertArrayEquals(dRef, d);
        assertArrayEquals(bsRef, bs);
    }

    @Test
    void q8_0WithSumsEqualsTheScalarQuantizerBitForBit() {
        Random rnd = new Random(6);
        int n = 32 * 40;
        float[] x = new float[n + 3];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) rnd.nextGaussian() * (i % 5 == 0 ? 50f : 1f);
        }
        java.util.Arrays.fill(x, 3 + 32, 3 + 64, 0f);              // an all-zero block
        for (int i = 0; i < 32; i++) {
            x[3 + 64 + i] = (i - 16) * 0.5f;                         // ties of the rounding
        }
        x[3 + 64] = -127f;
        x[3 + 96 + 5] = Float.NaN;                                   // a NaN block
        x[3 + 128 + 7] = Float.POSITIVE_INFINITY;                    // an infinite one
        x[3 + 160 + 9] = Float.MIN_VALUE;                            // subnormals only
        java.util.Arrays.fill(x, 3 + 160, 3 + 160 + 9, -Float.MIN_VALUE);
        java.util.Arrays.fill(x, 3 + 160 + 10, 3 + 192, 0f);
        byte[] qs = new byte[n];
        byte[] qsRef = new byte[n];
        float[] d = new float[n / 32];
        float[] dRef = new float[n / 32];
        int[] sums = new int[n / 32];
        int[] sumsRef = new int[n / 32];
        ActivationQuantizer.q8_0WithSums(x, 3, n, qs, 0, d, 0, sums);
        ActivationQuantizer.q8_0(x, 3, n, qsRef, 0, dRef, 0);
        for (int b = 0; b < n / 32; b++) {
            for (int j = 0; j < 32; j++) {
                sumsRef[b] += qsRef[32 * b + j];
            }
        }
        assertArrayEquals(qsRef, qs);
        assertArrayEquals(dRef, d);
        assertArrayEquals(sumsRef, sums);
    }
}
