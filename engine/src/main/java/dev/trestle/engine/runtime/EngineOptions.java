package dev.trestle.engine.runtime;

import dev.trestle.backends.type.GgmlType;

/**
 * Context settings, with llama.cpp's flag names and defaults.
 *
 * @param nCtx      -c: KV cells (0 = the model's training context, as llama.cpp)
 * @param nBatch    -b: logical batch
 * @param nUbatch   -ub: physical micro-batch
 * @param nSeqMax   -np: parallel sequences
 * @param kType     -ctk
 * @param vType     -ctv
 * @param flashAttn -fa
 * @param threads   -t
 */
public record EngineOptions(int nCtx, int nBatch, int nUbatch, int nSeqMax, GgmlType kType, GgmlType vType,
                            FlashAttn flashAttn, int threads) {

    /** llama.cpp's defaults: -c 4096 -b 2048 -ub 512 -np 1 -ctk f16 -ctv f16 -fa auto, all cores. */
    public static EngineOptions defaults() {
        return new EngineOptions(4096, 2048, 512, 1, GgmlType.F16, GgmlType.F16, FlashAttn.AUTO,
                dev.trestle.backends.cpu.CpuThreadPool.defaultThreads());
    }

    public EngineOptions withContext(int n) {
        return new EngineOptions(n, nBatch, nUbatch, nSeqMax, kType, vType, flashAttn, threads);
    }

    public EngineOptions withCacheTypes(GgmlType k, GgmlType v) {
        return new EngineOptions(nCtx, nBatch, nUbatch, nSeqMax, k, v, flashAttn, threads);
    }

    public EngineOptions withFlashAttn(FlashAttn fa) {
        return new EngineOptions(nCtx, nBatch, nUbatch, nSeqMax, kType, vType, fa, threads);
    }

    public EngineOptions withThreads(int t) {
        return new EngineOptions(nCtx, nBatch, nUbatch, nSeqMax, kType, vType, flashAttn, t);
    }

    public EngineOptions withBatch(int b, int ub) {
        return new EngineOptions(nCtx, b, ub, nSeqMax, kType, vType, flashAttn, threads);
    }

    public EngineOptions withSeqMax(int np) {
        return new EngineOptions(nCtx, nBatch, nUbatch, np, kType, vType, flashAttn, threads);
    }
}
