package dev.trestle.engine.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.trestle.engine.plan.GgufProfiles;
import dev.trestle.scheduler.device.DeviceKind;
import dev.trestle.scheduler.device.Inventory;
import dev.trestle.scheduler.memory.ContextSettings;
import dev.trestle.scheduler.plan.FitMode;
import dev.trestle.scheduler.plan.GpuLayers;
import dev.trestle.scheduler.plan.PlacementRequest;
import dev.trestle.scheduler.plan.Planner;
import dev.trestle.scheduler.profile.ModelProfile;
import dev.trestle.testdata.SharedData;
import org.junit.jupiter.api.Test;

/** The planner's homes become the engine's offload: per-layer GPU, its backend, and experts kept in RAM. */
class OffloadTest {
    private static final PlacementRequest REQ = PlacementRequest.defaults(ContextSettings.defaults()).withFit(FitMode.OFF);

    private static ModelProfile qwen3moe() {
        return GgufProfiles.of(SharedData.root().resolve("models/archs/qwen3moe-moe-rescaled-f16.gguf"));
    }

    @Test
    void cudaPlanWithCpuMoeKeepsTheFirstLayersExpertsOnTheCpu() {
        ModelProfile m = qwen3moe();
        Inventory inv = Inventory.simulated("cuda:H200:141GiB", 64L << 30);
        Offload o = Offload.fromPlan(Planner.plan(m, inv, REQ.withGpuLayers(GpuLayers.ALL).withNCpuMoe(1)), m.nLayer());
        assertArrayEquals(new DeviceKind[] {DeviceKind.CUDA}, o.kinds());
        assertFalse(o.isCpuOnly());
        for (int il = 0; il < m.nLayer(); il++) {
            assertEquals(0, o.device(il), "layer " + il);
            assertEquals(il < 1, o.cpuExperts(il), "experts of layer " + il);
        }
        Offload all = Offload.fromPlan(Planner.plan(m, inv, REQ.withGpuLayers(GpuLayers.ALL)), m.nLayer());
        for (int il = 0; il < m.nLayer(); il++) {
            assertFalse(all.cpuExperts(il), "experts of layer " + il);
        }
    }

    @Test
    void splitOverTwoGpusMapsEachToItsBackendIndex() {
        ModelProfile m = qwen3moe();
        Inventory inv = Inventory.simulated("cuda:A:24GiB,cuda:B:24GiB", 64L << 30);
        Offload o = Offload.fromPlan(Planner.plan(m, inv, REQ.withGpuLayers(GpuLayers.ALL)
                .withTensorSplit(new double[] {60, 40})), m.nLayer());
        assertArrayEquals(new int[] {0, 1}, o.vulkanDevices());
        assertEquals(0, o.device(0));
        assertEquals(1, o.device(m.nLayer() - 1));
        Offload vk = Offload.layers(4, 2, new int[] {0}, null);
        assertArrayEquals(new DeviceKind[] {DeviceKind.VULKAN}, vk.kinds());
        assertArrayEquals(new DeviceKind[] {DeviceKind.CUDA}, vk.on(DeviceKind.CUDA).kinds());
        Offload moe = Offload.layers(4, 99, new int[] {0}, null, 2).on(DeviceKind.CUDA);
        assertTrue(moe.cpuExperts(1) && !moe.cpuExperts(2));
        assertEquals(0, moe.outputDevice());
    }
}
