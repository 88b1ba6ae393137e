package dev.trestle.scheduler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.trestle.backends.type.GgmlType;
import dev.trestle.common.TrestleException;
import dev.trestle.scheduler.device.Inventory;
import dev.trestle.scheduler.memory.ContextSettings;
import dev.trestle.scheduler.plan.FitMode;
import dev.trestle.scheduler.plan.GpuLayers;
import dev.trestle.scheduler.plan.Home;
import dev.trestle.scheduler.plan.Plan;
import dev.trestle.scheduler.plan.PlacementRequest;
import dev.trestle.scheduler.plan.Planner;
import dev.trestle.scheduler.plan.SplitMode;
import dev.trestle.scheduler.plan.TensorOverride;
import dev.trestle.scheduler.profile.LayerGeometry;
import dev.trestle.scheduler.profile.ModelProfile;
import dev.trestle.scheduler.profile.TensorProfile;
import dev.trestle.scheduler.profile.TensorRole;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** -ngl, --n-cpu-moe, -sm, -mg and -ot on a small hand-built MoE profile (8 layers, 4 experts). */
class PlacementRulesTest {
    static final int N_LAYER = 8;

    static ModelProfile moe() {
        List<TensorProfile> ts = new ArrayList<>();
        ts.add(t("token_embd.weight", TensorRole.TOKEN_EMBD, TensorProfile.INPUT, 512, 1000));
        ts.add(t("output_norm.weight", TensorRole.NORM, TensorProfile.OUTPUT_LAYER, 512));
        ts.add(t("output.weight", TensorRole.OUTPUT, TensorProfile.OUTPUT_LAYER, 512, 1000));
        List<LayerGeometry> layers = new ArrayList<>();
        for (int il = 0; il < N_LAYER; il++) {
            String b = "blk." + il + ".";
            ts.add(t(b + "attn_norm.weight", TensorRole.NORM, il, 512));
            ts.add(t(b + "attn_q.weight", TensorRole.ATTENTION, il, 512, 512));
            ts.add(t(b + "attn_k.weight", TensorRole.ATTENTION, il, 512, 128));
            ts.add(t(b + "attn_v.weight", TensorRole.ATTENTION, il, 512, 128));
            ts.add(t(b + "attn_output.weight", TensorRole.ATTENTION, il, 512, 512));
            ts.add(t(b + "ffn_gate_inp.weight", TensorRole.ROUTER, il, 512, 4));
            ts.add(t(b + "ffn_up_exps.weight", TensorRole.FFN_EXPERT, il, 512, 256, 4));
            ts.add(t(b + "ffn_down_exps.weight", TensorRole.FFN_EXPERT, il, 256, 512, 4));
            layers.add(new LayerGeometry(2, 64, 64, 0));
        }
        return new ModelProfile("test", "tiny-moe", N_LAYER, 512, 8, 1000, 0, 4, 2, 256, 4096, layers, ts);
    }

    static TensorProfile t(String name, TensorRole role, int layer, long... shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return new TensorProfile(name, role, layer, GgmlType.F16, shape, GgmlType.F16.bytesFor(n));
    }

    static PlacementRequest req() {
        return PlacementRequest.defaults(ContextSettings.defaults()).withFit(FitMode.OFF);
    }

    static final Inventory TWO = Inventory.simulated("cuda:A:8GiB,cuda:B:8GiB", 16L << 30);

    @Test
    void nglPutsTheLastLayersOnGpusAndTheHeadOnlyAboveTheLayerCount() {
        Plan p = Planner.plan(moe(), TWO, req().withGpuLayers(GpuLayers.of(3)));
        for (int il = 0; il < N_LAYER; il++) {
            assertEquals(il >= N_LAYER - 3, p.layerGpu(il) >= 0, "layer " + il);
        }
        assertEquals(-1, p.outputGpu());
        assertEquals(Home.CPU, p.home("output.weight"));
        Plan all = Planner.plan(moe(), TWO, req().withGpuLayers(GpuLayers.of(N_LAYER + 1)));
        assertTrue(all.outputGpu() >= 0);
        assertEquals(Home.CPU, all.home("token_embd.weight"), "embeddings stay in host RAM");
        Plan none = Planner.plan(moe(), TWO, req().withGpuLayers(GpuLayers.of(0)));
        for (var b : none.gpuBudgets()) {
            assertEquals(0, b.weights() + b.kv(), "-ngl 0: no weights or KV on " + b.device().id());
        }
        // prefill still streams host weights through the main GPU: its compute buffer has room for one
        assertTrue(none.gpuBudgets().get(0).compute() > 0);
        assertEquals(Planner.plan(moe(), TWO, req().withGpuLayers(GpuLayers.of(99))).gpuBudgets(), all.gpuBudgets());
    }

    @Test
    void nCpuMoeMovesOnlyExpertsOfTheFirstLayers() {
        Plan p = Planner.plan(moe(), TWO, req().withGpuLayers(GpuLayers.ALL).withNCpuMoe(5));
        for (int il = 0; il < N_LAYER; il++) {
            Home experts = p.home("blk." + il + ".ffn_up_exps.weight");
            assertEquals(il < 5, experts.isCpu(), "experts of layer " + il);
            assertTrue(!p.home("blk." + il + ".attn_q.weight").isCpu());
            assertTrue(!p.home("blk." + il + ".ffn_gate_inp.weight").isCpu());
        }
        PlacementRequest cpuMoe = new PlacementRequest(GpuLayers.ALL, -1, true, new double[0], SplitMode.LAYER, 0,
                List.of(), FitMode.OFF, new long[0], 4096, false, false, java.util.Map.of(), ContextSettings.defaults());
        Plan c = Planner.plan(moe(), TWO, cpuMoe);
        for (int il = 0; il < N_LAYER; il++) {
            assertTrue(c.home("blk." + il + ".ffn_down_exps.weight").isCpu());
        }
    }

    @Test
    void splitModeNoneUsesOnlyTheMainGpu() {
        PlacementRequest r = new PlacementRequest(GpuLayers.ALL, -1, false, new double[0], SplitMode.NONE, 1, List.of(),
                FitMode.OFF, new long[0], 4096, false, false, java.util.Map.of(), ContextSettings.defaults());
        Plan p = Planner.plan(moe(), TWO, r);
        assertEquals(0, p.gpuBudgets().get(0).used());
        for (int il = 0; il < N_LAYER; il++) {
            assertEquals(1, p.layerGpu(il));
        }
        PlacementRequest bad = new PlacementRequest(GpuLayers.ALL, -1, false, new double[0], SplitMode.NONE, 2,
                List.of(), FitMode.OFF, new long[0], 4096, false, false, java.util.Map.of(), ContextSettings.defaults());
        assertThrows(TrestleException.class, () -> Planner.plan(moe(), TWO, bad));
    }

    @Test
    void overridesWinFirstMatchAndMustNameABuffer() {
        PlacementRequest r = req().withGpuLayers(GpuLayers.ALL).withNCpuMoe(N_LAYER)
                .withOverrides(TensorOverride.parseList("blk\\.7\\.ffn_.*=CUDA0,blk\\.7\\..*=CPU"));
        Plan p = Planner.plan(moe(), TWO, r);
        assertEquals(Home.gpu(0), p.home("blk.7.ffn_up_exps.weight"));
        assertEquals(Home.CPU, p.home("blk.7.attn_q.weight"));
        TrestleException e = assertThrows(TrestleException.class, () -> Planner.plan(moe(), TWO,
                req().withOverrides(TensorOverride.parseList("output=CUDA5"))));
        assertTrue(e.fix().contains("CUDA1"), e.fix());
    }

    @Test
    void withoutGpusEverythingIsOnTheCpuAndTheCeilingUsesBandwidths() {
        Inventory cpu = Inventory.simulated("", 16L << 30);
        PlacementRequest r = new PlacementRequest(GpuLayers.ALL, -1, false, new double[0], SplitMode.LAYER, 0, List.of(),
                FitMode.OFF, new long[0], 4096, false, false, java.util.Map.of("cpu", 100e9), ContextSettings.defaults());
        Plan p = Planner.plan(moe(), cpu, r);
        assertEquals(0, p.vramUsed());
        long perToken = p.traffic().get(0).weightBytes();
        // experts are read at 2 of 4; the embedding one row of 1000
        long expected = 0;
        for (TensorProfile t : moe().tensors()) {
            expected += switch (t.role()) {
                case FFN_EXPERT -> t.bytes() / 2;
                case TOKEN_EMBD -> t.bytes() / 1000;
                default -> t.bytes();
            };
        }
        assertEquals(expected, perToken);
        assertEquals(100e9 / perToken, p.tokensPerSecondCeiling(false), 1e-6 * (100e9 / perToken));
    }

    @Test
    void aCpuOnlyPlanSaysWhyNoGpuIsUsed() {
        Inventory real = Inventory.detect();
        Plan p = Planner.plan(moe(), real, req().withGpuLayers(GpuLayers.of(99)));
        if (real.gpus().isEmpty()) {
            for (var st : real.statuses()) {
                if (!st.available()) {
                    assertTrue(p.notes().stream().anyMatch(n -> n.contains(st.detail())), p.notes().toString());
                }
            }
            assertTrue(p.notes().stream().anyMatch(n -> n.contains("-ngl 99 has no effect")), p.notes().toString());
        }
    }

    /**
     * Whenever some -ts puts every layer on the two GPUs without moving experts, --fit finds such a
     * placement too (its proportional split can overshoot a GPU by half a layer; it must recover).
     */
    @Test
    void fitFindsAFullOffloadWheneverSomeSplitHasOne() {
        ModelProfile m = moe();
        PlacementRequest manual = req().withGpuLayers(GpuLayers.ALL).withNCpuMoe(0);
        Plan probe = Planner.plan(m, Inventory.simulated("cuda:A:8GiB,cuda:B:8GiB", 16L << 30), manual);
        long all = probe.vramUsed();
        int found = 0;
        for (long mib0 = 1024; mib0 <= 1024 + (all >> 20) + 16; mib0 += 2) {
            for (long mib1 = 1024; mib1 <= 1024 + (all >> 20) + 16; mib1 += 2) {
                Inventory inv = Inventory.simulated("cuda:A:" + mib0 + "MiB,cuda:B:" + mib1 + "MiB", 16L << 30);
                boolean someSplitFits = false;
                for (int k = 0; k <= N_LAYER + 1 && !someSplitFits; k++) {
                    // the split that puts exactly the first k layers on GPU A
                    double[] bytes = unitBytes(Planner.build(m, inv, manual,
                            new dev.trestle.scheduler.plan.Layout(N_LAYER + 1, 0, new double[] {1, 0},
                                    ContextSettings.defaults())));
                    double before = 0;
                    double total = 0;
                    for (int u = 0; u < bytes.length; u++) {
                        total += bytes[u];
                        before += u < k ? bytes[u] : 0;
                    }
                    Plan p = Planner.build(m, inv, manual, new dev.trestle.scheduler.plan.Layout(N_LAYER + 1, 0,
                            new double[] {before / total, 1 - before / total}, ContextSettings.defaults()));
                    someSplitFits = p.fits();
                }
                if (someSplitFits) {
                    found++;
                    Plan fit = Planner.plan(m, inv, PlacementRequest.defaults(ContextSettings.defaults()));
                    assertEquals(N_LAYER + 1, fit.layout().gpuLayers(), mib0 + "+" + mib1 + " MiB: " + fit.flags());
                    assertEquals(0, fit.layout().nCpuMoe(), mib0 + "+" + mib1 + " MiB: " + fit.flags());
                }
            }
        }
        assertTrue(found > 10, "configurations with a full offload: " + found);
    }

    /** Bytes each offloaded unit (layer, then the output group) brings to GPU A when all of it is there. */
    private static double[] unitBytes(Plan onA) {
        ModelProfile m = onA.model();
        double[] out = new double[N_LAYER + 1];
        long kvPerLayer = onA.gpuBudgets().get(0).kv() / N_LAYER;
        for (TensorProfile t : m.tensors()) {
            if (t.inLayer()) {
                out[t.layer()] += t.bytes();
            } else if (t.layer() == TensorProfile.OUTPUT_LAYER) {
                out[N_LAYER] += t.bytes();
            }
        }
        for (int il = 0; il < N_LAYER; il++) {
            out[il] += kvPerLayer;
        }
        return out;
    }
}
