package dev.trestle.server.cli;

import dev.trestle.engine.gguf.GgufFile;
import dev.trestle.engine.runtime.Offload;
import dev.trestle.scheduler.device.Device;
import dev.trestle.scheduler.plan.GpuLayers;
import dev.trestle.scheduler.plan.Plan;

/**
 * Turns the placement flags into the engine's {@link Offload} through the scheduler's plan, so run and serve
 * put layers where {@code trestle plan} says. A software Vulkan device (lavapipe) is used only when
 * {@code -ngl} is given: with {@code -ngl auto} it would make every run slower, never faster.
 */
final class GpuOffload {
    private GpuOffload() {
    }

    static Offload resolve(GgufFile file, PlacementFlags placement, ContextFlags context, int nLayer) {
        if (placement.simulation.simDevices != null) {
            return Offload.none(); // a simulated machine has nothing to run on
        }
        Plan plan = ModelPlanning.plan(file, placement, context);
        boolean auto = GpuLayers.parse(placement.gpuLayers).mode() == GpuLayers.Mode.AUTO;
        boolean anyLayer = false;
        for (int il = 0; il < nLayer; il++) {
            int g = plan.layerGpu(il);
            if (g >= 0) {
                anyLayer = true;
                if (auto && isSoftware(plan.gpu(g))) {
                    return Offload.none();
                }
            }
        }
        return anyLayer ? Offload.fromPlan(plan, nLayer) : Offload.none();
    }

    private static boolean isSoftware(Device d) {
        return d.info() != null && d.info().startsWith("CPU (software)");
    }
}
