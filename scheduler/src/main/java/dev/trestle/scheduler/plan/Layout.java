package dev.trestle.scheduler.plan;

import dev.trestle.scheduler.memory.ContextSettings;

/**
 * The concrete knobs of one candidate placement (what --fit searches over).
 *
 * @param gpuLayers resolved -ngl (0..n_layer+1)
 * @param nCpuMoe   layers, from the first, whose experts stay in host RAM
 * @param split     GPU proportions summing to 1, one per GPU
 * @param context   context settings with a concrete n_ctx
 */
public record Layout(int gpuLayers, int nCpuMoe, double[] split, ContextSettings context) {
    public Layout {
        split = split.clone();
    }

    @Override
    public double[] split() {
        return split.clone();
    }

    public Layout withGpuLayers(int n) {
        return new Layout(n, nCpuMoe, split, context);
    }

    public Layout withNCpuMoe(int n) {
        return new Layout(gpuLayers, n, split, context);
    }

    public Layout withContext(ContextSettings c) {
        return new Layout(gpuLayers, nCpuMoe, split, c);
    }
}
