package dev.trestle.engine.model;

/**
 * Hyperparameters of a loaded model, read from GGUF metadata (immutable).
 *
 * @param arch           architecture
 * @param nVocab         vocabulary size (rows of token_embd)
 * @param nCtxTrain      training context length
 * @param nEmbd          hidden size
 * @param nLayer         blocks
 * @param nHead          query heads
 * @param nHeadKv        key/value heads
 * @param headDim        head size (key_length)
 * @param nFf            dense FFN hidden size
 * @param nRot           rotated dims per head
 * @param rmsEps         RMSNorm epsilon
 * @param ropeBase       rope.freq_base
 * @param ropeBaseSwa    rope.freq_base_swa (sliding-window layers)
 * @param ropeFreqScale  1 / linear rope scaling factor
 * @param yarn           true when rope.scaling.type is yarn
 * @param ropeAttnFactor rope.scaling.attn_factor
 * @param yarnBetaFast   YaRN beta_fast
 * @param yarnBetaSlow   YaRN beta_slow
 * @param nCtxOrig       rope.scaling.original_context_length (or nCtxTrain)
 * @param nExpert        experts (0 = dense)
 * @param nExpertUsed    experts per token
 * @param nFfExp         expert FFN hidden size
 * @param nFfShexp       shared expert FFN hidden size
 * @param expertWeightsScale scale on routing weights (0 or 1 = none)
 * @param nSwa           sliding window (0 = none)
 * @param swaPattern     every swaPattern-th layer is global
 * @param attnSoftcap    attention logit soft-cap (0 = off)
 * @param finalSoftcap   final logit soft-cap (0 = off)
 * @param poolingType    llama.cpp pooling type (-1 unspecified, 0 none, 1 mean, 2 cls, 3 last)
 */
public record ModelConfig(Arch arch, int nVocab, int nCtxTrain, int nEmbd, int nLayer, int nHead, int nHeadKv,
                          int headDim, int nFf, int nRot, float rmsEps, float ropeBase, float ropeBaseSwa,
                          float ropeFreqScale, boolean yarn, float ropeAttnFactor, float yarnBetaFast,
                          float yarnBetaSlow, int nCtxOrig, int nExpert, int nExpertUsed, int nFfExp, int nFfShexp,
                          float expertWeightsScale, int nSwa, int swaPattern, float attnSoftcap, float finalSoftcap,
                          int poolingType) {

    /** K/V row width per token: n_head_kv * head_dim. */
    public int kvDim() {
        return nHeadKv * headDim;
    }

    /** Q row width per token: n_head * head_dim. */
    public int qDim() {
        return nHead * headDim;
    }

    /** True for mixture-of-experts FFNs. */
    public boolean isMoe() {
        return nExpert > 0;
    }
}
