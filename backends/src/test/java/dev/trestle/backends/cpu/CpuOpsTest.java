package dev.trestle.backends.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** Vectorized row ops against their lane-by-lane definitions. */
class CpuOpsTest {
    @Test
    void swigluRowEqualsScalarSiluApproxBitForBit() {
        Random rnd = new Random(9);
        int n = 16 * 64 + 5; // a tail past the SIMD part (exact expf there)
        float[] gate = new float[n];
        float[] up = new float[n];
        for (int i = 0; i < n; i++) {
            gate[i] = (float) rnd.nextGaussian() * (i % 4 == 0 ? 40f : 3f);
            up[i] = (float) rnd.nextGaussian();
        }
        // beyond the fast exp's range (|x| > ~87, scalar Math.exp), both signs; zeros; subnormals; inf and NaN
        float[] special = {88f, -88f, 100f, -104f, 0f, -0f, Float.MIN_VALUE, -Float.MIN_NORMAL / 3,
            Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN, 87.3f, -87.3f, 126f * 0.6931472f};
        for (int i = 0; i < special.length; i++) {
            gate[16 * 5 + 3 * i] = special[i];
        }
        float[] want = gate.clone();
        for (int i = 0; i < n - n % 16; i++) {
            want[i] = CpuOps.siluApprox(want[i]) * up[i];
        }
        for (int i = n - n % 16; i < n; i++) {
            want[i] = CpuOps.silu(want[i]) * up[i];
        }
        CpuOps.swigluRow(gate, 0, up, 0, n);
        assertArrayEquals(want, gate);
    }
}
