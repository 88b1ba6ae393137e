package dev.trestle.engine.model;

/**
 * Phi-3: fused gate/up FFN (ffn_up has 2 x n_ff rows), Q pre-scaled by 1/sqrt(head_dim), and long or short
 * rope factors chosen by the context per sequence against the original training context.
 */
public final class Phi3Model extends DecoderModel {
    private float[] ropeLong;
    private float[] ropeShort;

    @Override
    protected FfnKind ffnKind() {
        return FfnKind.SWIGLU_FUSED_UP;
    }

    @Override
    protected boolean ffnScales() {
        return false;
    }

    @Override
    protected float queryPreScale() {
        return (float) (1.0 / Math.sqrt(cfg.headDim()));
    }

    @Override
    protected float[] loadRopeFactors(WeightLoader l, int il) {
        ropeLong = l.optionalVector(TensorKind.ROPE_FACTORS_LONG, -1, "weight", cfg.nRot() / 2);
        ropeShort = l.optionalVector(TensorKind.ROPE_FACTORS_SHORT, -1, "weight", cfg.nRot() / 2);
        return null;
    }

    @Override
    protected float[] ropeFactors(int il, int nCtxPerSeq) {
        return nCtxPerSeq > cfg.nCtxOrig() ? ropeLong : ropeShort;
    }
}
