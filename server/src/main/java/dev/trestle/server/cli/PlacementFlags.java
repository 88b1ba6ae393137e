package dev.trestle.server.cli;

import dev.trestle.common.TrestleException;
import dev.trestle.scheduler.device.Inventory;
import dev.trestle.scheduler.memory.ByteSize;
import dev.trestle.scheduler.memory.ContextSettings;
import dev.trestle.scheduler.plan.FitMode;
import dev.trestle.scheduler.plan.GpuLayers;
import dev.trestle.scheduler.plan.PlacementRequest;
import dev.trestle.scheduler.plan.SplitMode;
import dev.trestle.scheduler.plan.TensorOverride;
import dev.trestle.scheduler.plan.TensorSplit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Every placement flag, with llama-server's names and meaning (docs/flags.md). Self-contained: mix
 * it into serve, run, bench or plan with {@code @Mixin PlacementFlags placement;}.
 */
public final class PlacementFlags {
    @Option(names = {"-ngl", "--gpu-layers", "--n-gpu-layers"}, paramLabel = "N|auto|all", defaultValue = "auto",
            description = "Repeating layers (from the last) to keep on GPUs; above the layer count the output head too "
                    + "(default: ${DEFAULT-VALUE}, which turns --fit on).")
    String gpuLayers;

    @Option(names = {"-ncmoe", "--n-cpu-moe"}, paramLabel = "N",
            description = "Keep the expert FFN tensors of the first N layers in host RAM.")
    Integer nCpuMoe;

    @Option(names = {"-cmoe", "--cpu-moe"}, description = "Keep the expert FFN tensors of every layer in host RAM.")
    boolean cpuMoe;

    @Option(names = {"-ts", "--tensor-split"}, paramLabel = "A,B,...",
            description = "Proportions per GPU (60,40 == 0.6,0.4 == 3,2); default: proportional to free memory.")
    String tensorSplit;

    @Option(names = {"-sm", "--split-mode"}, paramLabel = "none|layer|row", defaultValue = "layer",
            description = "How to split over GPUs (default: ${DEFAULT-VALUE}).")
    String splitMode;

    @Option(names = {"-mg", "--main-gpu"}, paramLabel = "N", defaultValue = "0",
            description = "GPU for -sm none, and for row-split results and intermediates (default: ${DEFAULT-VALUE}).")
    int mainGpu;

    @Option(names = {"-ot", "--override-tensor"}, paramLabel = "REGEX=BUFFER,...",
            description = "Put tensors whose name matches REGEX in BUFFER (CPU, CUDA0, Vulkan1 ...); applied last, first match wins.")
    List<String> overrideTensor = new ArrayList<>();

    @Option(names = {"-fit", "--fit"}, paramLabel = "on|off",
            description = "Choose -ngl, --n-cpu-moe, -ts (and shrink -c down to --fit-ctx) to fit memory (default: on when -ngl is auto).")
    String fit;

    @Option(names = {"-fitt", "--fit-target"}, paramLabel = "MiB[,MiB...]",
            description = "Memory to leave free on each GPU, in MiB (default: 1024).")
    String fitTarget;

    @Option(names = {"-fitc", "--fit-ctx"}, paramLabel = "N", defaultValue = "4096",
            description = "Smallest context --fit may shrink to (default: ${DEFAULT-VALUE}).")
    int fitCtx;

    @Option(names = "--mlock", description = "Lock host-resident weights in RAM.")
    boolean mlock;

    @Option(names = "--no-mmap", description = "Read host-resident weights into RAM instead of mapping the file.")
    boolean noMmap;

    @Option(names = "--bandwidth", paramLabel = "DEV=RATE,...",
            description = "Memory bandwidth per device for the tokens/s ceiling, e.g. cuda0=448GB/s,cpu=96GB/s.")
    String bandwidth;

    @Mixin
    SimulationFlags simulation = new SimulationFlags();

    /** The inventory to plan with (simulated when --sim-devices/--sim-ram are given). */
    public Inventory inventory() {
        return simulation.inventory();
    }

    /** The request these flags describe, with {@code context} from {@link ContextFlags}. */
    public PlacementRequest toRequest(ContextSettings context) {
        if (nCpuMoe != null && nCpuMoe < 0) {
            throw new TrestleException("--n-cpu-moe " + nCpuMoe + " is negative", "give a layer count, e.g. --n-cpu-moe 20");
        }
        List<TensorOverride> overrides = new ArrayList<>();
        for (String o : overrideTensor) {
            overrides.addAll(TensorOverride.parseList(o));
        }
        long[] margins = new long[0];
        if (fitTarget != null && !fitTarget.isBlank()) {
            String[] parts = fitTarget.split(",");
            margins = new long[parts.length];
            for (int i = 0; i < parts.length; i++) {
                try {
                    margins[i] = Long.parseLong(parts[i].trim());
                } catch (NumberFormatException e) {
                    throw new TrestleException("--fit-target '" + fitTarget + "' is not a list of MiB",
                            "e.g. --fit-target 1024 or --fit-target 512,2048");
                }
            }
        }
        return new PlacementRequest(GpuLayers.parse(gpuLayers), nCpuMoe == null ? -1 : nCpuMoe, cpuMoe,
                TensorSplit.parse(tensorSplit), SplitMode.parse(splitMode), mainGpu, overrides,
                fit == null ? FitMode.UNSET : FitMode.parse(fit), margins, fitCtx, mlock, noMmap,
                bandwidths(bandwidth), context);
    }

    static Map<String, Double> bandwidths(String spec) {
        Map<String, Double> out = new HashMap<>();
        if (spec == null || spec.isBlank()) {
            return out;
        }
        for (String item : spec.split(",")) {
            int eq = item.indexOf('=');
            if (eq <= 0) {
                throw new TrestleException("--bandwidth '" + item + "' is not DEVICE=RATE",
                        "e.g. --bandwidth cuda0=448GB/s,cpu=96GB/s");
            }
            out.put(item.substring(0, eq).trim().toLowerCase(Locale.ROOT),
                    ByteSize.parseBandwidth(item.substring(eq + 1), "--bandwidth"));
        }
        return out;
    }
}
