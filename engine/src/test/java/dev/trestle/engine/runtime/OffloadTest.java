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
import dev.trestle.common.TrestleException;
import dev.trestle.scheduler.plan.Home;
import dev.trestle.scheduler.plan.Plan;
import dev.trestle.scheduler.plan.Planner;
import dev.trestle.scheduler.plan.RowSlices;
import dev.trestle.scheduler.plan.SplitMode;
import dev.trestle.scheduler.profile.ModelProfile;
import dev.trestle.scheduler.profile.TensorProfile;
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
        // the cost model's break-even batch travels with the plan: an H200 streams experts for prefill, not decode
        int from = o.streamExpertsFrom();
        assertTrue(from > 1 && from < 4096, "streams from " + from);
        Offload all = Offload.fromPlan(Planner.plan(m, inv, REQ.withGpuLayers(GpuLayers.ALL)), m.nLayer());
        assertEquals(Integer.MAX_VALUE, all.streamExpertsFrom(), "no experts in host RAM, nothing to stream");
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

    @Test
    void rowSplitPlanKeepsLayersOnTheMainGpuAndCutsEveryProjectionAsThePlannerBudgets() {
        ModelProfile m = GgufProfiles.of(SharedData.root().resolve("models/quant/llama-dense-rescaled-q4_k_m.gguf"));
        Inventory inv = Inventory.simulated("cuda:A:24GiB,cuda:B:24GiB", 64L << 30);
        Plan p = Planner.plan(m, inv, REQ.withGpuLayers(GpuLayers.ALL).withTensorSplit(new double[] {60, 40})
                .withSplitMode(SplitMode.ROW));
        Offload o = Offload.fromPlan(p, m.nLayer());
        assertTrue(o.isRowSplit());
        assertArrayEquals(new double[] {0.6, 0.4}, o.rowSplit(), 1e-12);
        for (int il = 0; il < m.nLayer(); il++) {
            assertEquals(0, o.device(il), "layer " + il + " (KV, attention, norms) on -mg");
        }
        assertEquals(0, o.outputDevice());
        int split = 0;
        for (TensorProfile t : m.tensors()) {
            long[] share = p.rowShare(t.name());
            if (share == null) {
                continue;
            }
            // the engine cuts the uploaded matrix with the same arithmetic and proportions the plan budgeted
            int[] b = RowSlices.boundaries((int) t.rows(), t.type(), o.rowSplit());
            long rowBytes = t.bytes() / t.rows();
            for (int g = 0; g < 2; g++) {
                assertEquals(share[g], (b[g + 1] - b[g]) * rowBytes, t.name() + " on GPU " + g);
            }
            split++;
        }
        assertTrue(split >= 7 * m.nLayer(), split + " row-split tensors");
        // -mg 1: everything moves to the second GPU, the cut stays in -ts proportions
        Offload o1 = Offload.fromPlan(Planner.plan(m, inv, REQ.withGpuLayers(GpuLayers.ALL)
                .withTensorSplit(new double[] {60, 40}).withSplitMode(SplitMode.ROW).withMainGpu(1)), m.nLayer());
        assertEquals(1, o1.device(0));
        assertArrayEquals(new double[] {0.6, 0.4}, o1.rowSplit(), 1e-12);
        assertEquals(Home.gpu(1), Planner.plan(m, inv, REQ.withGpuLayers(GpuLayers.ALL)
                .withSplitMode(SplitMode.ROW).withMainGpu(1)).home("blk.0.attn_norm.weight"));
    }

    @Test
    void rowSplitIsRefusedForVulkanAndLayerSplitCarriesNoShares() {
        ModelProfile m = qwen3moe();
        Inventory vk = Inventory.simulated("vulkan:A:16GiB,vulkan:B:16GiB", 64L << 30);
        TrestleException e = org.junit.jupiter.api.Assertions.assertThrows(TrestleException.class,
                () -> Planner.plan(m, vk, REQ.withGpuLayers(GpuLayers.ALL).withSplitMode(SplitMode.ROW)));
        assertTrue(e.getMessage().contains("cannot split matrices by rows"), e.getMessage());
        assertTrue(e.fix().contains("-sm layer"), e.fix());
        Offload layer = Offload.fromPlan(Planner.plan(m, Inventory.simulated("cuda:A:24GiB,cuda:B:24GiB", 64L << 30),
                REQ.withGpuLayers(GpuLayers.ALL)), m.nLayer());
        assertFalse(layer.isRowSplit());
        assertEquals(0, layer.rowSplit().length);
        // the engine refuses row shares for a Vulkan device too
        org.junit.jupiter.api.Assertions.assertThrows(TrestleException.class, () -> new Offload(new int[] {0},
                new int[] {0, 1}, new boolean[1], -1, new DeviceKind[] {DeviceKind.VULKAN, DeviceKind.VULKAN},
                new double[] {0.5, 0.5}));
    }

    @Test
    void rowsShorthandPutsLayersOnTheMainGpuWithNormalizedShares() {
        Offload o = Offload.rows(4, 99, new int[] {0, 0}, new double[] {60, 40}, 0);
        assertTrue(o.isRowSplit());
        assertArrayEquals(new double[] {0.6, 0.4}, o.rowSplit(), 1e-12);
        assertArrayEquals(new DeviceKind[] {DeviceKind.CUDA, DeviceKind.CUDA}, o.kinds());
        for (int il = 0; il < 4; il++) {
            assertEquals(0, o.device(il));
        }
        assertEquals(0, o.outputDevice());
        Offload two = Offload.rows(4, 2, new int[] {0, 1}, null, 1);
        assertEquals(-1, two.device(1));
        assertEquals(1, two.device(2));
        assertEquals(-1, two.outputDevice());
        assertArrayEquals(new double[] {0.5, 0.5}, two.rowSplit(), 1e-12);
    }
}
