package dev.trestle.backends.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.trestle.backends.type.GgmlType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Quantize then dequantize N(0,1) data: the error must stay within what each format can do. */
class RoundTripTest {
    private static final int N = 16384;

    /**
     * Upper bounds on rmse(y - x) / rms(x). Measured values (seed 7): q4_0 0.086, q4_1 0.078, q5_0 0.043,
     * q5_1 0.038, q8_0 0.0054, q2_K 0.297, q3_K 0.151, q4_K 0.071, q5_K 0.036, q6_K 0.018, q8_K 0.0070,
     * iq4_nl 0.079, iq4_xs 0.077, mxfp4 0.115, f16 0.0002, bf16 0.0017.
     */
    private static final Map<GgmlType, Double> MAX_NRMSE = Map.ofEntries(
            Map.entry(GgmlType.F32, 0.0), Map.entry(GgmlType.F16, 0.0003), Map.entry(GgmlType.BF16, 0.0025),
            Map.entry(GgmlType.Q4_0, 0.10), Map.entry(GgmlType.Q4_1, 0.09), Map.entry(GgmlType.Q5_0, 0.05),
            Map.entry(GgmlType.Q5_1, 0.045), Map.entry(GgmlType.Q8_0, 0.0065), Map.entry(GgmlType.Q8_1, 0.0065),
            Map.entry(GgmlType.Q2_K, 0.33), Map.entry(GgmlType.Q3_K, 0.17), Map.entry(GgmlType.Q4_K, 0.08),
            Map.entry(GgmlType.Q5_K, 0.042), Map.entry(GgmlType.Q6_K, 0.021), Map.entry(GgmlType.Q8_K, 0.0085),
            Map.entry(GgmlType.IQ4_NL, 0.09), Map.entry(GgmlType.IQ4_XS, 0.09), Map.entry(GgmlType.MXFP4, 0.13));

    private static float[] roundTrip(GgmlType type, float[] x) {
        QuantCodec c = Codecs.of(type);
        MemorySegment m = Arena.ofAuto().allocate(type.bytesFor(x.length));
        c.quantize(x, 0, m, 0, x.length);
        float[] y = new float[x.length];
        c.dequantize(m, 0, y, 0, x.length);
        return y;
    }

    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"F32", "F16", "BF16", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0",
            "Q8_1", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "Q8_K", "IQ4_NL", "IQ4_XS", "MXFP4"})
    void relativeErrorWithinFormatBound(GgmlType type) {
        float[] x = Signals.gaussian(7, N);
        float[] y = roundTrip(type, x);
        double se = 0;
        double sx = 0;
        for (int i = 0; i < N; i++) {
            double e = y[i] - x[i];
            se += e * e;
            sx += (double) x[i] * x[i];
        }
        double nrmse = Math.sqrt(se / sx);
        assertTrue(nrmse <= MAX_NRMSE.get(type), type + " nrmse " + nrmse + " > " + MAX_NRMSE.get(type));
        if (type != GgmlType.F32) {
            assertTrue(nrmse > 0, type + " must lose something on random data");
        }
    }

    @Test
    void q8_0ErrorIsAtMostHalfAStepPerValue() {
        float[] x = Signals.mixed(11, 4096, false);
        float[] y = roundTrip(GgmlType.Q8_0, x);
        for (int b = 0; b < 4096 / 32; b++) {
            float amax = 0;
            for (int j = 0; j < 32; j++) {
                amax = Math.max(amax, Math.abs(x[32 * b + j]));
            }
            float d = HalfFloat.roundToF16(amax / 127);
            for (int j = 0; j < 32; j++) {
                int i = 32 * b + j;
                // half a step, plus the step's own fp16 rounding times the level (<= 127 * d * 2^-11)
                float bound = 0.5f * d + 127 * d * 0x1p-11f + 1e-30f;
                assertTrue(Math.abs(y[i] - x[i]) <= bound, "block " + b + " elem " + j + ": " + x[i] + " -> " + y[i]);
            }
        }
    }

    @Test
    void zerosStayZeros() {
        float[] x = new float[512];
        for (GgmlType t : Codecs.supported()) {
            float[] y = roundTrip(t, x);
            for (float v : y) {
                assertEquals(0f, Math.abs(v), t.toString());
            }
        }
    }

    @Test
    void requantizingADequantizedQ8_0BlockIsStable() {
        // a dequantized block is on the grid, so quantizing it again must give the same bytes
        float[] x = Signals.gaussian(5, 1024);
        QuantCodec c = Codecs.of(GgmlType.Q8_0);
        MemorySegment a = Arena.ofAuto().allocate(GgmlType.Q8_0.bytesFor(1024));
        MemorySegment b = Arena.ofAuto().allocate(GgmlType.Q8_0.bytesFor(1024));
        c.quantize(x, 0, a, 0, 1024);
        float[] y = new float[1024];
        c.dequantize(a, 0, y, 0, 1024);
        c.quantize(y, 0, b, 0, 1024);
        assertEquals(-1, a.mismatch(b));
    }
}
