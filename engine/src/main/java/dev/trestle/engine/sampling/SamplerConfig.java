package dev.trestle.engine.sampling;

import java.util.Map;

/**
 * Sampling parameters, with llama-server's defaults. Disabled values are llama.cpp's: top_k <= 0,
 * top_p >= 1, min_p <= 0, typical_p >= 1, repeat_penalty 1, frequency/presence penalty 0,
 * repeat_last_n 0 (-1 means the whole context). A temperature <= 0 means greedy decoding. A seed of
 * -1 (or 0xFFFFFFFF, llama.cpp's LLAMA_DEFAULT_SEED) picks a random seed.
 *
 * @param logitBias token id to bias added to its logit (negative infinity bans the token)
 */
public record SamplerConfig(
        float temperature,
        int topK,
        float topP,
        float minP,
        float typicalP,
        float repeatPenalty,
        int repeatLastN,
        float frequencyPenalty,
        float presencePenalty,
        int minKeep,
        long seed,
        Map<Integer, Float> logitBias) {

    /** llama.cpp's "no seed given" value. */
    public static final long DEFAULT_SEED = -1;

    public SamplerConfig {
        logitBias = logitBias == null ? Map.of() : Map.copyOf(logitBias);
        if (minKeep < 0) {
            throw new IllegalArgumentException("min_keep must be >= 0, got " + minKeep);
        }
        if (repeatLastN < -1) {
            throw new IllegalArgumentException("repeat_last_n must be >= -1, got " + repeatLastN);
        }
    }

    /** llama-server's defaults: temp 0.8, top_k 40, top_p 0.95, min_p 0.05, repeat_last_n 64, random seed. */
    public static SamplerConfig defaults() {
        return new SamplerConfig(0.8f, 40, 0.95f, 0.05f, 1.0f, 1.0f, 64, 0.0f, 0.0f, 0, DEFAULT_SEED, Map.of());
    }

    /** Greedy decoding (temperature 0) with the other defaults. */
    public static SamplerConfig greedy() {
        return defaults().withTemperature(0f);
    }

    /** True when this config decodes greedily. */
    public boolean isGreedy() {
        return temperature <= 0f;
    }

    public SamplerConfig withTemperature(float v) {
        return new SamplerConfig(v, topK, topP, minP, typicalP, repeatPenalty, repeatLastN, frequencyPenalty,
                presencePenalty, minKeep, seed, logitBias);
    }

    public SamplerConfig withTopK(int v) {
        return new SamplerConfig(temperature, v, topP, minP, typicalP, repeatPenalty, repeatLastN,
                frequencyPenalty, presencePenalty, minKeep, seed, logitBias);
    }

    public SamplerConfig withTopP(float v) {
        return new SamplerConfig(temperature, topK, v, minP, typicalP, repeatPenalty, repeatLastN,
                frequencyPenalty, presencePenalty, minKeep, seed, logitBias);
    }

    public SamplerConfig withMinP(float v) {
        return new SamplerConfig(temperature, topK, topP, v, typicalP, repeatPenalty, repeatLastN,
                frequencyPenalty, presencePenalty, minKeep, seed, logitBias);
    }

    public SamplerConfig withTypicalP(float v) {
        return new SamplerConfig(temperature, topK, topP, minP, v, repeatPenalty, repeatLastN,
                frequencyPenalty, presencePenalty, minKeep, seed, logitBias);
    }

    /** Repetition penalties over the last {@code lastN} accepted tokens. */
    public SamplerConfig withPenalties(int lastN, float repeat, float frequency, float presence) {
        return new SamplerConfig(temperature, topK, topP, minP, typicalP, repeat, lastN, frequency, presence,
                minKeep, seed, logitBias);
    }

    public SamplerConfig withMinKeep(int v) {
        return new SamplerConfig(temperature, topK, topP, minP, typicalP, repeatPenalty, repeatLastN,
                frequencyPenalty, presencePenalty, v, seed, logitBias);
    }

    public SamplerConfig withSeed(long v) {
        return new SamplerConfig(temperature, topK, topP, minP, typicalP, repeatPenalty, repeatLastN,
                frequencyPenalty, presencePenalty, minKeep, v, logitBias);
    }

    public SamplerConfig withLogitBias(Map<Integer, Float> v) {
        return new SamplerConfig(temperature, topK, topP, minP, typicalP, repeatPenalty, repeatLastN,
                frequencyPenalty, presencePenalty, minKeep, seed, v);
    }
}
