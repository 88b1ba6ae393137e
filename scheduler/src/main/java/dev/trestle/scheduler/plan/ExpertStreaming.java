package dev.trestle.scheduler.plan;

import dev.trestle.scheduler.profile.TensorProfile;
import dev.trestle.scheduler.profile.TensorRole;
import java.util.List;

/**
 * The cost model behind {@code --n-cpu-moe} prefill: for a micro-batch of {@code t} tokens, is it faster to run a
 * layer's host-resident experts on the CPU, or to copy the layer's expert tensors to the GPU (pinned, async) and
 * run them there? The CPU reads each expert the batch touches once and does every multiply-add itself; streaming
 * moves every expert over the bus once and the GPU's matvec reads an expert once per (token, slot) pair. CPU time
 * grows with the batch, streaming's is mostly the fixed copy, so there is a break-even batch size from which
 * streaming wins ({@link #fromTokens}).
 *
 * @param expertBytes    bytes of one expert (its gate, up and down matrices)
 * @param expertParams   weights of one expert (multiply-adds per token and slot)
 * @param nExpert        experts in the layer
 * @param nUsed          experts per token
 * @param cpuBytesPerSec host memory bandwidth
 * @param cpuFlops       CPU multiply-add throughput (2 flops each), all threads
 * @param busBytesPerSec host to GPU copy bandwidth (PCIe)
 * @param gpuBytesPerSec GPU memory bandwidth
 */
public record ExpertStreaming(long expertBytes, long expertParams, int nExpert, int nUsed, double cpuBytesPerSec,
                              double cpuFlops, double busBytesPerSec, double gpuBytesPerSec) {
    /** PCIe 4.0 x16 as it measures in practice; {@code --bandwidth pcie=...} overrides it. */
    public static final double BUS_ASSUMED = 25e9;
    /** Quantized dot products per hardware thread (AVX2-class int8 FMA), an assumption of the model. */
    public static final double CPU_FLOPS_PER_THREAD = 20e9;
    /** Batches above this never need a decision (the largest -ub llama.cpp accepts by default is 512). */
    public static final int MAX_TOKENS = 1 << 16;

    /** The model for one layer's expert tensors ({@link TensorRole#FFN_EXPERT}, 3-D: cols x rows x experts). */
    public static ExpertStreaming forLayer(List<TensorProfile> layerTensors, int nUsed, double cpuBytesPerSec,
                                           double cpuFlops, double busBytesPerSec, double gpuBytesPerSec) {
        long bytes = 0;
        long params = 0;
        int experts = 0;
        for (TensorProfile t : layerTensors) {
            if (t.role() == TensorRole.FFN_EXPERT && t.rank() == 3) {
                experts = (int) t.dim(2);
                bytes += t.bytes() / experts;
                params += t.dim(0) * t.dim(1);
            }
        }
        return new ExpertStreaming(bytes, params, experts, nUsed, cpuBytesPerSec, cpuFlops, busBytesPerSec,
                gpuBytesPerSec);
    }

    /** Expected distinct experts a batch of {@code t} tokens routes to (uniform routing). */
    public double touched(int t) {
        if (nExpert == 0) {
            return 0;
        }
        return nExpert * (1 - Math.pow(1 - (double) nUsed / nExpert, t));
    }

    /** Seconds for the CPU: the slower of reading the touched experts and doing the multiply-adds. */
    public double cpuSeconds(int t) {
        double read = touched(t) * expertBytes / cpuBytesPerSec;
        double compute = 2.0 * t * nUsed * expertParams / cpuFlops;
        return Math.max(read, compute);
    }

    /** Seconds for streaming: every expert over the bus, then one expert read per (token, slot) on the GPU. */
    public double streamSeconds(int t) {
        return (double) nExpert * expertBytes / busBytesPerSec + (double) t * nUsed * expertBytes / gpuBytesPerSec;
    }

    /** True when streaming a batch of {@code t} tokens is faster. */
    public boolean streams(int t) {
        return nExpert > 0 && streamSeconds(t) < cpuSeconds(t);
    }

    /** The smallest batch (up to {@link #MAX_TOKENS}) for which streaming is faster, or {@link Integer#MAX_VALUE}. */
    public int fromTokens() {
        if (nExpert == 0) {
            return Integer.MAX_VALUE;
        }
        for (int t = 1; t <= MAX_TOKENS; t++) {
            if (streams(t)) {
                return t;
            }
        }
        return Integer.MAX_VALUE;
    }
}
