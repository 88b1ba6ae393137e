package dev.trestle.engine.model;

import dev.trestle.backends.cpu.Rope;

/**
 * Gemma 2: like Gemma 3 without q/k norms, with attention and final logit soft-capping, every other layer
 * sliding-window, one rope base for all layers.
 */
public final class Gemma2Model extends Gemma3Model {
    private float attnCap;
    private float finalCap;

    @Override
    public ModelConfig readHParams(Arch arch, dev.trestle.engine.gguf.GgufMetadata m) {
        attnCap = m.getFloat(HParam.ATTN_LOGIT_SOFTCAPPING.key(), 50f);
        finalCap = m.getFloat(HParam.FINAL_LOGIT_SOFTCAPPING.key(), 30f);
        return super.readHParams(arch, m);
    }

    @Override
    protected boolean perHeadQkNorm() {
        return false;
    }

    @Override
    protected int defaultSwaPattern() {
        return 2;
    }

    @Override
    protected int largeModelLayers() {
        return 46;
    }

    @Override
    protected float attnSoftcap() {
        return attnCap;
    }

    @Override
    protected float finalSoftcap() {
        return finalCap;
    }

    @Override
    protected Rope rope(int il) {
        Rope r = super.rope(il);
        return new Rope(r.nDims(), r.neox(), cfg.ropeBase(), r.freqScale(), r.extFactor(), r.attnFactor(),
                r.betaFast(), r.betaSlow(), r.nCtxOrig());
    }
}
