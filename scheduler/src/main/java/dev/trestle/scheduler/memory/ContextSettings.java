package dev.trestle.scheduler.memory;

import dev.trestle.backends.type.GgmlType;
import dev.trestle.common.TrestleException;
import java.util.EnumSet;
import java.util.Set;

/**
 * The context flags that size the KV cache and compute buffers ({@code -c -np -b -ub -ctk -ctv -fa}).
 *
 * @param nCtx      total context cells over all sequences (0: the model's training context)
 * @param nParallel sequences (server slots)
 * @param nBatch    logical batch
 * @param nUbatch   physical batch: the graph the compute buffers are reserved for
 * @param typeK     K cache type
 * @param typeV     V cache type
 * @param flashAttn flash attention
 */
public record ContextSettings(int nCtx, int nParallel, int nBatch, int nUbatch, GgmlType typeK, GgmlType typeV,
                              FlashAttention flashAttn) {
    /** The cache types llama.cpp accepts for -ctk/-ctv. */
    public static final Set<GgmlType> CACHE_TYPES = EnumSet.of(GgmlType.F32, GgmlType.F16, GgmlType.BF16,
            GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.IQ4_NL, GgmlType.Q5_0, GgmlType.Q5_1);

    public ContextSettings {
        if (nCtx < 0) {
            throw new TrestleException("-c " + nCtx + " is negative", "give a context size, e.g. -c 8192 (0 = the model's)");
        }
        if (nParallel < 1) {
            throw new TrestleException("-np " + nParallel + " must be at least 1", "e.g. -np 4 for four server slots");
        }
        if (nUbatch < 1 || nBatch < 1) {
            throw new TrestleException("-b/-ub must be at least 1", "the defaults are -b 2048 -ub 512");
        }
        checkCacheType(typeK, "-ctk");
        checkCacheType(typeV, "-ctv");
        if (typeV.isQuantized() && flashAttn == FlashAttention.OFF) {
            throw new TrestleException("a quantized V cache (-ctv " + typeV.llamaName() + ") needs flash attention, "
                    + "but -fa is off", "use -fa on (or auto), or -ctv f16");
        }
    }

    /** llama-server's defaults: -c 4096 -np 1 -b 2048 -ub 512, f16 cache, -fa auto. */
    public static ContextSettings defaults() {
        return new ContextSettings(4096, 1, 2048, 512, GgmlType.F16, GgmlType.F16, FlashAttention.AUTO);
    }

    public ContextSettings withCtx(int ctx) {
        return new ContextSettings(ctx, nParallel, nBatch, nUbatch, typeK, typeV, flashAttn);
    }

    public ContextSettings withCacheTypes(GgmlType k, GgmlType v, FlashAttention fa) {
        return new ContextSettings(nCtx, nParallel, nBatch, nUbatch, k, v, fa);
    }

    /** The ubatch actually used: never larger than the batch. */
    public int effectiveUbatch() {
        return Math.min(nUbatch, nBatch);
    }

    private static void checkCacheType(GgmlType t, String flag) {
        if (!CACHE_TYPES.contains(t)) {
            throw new TrestleException(flag + " " + t.llamaName() + " is not a KV cache type",
                    "use one of f32, f16, bf16, q8_0, q4_0, q4_1, iq4_nl, q5_0, q5_1");
        }
    }
}
