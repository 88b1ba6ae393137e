package dev.trestle.backends.cpu;

/**
 * Rotary position embedding with ggml's arithmetic: per-position theta cache built by repeated float
 * multiplication with {@code theta_scale = freq_base^(-2/n_dims)}, optional per-pair frequency factors
 * (Llama-3 rope_freqs, Phi-3 long/short factors), linear scaling and YaRN ramp mixing.
 *
 * @param nDims      rotated dimensions per head (n_rot); the rest pass through
 * @param neox       true for NEOX ordering (pairs i, i + nDims/2), false for adjacent pairs
 * @param freqBase   rope.freq_base
 * @param freqScale  1 / linear scaling factor
 * @param extFactor  YaRN extrapolation mix (0 = off)
 * @param attnFactor magnitude scale (YaRN attention factor)
 * @param betaFast   YaRN beta_fast
 * @param betaSlow   YaRN beta_slow
 * @param nCtxOrig   original training context (YaRN correction dims)
 */
public record Rope(int nDims, boolean neox, float freqBase, float freqScale, float extFactor, float attnFactor,
                   float betaFast, float betaSlow, int nCtxOrig) {

    /** Fills {@code cache[0..nDims)} with interleaved cos/sin for position {@code pos}. */
    public void cache(int pos, float[] freqFactors, float[] cache) {
        float thetaScale = (float) Math.pow(freqBase, -2.0f / nDims);
        float low = 0f;
        float high = 0f;
        if (extFactor != 0f) {
            low = Math.max(0f, (float) Math.floor(corrDim(betaFast)));
            high = Math.min(nDims - 1, (float) Math.ceil(corrDim(betaSlow)));
        }
        float theta = pos;
        for (int i0 = 0; i0 < nDims; i0 += 2) {
            float ff = freqFactors != null ? freqFactors[i0 / 2] : 1.0f;
            float thetaExtrap = theta / ff;
            float thetaInterp = freqScale * thetaExtrap;
            float th = thetaInterp;
            float mscale = attnFactor;
            if (extFactor != 0f) {
                float y = (i0 / 2 - low) / Math.max(0.001f, high - low);
                float rampMix = (1f - Math.min(1f, Math.max(0f, y))) * extFactor;
                th = thetaInterp * (1 - rampMix) + thetaExtrap * rampMix;
                mscale *= 1.0f + 0.1f * (float) Math.log(1.0f / freqScale);
            }
            cache[i0] = LibmFloat.cosf(th) * mscale;
            cache[i0 + 1] = LibmFloat.sinf(th) * mscale;
            theta *= thetaScale;
        }
    }

    private float corrDim(float nRot) {
        return nDims * (float) Math.log(nCtxOrig / (nRot * 2 * (float) Math.PI)) / (2 * (float) Math.log(freqBase));
    }

    /** Rotates {@code nHead} heads of {@code headDim} floats at {@code x[off..]} with a cache from {@link #cache}. */
    public void apply(float[] x, int off, int nHead, int headDim, float[] cache) {
        int half = nDims / 2;
        for (int h = 0; h < nHead; h++) {
            int base = off + h * headDim;
            for (int i0 = 0; i0 < nDims; i0 += 2) {
                float c = cache[i0];
                float s = cache[i0 + 1];
                int a = neox ? base + i0 / 2 : base + i0;
                int b = neox ? a + half : a + 1;
                float x0 = x[a];
                float x1 = x[b];
                // GCC contracts ggml's x0*c - x1*s into fma(x0, c, -(x1*s)): mirror the single rounding
                x[a] = Math.fma(x0, c, -(x1 * s));
                x[b] = Math.fma(x0, s, x1 * c);
            }
        }
    }
}
