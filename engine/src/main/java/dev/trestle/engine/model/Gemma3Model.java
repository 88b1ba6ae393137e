package dev.trestle.engine.model;

import dev.trestle.backends.cpu.Rope;

/**
 * Gemma 3: embeddings times sqrt(n_embd), per-head q/k norms, sandwich norms, GELU-gated FFN, Q pre-scaled by
 * 1/sqrt(head_dim), sliding-window layers (every {@code sliding_window_pattern}-th layer is global) with their
 * own rope base, tied output.
 */
public class Gemma3Model extends DecoderModel {
    @Override
    protected float embeddingScale() {
        return (float) Math.sqrt(cfg.nEmbd());
    }

    @Override
    protected boolean perHeadQkNorm() {
        return true;
    }

    @Override
    protected boolean sandwichNorms() {
        return true;
    }

    @Override
    protected FfnKind ffnKind() {
        return FfnKind.GEGLU;
    }

    /** 1/sqrt(head_dim), except the 27B models, which scale by 1/sqrt(n_embd / n_head) as llama.cpp does. */
    @Override
    protected float queryPreScale() {
        boolean is27b = cfg.nLayer() == largeModelLayers();
        return (float) (1.0 / Math.sqrt(is27b ? (float) (cfg.nEmbd() / cfg.nHead()) : cfg.headDim()));
    }

    /** Block count of the 27B model (62 for Gemma 3, 46 for Gemma 2). */
    protected int largeModelLayers() {
        return 62;
    }

    @Override
    protected int defaultSwaPattern() {
        return 6;
    }

    /** Sliding-window layers keep unscaled rope (rope scaling applies to the global layers only). */
    @Override
    protected Rope rope(int il) {
        Rope r = super.rope(il);
        if (!isSwaLayer(il)) {
            return r;
        }
        return new Rope(r.nDims(), r.neox(), r.freqBase(), 1f, r.extFactor(), r.attnFactor(),
                r.betaFast(), r.betaSlow(), r.nCtxOrig());
    }

    @Override
    protected boolean isSwaLayer(int il) {
        int p = cfg.swaPattern();
        return cfg.nSwa() > 0 && (p == 0 || il % p < p - 1);
    }
}
