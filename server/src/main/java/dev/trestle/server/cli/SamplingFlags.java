package dev.trestle.server.cli;

import dev.trestle.engine.sampling.SamplerConfig;
import java.util.Map;
import picocli.CommandLine.Option;

/** llama.cpp's sampling flags (the server's per-request defaults; run's sampler), with its defaults. */
public final class SamplingFlags {
    @Option(names = "--temp", paramLabel = "T", defaultValue = "0.8", description = "Temperature; 0 = greedy (default: ${DEFAULT-VALUE}).")
    float temp;

    @Option(names = "--top-k", paramLabel = "N", defaultValue = "40", description = "Top-k sampling; 0 = off (default: ${DEFAULT-VALUE}).")
    int topK;

    @Option(names = "--top-p", paramLabel = "P", defaultValue = "0.95", description = "Top-p sampling; 1.0 = off (default: ${DEFAULT-VALUE}).")
    float topP;

    @Option(names = "--min-p", paramLabel = "P", defaultValue = "0.05", description = "Min-p sampling; 0.0 = off (default: ${DEFAULT-VALUE}).")
    float minP;

    @Option(names = "--typical", paramLabel = "P", defaultValue = "1.0", description = "Locally typical sampling; 1.0 = off (default: ${DEFAULT-VALUE}).")
    float typicalP;

    @Option(names = "--repeat-penalty", paramLabel = "X", defaultValue = "1.0", description = "Repetition penalty; 1.0 = off (default: ${DEFAULT-VALUE}).")
    float repeatPenalty;

    @Option(names = "--repeat-last-n", paramLabel = "N", defaultValue = "64", description = "Tokens the penalties look back; -1 = context (default: ${DEFAULT-VALUE}).")
    int repeatLastN;

    @Option(names = "--presence-penalty", paramLabel = "X", defaultValue = "0.0", description = "Presence penalty; 0 = off (default: ${DEFAULT-VALUE}).")
    float presencePenalty;

    @Option(names = "--frequency-penalty", paramLabel = "X", defaultValue = "0.0", description = "Frequency penalty; 0 = off (default: ${DEFAULT-VALUE}).")
    float frequencyPenalty;

    @Option(names = {"-s", "--seed"}, paramLabel = "N", defaultValue = "-1", description = "RNG seed; -1 = random (default: ${DEFAULT-VALUE}).")
    long seed;

    /** The sampler configuration these flags describe. */
    public SamplerConfig toConfig() {
        return new SamplerConfig(temp, topK, topP, minP, typicalP, repeatPenalty, repeatLastN, frequencyPenalty,
                presencePenalty, 0, seed, Map.of());
    }
}
