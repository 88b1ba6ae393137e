package dev.trestle.engine.model;

import dev.trestle.backends.cpu.CpuThreadPool;

/**
 * Per-context settings the forward pass needs.
 *
 * @param pool        worker threads
 * @param flashAttn   flash (online-softmax) attention path
 * @param nCtxPerSeq  context per sequence (picks Phi-3 long/short rope factors)
 */
public record RunSettings(CpuThreadPool pool, boolean flashAttn, int nCtxPerSeq) {
}
