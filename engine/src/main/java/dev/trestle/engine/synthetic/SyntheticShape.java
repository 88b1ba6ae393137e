package dev.trestle.engine.synthetic;

import dev.trestle.common.TrestleException;
import java.util.Locale;

/**
 * The hyperparameters of a real model family member, enough to write a random-weight model of its exact shape.
 *
 * @param arch         GGUF architecture name ({@code llama}, {@code qwen3moe})
 * @param size         the size label users know ({@code 1B}, {@code 30B-A3B})
 * @param nEmbd        hidden size
 * @param nLayer       repeating blocks
 * @param nHead        query heads
 * @param nHeadKv      key/value heads
 * @param headDim      width of one head
 * @param nFf          dense FFN width (also written for MoE models, as the real files do)
 * @param nVocab       vocabulary rows of token_embd and output
 * @param nExpert      experts per layer (0 = dense)
 * @param nExpertUsed  experts routed per token
 * @param nFfExp       width of one expert's FFN
 * @param nCtxTrain    training context
 * @param ropeBase     RoPE frequency base
 * @param tiedEmbd     true when output reuses token_embd (no output.weight)
 */
public record SyntheticShape(String arch, String size, int nEmbd, int nLayer, int nHead, int nHeadKv, int headDim,
                             int nFf, int nVocab, int nExpert, int nExpertUsed, int nFfExp, int nCtxTrain,
                             float ropeBase, boolean tiedEmbd) {

    /** The shapes {@code --synthetic} knows, by {@code arch:size}. */
    private static final SyntheticShape[] PRESETS = {
        // a few-MiB llama for tests; rows are multiples of 256 so every K-quant applies
        new SyntheticShape("llama", "tiny", 256, 2, 4, 2, 64, 512, 512, 0, 0, 0, 2048, 10000f, false),
        new SyntheticShape("llama", "1B", 2048, 16, 32, 8, 64, 8192, 128256, 0, 0, 0, 131072, 500000f, true),
        new SyntheticShape("llama", "3B", 3072, 28, 24, 8, 128, 8192, 128256, 0, 0, 0, 131072, 500000f, true),
        new SyntheticShape("llama", "8B", 4096, 32, 32, 8, 128, 14336, 128256, 0, 0, 0, 131072, 500000f, false),
        new SyntheticShape("qwen3moe", "tiny", 256, 2, 4, 2, 64, 768, 512, 8, 2, 256, 2048, 1000000f, false),
        new SyntheticShape("qwen3moe", "30B-A3B", 2048, 48, 32, 4, 128, 6144, 151936, 128, 8, 768, 40960, 1000000f,
                false),
    };

    /** The preset {@code arch:size} (case-insensitive), or a TrestleException listing the known ones. */
    public static SyntheticShape preset(String arch, String size) {
        for (SyntheticShape s : PRESETS) {
            if (s.arch.equalsIgnoreCase(arch) && s.size.equalsIgnoreCase(size)) {
                return s;
            }
        }
        StringBuilder known = new StringBuilder();
        for (SyntheticShape s : PRESETS) {
            known.append(known.isEmpty() ? "" : ", ").append(s.arch).append(':').append(s.size);
        }
        throw new TrestleException("no synthetic shape " + arch + ":" + size, "use one of " + known);
    }

    /** This shape with {@code layers} blocks (same per-layer shape). */
    public SyntheticShape withLayers(int layers) {
        return new SyntheticShape(arch, size, nEmbd, layers, nHead, nHeadKv, headDim, nFf, nVocab, nExpert,
                nExpertUsed, nFfExp, nCtxTrain, ropeBase, tiedEmbd);
    }

    /** This shape with {@code experts} experts per layer (top-k capped at that count). */
    public SyntheticShape withExperts(int experts) {
        return new SyntheticShape(arch, size, nEmbd, nLayer, nHead, nHeadKv, headDim, nFf, nVocab, experts,
                Math.min(nExpertUsed, experts), nFfExp, nCtxTrain, ropeBase, tiedEmbd);
    }

    public boolean isMoe() {
        return nExpert > 0;
    }

    /** Width of all query heads together. */
    public int qDim() {
        return nHead * headDim;
    }

    /** Width of all key (or value) heads together. */
    public int kvDim() {
        return nHeadKv * headDim;
    }

    /** Weights in the model (every tensor's element count added up). */
    public long nParams() {
        long emb = (long) nEmbd * nVocab;
        long attn = (long) nEmbd * qDim() * 2 + (long) nEmbd * kvDim() * 2;
        long ffn = isMoe() ? (long) nExpert * 3 * nEmbd * nFfExp + (long) nEmbd * nExpert : 3L * nEmbd * nFf;
        long norms = 2L * nEmbd + (arch.equals("qwen3moe") ? 2L * headDim : 0);
        return emb * (tiedEmbd ? 1 : 2) + nEmbd + nLayer * (attn + ffn + norms);
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "%s:%s (%d layers%s)", arch, size, nLayer,
                isMoe() ? ", " + nExpert + " experts top-" + nExpertUsed : "");
    }
}
