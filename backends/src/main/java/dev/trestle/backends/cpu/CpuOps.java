package dev.trestle.backends.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Element-wise and row ops of the CPU backend with ggml's arithmetic (sums of squares in double, expf,
 * F16-table GELU). Rows are small next to the matmuls, so these stay single-threaded and mostly scalar; swiglu,
 * the largest (the FFN width per token), runs its SIMD part in vectors with the scalar arithmetic lane by lane.
 */
public final class CpuOps {
    private static final float SQRT_2_OVER_PI = 0.79788456080286535587989211986876f;
    private static final float GELU_COEF_A = 0.044715f;

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

    private CpuOps() {
    }

    /** RMSNorm in place over {@code n} elements: x * 1/sqrt(mean(x^2) + eps), then times {@code w} if given. */
    public static void rmsNorm(float[] x, int off, int n, float eps, float[] w) {
        double sum = 0;
        for (int i = 0; i < n; i++) {
            float v = x[off + i];
            sum += v * v;
        }
        float mean = (float) (sum / n);
        float scale = 1.0f / (float) Math.sqrt(mean + eps);
        for (int i = 0; i < n; i++) {
            x[off + i] *= scale;
        }
        if (w != null) {
            for (int i = 0; i < n; i++) {
                x[off + i] *= w[i];
            }
        }
    }

    /** LayerNorm in place: (x - mean) / sqrt(var + eps), then times {@code w} and plus {@code b} if given. */
    public static void layerNorm(float[] x, int off, int n, float eps, float[] w, float[] b) {
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += x[off + i];
        }
        float mean = (float) (sum / n);
        double sum2 = 0;
        for (int i = 0; i < n; i++) {
            float v = x[off + i] - mean;
            x[off + i] = v;
            sum2 += v * v;
        }
        float variance = (float) (sum2 / n);
        float scale = 1.0f / (float) Math.sqrt(variance + eps);
        for (int i = 0; i < n; i++) {
            x[off + i] *= scale;
        }
        if (w != null) {
            for (int i = 0; i < n; i++) {
                x[off + i] *= w[i];
            }
        }
        if (b != null) {
            for (int i = 0; i < n; i++) {
                x[off + i] += b[i];
            }
        }
    }

    /** x += y over n elements. */
    public static void add(float[] x, int xOff, float[] y, int yOff, int n) {
        for (int i = 0; i < n; i++) {
            x[xOff + i] += y[yOff + i];
        }
    }

    /** x *= y over n elements. */
    public static void mul(float[] x, int xOff, float[] y, int yOff, int n) {
        for (int i = 0; i < n; i++) {
            x[xOff + i] *= y[yOff + i];
        }
    }

    /** x *= s over n elements. */
    public static void scale(float[] x, int off, int n, float s) {
        for (int i = 0; i < n; i++) {
            x[off + i] *= s;
        }
    }

    /** x / (1 + expf(-x)) with a correctly rounded expf (ggml_silu_f32, used for row tails). */
    public static float silu(float x) {
        return x / (1.0f + LibmFloat.expf(-x));
    }

    /**
     * ggml's vectorized expf (ggml_v_expf, after ARM's optimized routine; max error 1.45 ulp): round x/ln2 to
     * n, reduce, a degree-5 polynomial, scale by 2^n. ggml's SIMD SiLU and softmax use it for all but the
     * row tails, so mirroring it keeps F16 activations rounding the same way as llama.cpp.
     */
    public static float expApprox(float x) {
        float z = Math.fma(x, 0x1.715476p+0f, 0x1.8p23f);
        float n = z - 0x1.8p23f;
        if (Math.abs(n) > 126f) {
            return (float) Math.exp(x); // outside the fast path's range ggml special-cases overflow/underflow
        }
        float b = Math.fma(-n, 0x1.7f7d1cp-20f, Math.fma(-n, 0x1.62e4p-1f, x));
        float u = b * b;
        float j = Math.fma(Math.fma(Math.fma(0x1.0e4020p-7f, b, 0x1.573e2ep-5f), u, Math.fma(0x1.555e66p-3f, b, 0x1.fffdb6p-2f)),
                u, Math.fma(0x1.ffffecp-1f, b, 1.0f));
        return Math.scalb(j, (int) n);
    }

    /** SiLU with {@link #expApprox} (ggml_v_silu). */
    public static float siluApprox(float x) {
        return x / (1.0f + expApprox(-x));
    }

    /**
     * One row of swiglu as ggml's CPU backend computes it: the SIMD part (whole vectors of 16 lanes) with the
     * approximate exp, the tail with expf. {@code gate[i] = silu(gate[i]) * up[i]}.
     */
    public static void swigluRow(float[] gate, int gOff, float[] up, int uOff, int n) {
        int simd = n - n % 16;
        int lanes = F.length();
        int i = 0;
        if (16 % lanes == 0) {
            for (; i < simd; i += lanes) {
                swigluVector(gate, gOff + i, up, uOff + i);
            }
        }
        for (; i < simd; i++) {
            gate[gOff + i] = siluApprox(gate[gOff + i]) * up[uOff + i];
        }
        for (; i < n; i++) {
            gate[gOff + i] = silu(gate[gOff + i]) * up[uOff + i];
        }
    }

    /**
     * {@link #siluApprox} times {@code up} for one vector of lanes, the same operations lane by lane (each fma an
     * fma, {@code scalb} a multiply by the power of two, exact for {@code |n| <= 126}); a vector with a lane
     * outside that range (|x| above about 87) takes the scalar path, which calls {@code Math.exp} there.
     */
    private static void swigluVector(float[] gate, int g, float[] up, int u) {
        FloatVector x = FloatVector.fromArray(F, gate, g);
        FloatVector mx = x.neg();
        FloatVector n = mx.fma(0x1.715476p+0f, 0x1.8p23f).sub(0x1.8p23f);
        if (n.abs().compare(VectorOperators.GT, 126f).anyTrue()) {
            for (int i = 0; i < F.length(); i++) {
                gate[g + i] = siluApprox(gate[g + i]) * up[u + i];
            }
            return;
        }
        FloatVector nn = n.neg();
        FloatVector b = nn.fma(FloatVector.broadcast(F, 0x1.7f7d1cp-20f),
                nn.fma(FloatVector.broadcast(F, 0x1.62e4p-1f), mx));
        FloatVector v = b.mul(b);
        FloatVector j = b.fma(0x1.0e4020p-7f, 0x1.573e2ep-5f).fma(v, b.fma(0x1.555e66p-3f, 0x1.fffdb6p-2f))
                .fma(v, b.fma(0x1.ffffecp-1f, 1.0f));
        FloatVector pow2 = ((IntVector) n.convert(VectorOperators.F2I, 0)).add(127).lanewise(VectorOperators.LSHL, 23)
                .reinterpretAsFloats();
        FloatVector e = j.mul(pow2);
        x.div(e.add(1.0f)).mul(FloatVector.fromArray(F, up, u)).intoArray(gate, g);
    }

    /** GELU (tanh approximation) in float, as ggml_gelu_f32. */
    public static float geluExact(float x) {
        return 0.5f * x * (1.0f + (float) Math.tanh(SQRT_2_OVER_PI * x * (1.0f + GELU_COEF_A * x * x)));
    }

    /**
     * GELU as ggml's CPU backend computes it: 0 below -10, identity above 10, otherwise a lookup by the
     * F16-rounded input into an F16 table of {@link #geluExact}.
     */
    public static float gelu(float x) {
        if (x <= -10f) {
            return 0f;
        }
        if (x >= 10f) {
            return x;
        }
        return Half.round(geluExact(Half.round(x)));
    }

    /** gate[i] = silu(gate[i]) * up[i]. */
    public static void swiglu(float[] gate, int gOff, float[] up, int uOff, int n) {
        for (int i = 0; i < n; i++) {
            gate[gOff + i] = silu(gate[gOff + i]) * up[uOff + i];
        }
    }

    /** gate[i] = gelu(gate[i]) * up[i]. */
    public static void geglu(float[] gate, int gOff, float[] up, int uOff, int n) {
        for (int i = 0; i < n; i++) {
            gate[gOff + i] = gelu(gate[gOff + i]) * up[uOff + i];
        }
    }

    /** Softmax in place: expf(x - max), double sum, then times 1/sum. */
    public static void softmax(float[] x, int off, int n) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, x[off + i]);
        }
        double sum = 0;
        for (int i = 0; i < n; i++) {
            float e = LibmFloat.expf(x[off + i] - max);
            x[off + i] = e;
            sum += e;
        }
        float inv = (float) (1.0 / sum);
        for (int i = 0; i < n; i++) {
            x[off + i] *= inv;
        }
    }

    /** cap * tanh(x / cap) in place (logit soft-capping). */
    public static void softcap(float[] x, int off, int n, float cap) {
        for (int i = 0; i < n; i++) {
            x[off + i] = cap * (float) Math.tanh(x[off + i] / cap);
        }
    }

    /**
     * Indices of the {@code k} largest values of {@code x[off..off+n)}, largest first (ties: lower index
     * first), written to {@code idx}.
     */
    public static void topK(float[] x, int off, int n, int k, int[] idx, int idxOff) {
        for (int j = 0; j < k; j++) {
            int best = -1;
            for (int i = 0; i < n; i++) {
                boolean taken = false;
                for (int p = 0; p < j; p++) {
                    if (idx[idxOff + p] == i) {
                        taken = true;
                        break;
                    }
                }
                if (!taken && (best < 0 || x[off + i] > x[off + best])) {
                    best = i;
                }
            }
            idx[idxOff + j] = best;
        }
    }
}
