package dev.trestle.backends.quant;

import java.util.Random;

/** Deterministic test inputs (java.util.Random is specified bit for bit, so these are the same everywhere). */
final class Signals {
    private Signals() {
    }

    /**
     * {@code n} values in 256-value stretches of eight shapes: N(0,1), N(0,0.01), U(-1,1), N(0,1) with
     * rare 30x outliers, sparse (3 in 4 zero), all positive, small with an offset, N(0,100).
     * The first 256 values are zero when {@code zeroFirst}.
     */
    static float[] mixed(long seed, int n, boolean zeroFirst) {
        Random r = new Random(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            switch ((i / 256) % 8) {
                case 0 -> x[i] = (float) r.nextGaussian();
                case 1 -> x[i] = (float) (r.nextGaussian() * 0.01);
                case 2 -> x[i] = r.nextFloat() * 2 - 1;
                case 3 -> x[i] = (float) (r.nextGaussian() * (r.nextInt(50) == 0 ? 30 : 1));
                case 4 -> x[i] = r.nextInt(4) == 0 ? (float) r.nextGaussian() : 0f;
                case 5 -> x[i] = (float) Math.abs(r.nextGaussian()) + 0.5f;
                case 6 -> x[i] = (float) (r.nextGaussian() * 1e-3 - 0.01);
                default -> x[i] = (float) (r.nextGaussian() * 100);
            }
        }
        if (zeroFirst) {
            java.util.Arrays.fill(x, 0, Math.min(n, 256), 0f);
        }
        return x;
    }

    /** {@code n} multiples of 0.5 in [-63.5, 63.5]: quantizing them hits many exact rounding ties. */
    static float[] halfSteps(long seed, int n) {
        Random r = new Random(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (r.nextInt(255) - 127) * 0.5f;
        }
        return x;
    }

    /** {@code n} values from N(0,1). */
    static float[] gaussian(long seed, int n) {
        Random r = new Random(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) r.nextGaussian();
        }
        return x;
    }

    /**
     * {@code blocks} random blocks of {@code type}: every byte random except the float scale fields,
     * which get finite values (fp16 of U(-1,1), or f32 for Q8_K) so no NaN payloads are involved.
     */
    static byte[] randomBlocks(dev.trestle.backends.type.GgmlType type, long seed, int blocks) {
        Random r = new Random(seed);
        int bpb = type.bytesPerBlock();
        byte[] b = new byte[bpb * blocks];
        r.nextBytes(b);
        int[] f16Fields = switch (type) {
            case Q4_0, Q5_0, Q8_0, IQ4_NL, IQ4_XS -> new int[] {0};
            case Q4_1, Q5_1, Q8_1, Q4_K, Q5_K -> new int[] {0, 2};
            case Q2_K -> new int[] {80, 82};
            case Q3_K -> new int[] {108};
            case Q6_K -> new int[] {208};
            default -> new int[0];
        };
        java.nio.ByteBuffer bb = java.nio.ByteBuffer.wrap(b).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < blocks; i++) {
            for (int f : f16Fields) {
                bb.putShort(i * bpb + f, Float.floatToFloat16(r.nextFloat() * 2 - 1));
            }
            if (type == dev.trestle.backends.type.GgmlType.Q8_K) {
                bb.putFloat(i * bpb, r.nextFloat() * 2 - 1);
            }
        }
        return b;
    }
}
