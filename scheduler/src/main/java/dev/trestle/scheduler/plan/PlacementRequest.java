package dev.trestle.scheduler.plan;

import dev.trestle.scheduler.memory.ContextSettings;
import java.util.List;
import java.util.Map;

/**
 * Everything the user asked for: the placement flags plus the context flags.
 *
 * @param gpuLayers    -ngl
 * @param nCpuMoe      --n-cpu-moe (-1: not given)
 * @param cpuMoe       --cpu-moe (every layer's experts in host RAM)
 * @param tensorSplit  -ts as given (empty: proportional to free memory, or chosen by --fit)
 * @param splitMode    -sm
 * @param mainGpu      -mg
 * @param overrides    -ot rules, in order
 * @param fit          --fit
 * @param fitTargetMiB --fit-target: margin per GPU in MiB (empty: 1024 each; one value: for all)
 * @param fitCtx       --fit-ctx: the smallest context --fit may shrink to
 * @param mlock        --mlock
 * @param noMmap       --no-mmap
 * @param bandwidths   --bandwidth: bytes/s by device id in lower case ("cuda0", "cpu")
 * @param context      -c -np -b -ub -ctk -ctv -fa
 */
public record PlacementRequest(GpuLayers gpuLayers, int nCpuMoe, boolean cpuMoe, double[] tensorSplit,
                               SplitMode splitMode, int mainGpu, List<TensorOverride> overrides, FitMode fit,
                               long[] fitTargetMiB, int fitCtx, boolean mlock, boolean noMmap,
                               Map<String, Double> bandwidths, ContextSettings context) {
    /** llama.cpp's default --fit-target. */
    public static final long DEFAULT_MARGIN_MIB = 1024;
    /** llama.cpp's default --fit-ctx. */
    public static final int DEFAULT_FIT_CTX = 4096;

    public PlacementRequest {
        tensorSplit = tensorSplit.clone();
        fitTargetMiB = fitTargetMiB.clone();
        overrides = List.copyOf(overrides);
        bandwidths = Map.copyOf(bandwidths);
    }

    /** The defaults of llama-server: -ngl auto (so --fit on), layer split, margin 1024 MiB. */
    public static PlacementRequest defaults(ContextSettings context) {
        return new PlacementRequest(GpuLayers.AUTO, -1, false, new double[0], SplitMode.LAYER, 0, List.of(),
                FitMode.UNSET, new long[0], DEFAULT_FIT_CTX, false, false, Map.of(), context);
    }

    /** Whether --fit runs: explicitly, or by default when -ngl is auto. */
    public boolean fitEnabled() {
        return fit == FitMode.ON || (fit == FitMode.UNSET && gpuLayers.mode() == GpuLayers.Mode.AUTO);
    }

    /** Margin for GPU {@code i} in bytes. */
    public long marginBytes(int i) {
        long mib = fitTargetMiB.length == 0 ? DEFAULT_MARGIN_MIB
                : fitTargetMiB[Math.min(i, fitTargetMiB.length - 1)];
        return mib * 1024 * 1024;
    }

    @Override
    public double[] tensorSplit() {
        return tensorSplit.clone();
    }

    @Override
    public long[] fitTargetMiB() {
        return fitTargetMiB.clone();
    }

    public PlacementRequest withGpuLayers(GpuLayers g) {
        return new PlacementRequest(g, nCpuMoe, cpuMoe, tensorSplit, splitMode, mainGpu, overrides, fit, fitTargetMiB,
                fitCtx, mlock, noMmap, bandwidths, context);
    }

    public PlacementRequest withNCpuMoe(int n) {
        return new PlacementRequest(gpuLayers, n, cpuMoe, tensorSplit, splitMode, mainGpu, overrides, fit, fitTargetMiB,
                fitCtx, mlock, noMmap, bandwidths, context);
    }

    public PlacementRequest withTensorSplit(double[] ts) {
        return new PlacementRequest(gpuLayers, nCpuMoe, cpuMoe, ts, splitMode, mainGpu, overrides, fit, fitTargetMiB,
                fitCtx, mlock, noMmap, bandwidths, context);
    }

    public PlacementRequest withSplitMode(SplitMode sm) {
        return new PlacementRequest(gpuLayers, nCpuMoe, cpuMoe, tensorSplit, sm, mainGpu, overrides, fit, fitTargetMiB,
                fitCtx, mlock, noMmap, bandwidths, context);
    }

    public PlacementRequest withMainGpu(int mg) {
        return new PlacementRequest(gpuLayers, nCpuMoe, cpuMoe, tensorSplit, splitMode, mg, overrides, fit, fitTargetMiB,
                fitCtx, mlock, noMmap, bandwidths, context);
    }

    public PlacementRequest withOverrides(List<TensorOverride> ot) {
        return new PlacementRequest(gpuLayers, nCpuMoe, cpuMoe, tensorSplit, splitMode, mainGpu, ot, fit, fitTargetMiB,
                fitCtx, mlock, noMmap, bandwidths, context);
    }

    public PlacementRequest withFit(FitMode f) {
        return new PlacementRequest(gpuLayers, nCpuMoe, cpuMoe, tensorSplit, splitMode, mainGpu, overrides, f, fitTargetMiB,
                fitCtx, mlock, noMmap, bandwidths, context);
    }

    public PlacementRequest withHostMemory(boolean lock, boolean noMap) {
        return new PlacementRequest(gpuLayers, nCpuMoe, cpuMoe, tensorSplit, splitMode, mainGpu, overrides, fit,
                fitTargetMiB, fitCtx, lock, noMap, bandwidths, context);
    }

    public PlacementRequest withContext(ContextSettings c) {
        return new PlacementRequest(gpuLayers, nCpuMoe, cpuMoe, tensorSplit, splitMode, mainGpu, overrides, fit,
                fitTargetMiB, fitCtx, mlock, noMmap, bandwidths, c);
    }
}
