package dev.trestle.engine.model;

/** Qwen3: Qwen2 plus per-head RMS norms on Q and K before rope. */
public final class Qwen3Model extends DecoderModel {
    @Override
    protected boolean perHeadQkNorm() {
        return true;
    }
}
