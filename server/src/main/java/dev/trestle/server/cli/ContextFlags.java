package dev.trestle.server.cli;

import dev.trestle.backends.type.GgmlType;
import dev.trestle.common.TrestleException;
import dev.trestle.scheduler.memory.ContextSettings;
import dev.trestle.scheduler.memory.FlashAttention;
import picocli.CommandLine.Option;

/**
 * The context and cache flags shared by serve, run, bench and plan, with llama-server's names and
 * defaults. Self-contained: mix it into any command with {@code @Mixin ContextFlags context;}.
 */
public final class ContextFlags {
    @Option(names = {"-c", "--ctx-size"}, paramLabel = "N", defaultValue = "4096",
            description = "Context size in tokens, over all slots (default: ${DEFAULT-VALUE}; 0 = the model's training context).")
    int ctxSize;

    @Option(names = {"-np", "--parallel"}, paramLabel = "N", defaultValue = "1",
            description = "Number of parallel sequences (server slots) (default: ${DEFAULT-VALUE}).")
    int parallel;

    @Option(names = {"-b", "--batch-size"}, paramLabel = "N", defaultValue = "2048",
            description = "Logical batch size (default: ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = {"-ub", "--ubatch-size"}, paramLabel = "N", defaultValue = "512",
            description = "Physical batch size; sizes the compute buffers (default: ${DEFAULT-VALUE}).")
    int ubatchSize;

    @Option(names = {"-ctk", "--cache-type-k"}, paramLabel = "TYPE", defaultValue = "f16",
            description = "K cache type: f32, f16, bf16, q8_0, q4_0, q4_1, iq4_nl, q5_0, q5_1 (default: ${DEFAULT-VALUE}).")
    String cacheTypeK;

    @Option(names = {"-ctv", "--cache-type-v"}, paramLabel = "TYPE", defaultValue = "f16",
            description = "V cache type, same choices; quantized types need flash attention (default: ${DEFAULT-VALUE}).")
    String cacheTypeV;

    @Option(names = {"-fa", "--flash-attn"}, paramLabel = "on|off|auto", defaultValue = "auto", arity = "0..1",
            fallbackValue = "on", description = "Flash attention (default: ${DEFAULT-VALUE}; a bare -fa means on).")
    String flashAttn;

    /** The settings these flags describe; a bad value throws a TrestleException naming the flag. */
    public ContextSettings toSettings() {
        FlashAttention fa;
        try {
            fa = FlashAttention.parse(flashAttn);
        } catch (IllegalArgumentException e) {
            throw new TrestleException("-fa: " + e.getMessage(), "use -fa on, -fa off or -fa auto");
        }
        return new ContextSettings(ctxSize, parallel, batchSize, ubatchSize, cacheType(cacheTypeK, "-ctk"),
                cacheType(cacheTypeV, "-ctv"), fa);
    }

    private static GgmlType cacheType(String name, String flag) {
        try {
            return GgmlType.fromName(name.trim());
        } catch (IllegalArgumentException e) {
            throw new TrestleException(flag + " " + name + " is not a cache type",
                    "use one of f32, f16, bf16, q8_0, q4_0, q4_1, iq4_nl, q5_0, q5_1");
        }
    }
}
