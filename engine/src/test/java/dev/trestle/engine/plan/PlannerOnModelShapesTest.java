package dev.trestle.engine.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.trestle.backends.type.GgmlType;
import dev.trestle.common.TrestleException;
import dev.trestle.scheduler.device.Inventory;
import dev.trestle.scheduler.memory.ByteSize;
import dev.trestle.scheduler.memory.ContextSettings;
import dev.trestle.scheduler.memory.FlashAttention;
import dev.trestle.scheduler.plan.DeviceBudget;
import dev.trestle.scheduler.plan.FitMode;
import dev.trestle.scheduler.plan.GpuLayers;
import dev.trestle.scheduler.plan.Home;
import dev.trestle.scheduler.plan.Plan;
import dev.trestle.scheduler.plan.PlacementRequest;
import dev.trestle.scheduler.plan.PlanReport;
import dev.trestle.scheduler.plan.Planner;
import dev.trestle.scheduler.plan.SplitMode;
import dev.trestle.scheduler.profile.ModelProfile;
import dev.trestle.scheduler.profile.TensorProfile;
import dev.trestle.scheduler.profile.TensorRole;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The planner on GGUF headers with the shapes of Qwen3-30B-A3B, Llama-3.1-8B and a 70B, all Q4_K_M. */
class PlannerOnModelShapesTest {
    @TempDir
    static Path dir;
    static ModelProfile qwen;
    static ModelProfile llama8;
    static ModelProfile llama70;

    @BeforeAll
    static void writeModels() throws Exception {
        Path q = SyntheticModels.qwen3moe30b(dir);
        qwen = GgufProfiles.of(q);
        llama8 = GgufProfiles.of(SyntheticModels.llama8b(dir));
        llama70 = GgufProfiles.of(SyntheticModels.llama70b(dir));
        // the files are sparse: the whole data section is a hole
        assertTrue(Files.size(q) > 15L * ByteSize.GIB, "logical size of a 30B Q4_K_M");
    }

    private static ContextSettings ctx(int c, GgmlType k, GgmlType v) {
        return new ContextSettings(c, 1, 2048, 512, k, v, FlashAttention.AUTO);
    }

    private static Inventory machine(String gpus, String ram) {
        return Inventory.simulated(gpus, ByteSize.parse(ram, "test"));
    }

    @Test
    void profilesHaveTheModelsShapes() {
        assertEquals(48, qwen.nLayer());
        assertEquals(128, qwen.nExpert());
        assertEquals(8, qwen.nExpertUsed());
        assertEquals(768, qwen.nFfExpert());
        assertEquals(151936, qwen.nVocab());
        assertEquals(32, qwen.nHead());
        assertEquals(4, qwen.layers().get(0).nHeadKv());
        assertEquals(128, qwen.layers().get(0).headDimK());
        long experts = qwen.tensors().stream().filter(t -> t.role() == TensorRole.FFN_EXPERT).count();
        assertEquals(48 * 3, experts);
        assertEquals(TensorRole.ROUTER, role(qwen, "blk.7.ffn_gate_inp.weight"));
        assertEquals(TensorRole.NORM, role(qwen, "blk.7.attn_k_norm.weight"));
        assertEquals(TensorRole.OUTPUT, role(qwen, "output.weight"));
        assertEquals(TensorRole.TOKEN_EMBD, role(qwen, "token_embd.weight"));
        assertEquals(14336, llama8.nFf());
        // Qwen3-30B-A3B Q4_K_M is 17.3 GiB on disk (18.6 GB); the synthetic header must be that size too
        double gib = qwen.storedBytes() / (double) ByteSize.GIB;
        assertTrue(gib > 16.5 && gib < 18.0, "Qwen3-30B-A3B Q4_K_M weights: " + gib + " GiB");
        double gib8 = llama8.storedBytes() / (double) ByteSize.GIB;
        assertTrue(gib8 > 4.4 && gib8 < 4.8, "Llama-3.1-8B Q4_K_M weights: " + gib8 + " GiB");
        double gib70 = llama70.storedBytes() / (double) ByteSize.GIB;
        assertTrue(gib70 > 38 && gib70 < 41, "70B Q4_K_M weights: " + gib70 + " GiB");
    }

    @Test
    void kvCacheEqualsTheClosedFormForEveryCacheType() {
        // bytes per 32 values of each cache type (block overhead included)
        Map<GgmlType, Integer> per32 = Map.of(GgmlType.F32, 128, GgmlType.F16, 64, GgmlType.BF16, 64,
                GgmlType.Q8_0, 34, GgmlType.Q5_1, 24, GgmlType.Q5_0, 22, GgmlType.Q4_1, 20, GgmlType.Q4_0, 18,
                GgmlType.IQ4_NL, 18);
        Inventory cpuOnly = machine("", "1TiB");
        for (ModelProfile m : new ModelProfile[] {qwen, llama8, llama70}) {
            int kvHeads = m.layers().get(0).nHeadKv();
            for (var k : per32.entrySet()) {
                for (var v : per32.entrySet()) {
                    int c = 32768;
                    Plan p = Planner.build(m, cpuOnly, PlacementRequest.defaults(ctx(c, k.getKey(), v.getKey())),
                            new dev.trestle.scheduler.plan.Layout(0, 0, new double[0], ctx(c, k.getKey(), v.getKey())));
                    long row = (long) kvHeads * 128 / 32;
                    long expected = (long) m.nLayer() * c * row * (k.getValue() + v.getValue());
                    assertEquals(expected, p.kvTotal(), m.name() + " -ctk " + k.getKey() + " -ctv " + v.getKey());
                }
            }
        }
        // the well-known figure: Llama-3.1-8B, f16 cache, 8192 context = 1 GiB
        Plan p = Planner.plan(llama8, cpuOnly, PlacementRequest.defaults(ctx(8192, GgmlType.F16, GgmlType.F16)));
        assertEquals(ByteSize.GIB, p.kvTotal());
    }

    @Test
    void qwen3MoeWith30CpuMoeLayersOnA16GiBCard() {
        Inventory inv = machine("cuda:RTX 5060 Ti:16GiB", "64GiB");
        PlacementRequest req = PlacementRequest.defaults(ctx(32768, GgmlType.Q8_0, GgmlType.Q4_0)).withNCpuMoe(30);
        Plan p = Planner.plan(qwen, inv, req);
        System.out.println(PlanReport.render(p));
        assertTrue(p.fits());
        assertEquals(49, p.layout().gpuLayers(), "--fit keeps every layer and the head on the GPU");
        assertEquals(30, p.layout().nCpuMoe());
        assertEquals(Home.CPU, p.home("blk.29.ffn_up_exps.weight"));
        assertEquals(Home.gpu(0), p.home("blk.30.ffn_up_exps.weight"));
        assertEquals(Home.gpu(0), p.home("blk.0.attn_q.weight"), "attention of a --n-cpu-moe layer stays on the GPU");
        assertEquals(Home.gpu(0), p.home("blk.0.ffn_gate_inp.weight"), "the router too");
        assertEquals(Home.CPU, p.home("token_embd.weight"));
        assertEquals(Home.gpu(0), p.home("output.weight"));
        assertEquals(1_308_622_848L, p.gpuBudgets().get(0).kv(), "48 x 32768 x (544 + 288) bytes");
        double vram = p.gpuBudgets().get(0).total() / 1e9;
        double total = (p.vramUsed() + p.host().total()) / 1e9;
        System.out.printf("Qwen3-30B-A3B --n-cpu-moe 30: VRAM %.2f GB (with margin), total %.2f GB%n", vram, total);
        assertTrue(vram > 8 && vram < 14, "VRAM " + vram);
        assertTrue(total > 18 && total < 22, "total " + total);
    }

    @Test
    void layerSplit6040IsWithinOneLayerByBytes() {
        Inventory inv = machine("cuda:A:48GiB,cuda:B:48GiB", "128GiB");
        PlacementRequest req = PlacementRequest.defaults(ctx(8192, GgmlType.F16, GgmlType.F16))
                .withGpuLayers(GpuLayers.ALL).withTensorSplit(new double[] {60, 40});
        for (ModelProfile m : new ModelProfile[] {llama70, llama8, qwen}) {
            Plan p = Planner.plan(m, inv, req);
            DeviceBudget a = p.gpuBudgets().get(0);
            DeviceBudget b = p.gpuBudgets().get(1);
            long aBytes = a.weights() + a.kv();
            long bBytes = b.weights() + b.kv();
            long total = aBytes + bBytes;
            long largestUnit = 0;
            for (int il = 0; il < m.nLayer(); il++) {
                long unit = 0;
                for (TensorProfile t : m.tensorsOf(il)) {
                    unit += t.bytes();
                }
                largestUnit = Math.max(largestUnit, unit + p.kvTotal() / m.nLayer());
            }
            long outputUnit = m.tensorsOf(TensorProfile.OUTPUT_LAYER).stream().mapToLong(TensorProfile::bytes).sum();
            largestUnit = Math.max(largestUnit, outputUnit);
            assertTrue(Math.abs(aBytes - 0.6 * total) <= largestUnit, m.name() + ": GPU0 has " + aBytes + " of " + total);
            // consecutive layers: GPU0 holds a prefix
            int switches = 0;
            for (int il = 1; il < m.nLayer(); il++) {
                switches += p.layerGpu(il) != p.layerGpu(il - 1) ? 1 : 0;
            }
            assertEquals(1, switches, m.name());
            assertEquals(0, p.layerGpu(0));
            assertEquals(1, p.layerGpu(m.nLayer() - 1));
        }
        // 60,40 == 0.6,0.4 == 3,2
        Plan p1 = Planner.plan(llama70, inv, req);
        Plan p2 = Planner.plan(llama70, inv, req.withTensorSplit(new double[] {0.6, 0.4}));
        Plan p3 = Planner.plan(llama70, inv, req.withTensorSplit(new double[] {3, 2}));
        assertEquals(p1.gpuBudgets(), p2.gpuBudgets());
        assertEquals(p1.gpuBudgets(), p3.gpuBudgets());
    }

    @Test
    void rowSplitCutsEachMatrix6040OnQuantBlocks() {
        Inventory inv = machine("cuda:A:24GiB,cuda:B:24GiB", "64GiB");
        PlacementRequest req = PlacementRequest.defaults(ctx(8192, GgmlType.F16, GgmlType.F16))
                .withGpuLayers(GpuLayers.ALL).withTensorSplit(new double[] {60, 40}).withSplitMode(SplitMode.ROW);
        Plan p = Planner.plan(llama8, inv, req);
        for (TensorProfile t : llama8.tensors()) {
            long[] share = p.rowShare(t.name());
            if (!t.isRowSplittable() || t.role() == TensorRole.TOKEN_EMBD) {
                continue;
            }
            long rowBytes = t.bytes() / t.rows();
            long rows0 = share[0] / rowBytes;
            long granule = Planner.rowGranule(t);
            assertEquals(0, rows0 % granule, t.name() + " rows on GPU0 " + rows0);
            assertTrue(Math.abs(rows0 - 0.6 * t.rows()) <= granule / 2.0, t.name() + ": " + rows0 + " of " + t.rows());
            assertEquals(t.bytes(), share[0] + share[1], t.name());
        }
        assertTrue(p.home("blk.3.attn_q.weight").rowSplit());
        assertEquals(0, p.gpuBudgets().get(1).kv(), "KV lives on the main GPU in row mode");
        assertEquals(p.kvTotal(), p.gpuBudgets().get(0).kv());
        assertEquals(Home.gpu(0), p.home("blk.3.attn_norm.weight"));
    }

    @Test
    void fitFindsAPlacementWhereOneExists() {
        String[][] machines = {
            {"cuda:RTX 5060 Ti:16GiB", "64GiB"},
            {"cuda:RTX 4060:8GiB", "32GiB"},
            {"cuda:RTX 5060 Ti:16GiB,cuda:RTX 4060:8GiB", "64GiB"},
            {"cuda:RTX 4090:24GiB,cuda:RTX 3090:24GiB", "64GiB"},
            {"", "64GiB"},
        };
        for (ModelProfile m : new ModelProfile[] {qwen, llama8, llama70}) {
            for (String[] mc : machines) {
                Inventory inv = machine(mc[0], mc[1]);
                PlacementRequest req = PlacementRequest.defaults(ctx(32768, GgmlType.Q8_0, GgmlType.Q8_0));
                if (m == llama70 && mc[1].equals("32GiB")) {
                    assertThrows(TrestleException.class, () -> Planner.plan(m, inv, req), "70B does not fit 8+32 GiB");
                    continue;
                }
                Plan p = Planner.plan(m, inv, req);
                assertTrue(p.fits() && p.fitted(), m.name() + " on " + mc[0]);
                System.out.println(m.name() + " on [" + mc[0] + "] + " + mc[1] + ": " + p.flags());
            }
        }
        // experts go to the CPU before whole layers do
        Plan q = Planner.plan(qwen, machine("cuda:RTX 5060 Ti:16GiB", "64GiB"),
                PlacementRequest.defaults(ctx(32768, GgmlType.Q8_0, GgmlType.Q4_0)));
        assertEquals(49, q.layout().gpuLayers());
        assertTrue(q.layout().nCpuMoe() > 0 && q.layout().nCpuMoe() < 48, q.flags());
        // a smaller --n-cpu-moe would not fit
        Plan tighter = Planner.build(qwen, q.inventory(), q.request(), q.layout().withNCpuMoe(q.layout().nCpuMoe() - 1));
        assertTrue(!tighter.fits());
    }

    @Test
    void fitShrinksTheContextOnlyDownToFitCtxAndSaysSo() {
        Inventory inv = machine("cuda:RTX 4060:8GiB", "12GiB");
        PlacementRequest req = PlacementRequest.defaults(ctx(131072, GgmlType.F16, GgmlType.F16));
        Plan p = Planner.plan(llama8, inv, req);
        assertTrue(p.layout().context().nCtx() < 131072 && p.layout().context().nCtx() >= 4096);
        assertTrue(p.notes().stream().anyMatch(n -> n.contains("shrank the context")), p.notes().toString());
    }

    @Test
    void noPlacementFailsNamingDeviceShortfallAndFixes() {
        Inventory inv = machine("cuda:RTX 4060:8GiB", "16GiB");
        TrestleException e = assertThrows(TrestleException.class, () -> Planner.plan(llama70, inv,
                PlacementRequest.defaults(ctx(8192, GgmlType.F16, GgmlType.F16))));
        System.out.println(e.getMessage() + "\nfix: " + e.fix());
        assertTrue(e.getMessage().contains("short by"), e.getMessage());
        assertTrue(e.getMessage().contains("host RAM"), e.getMessage());
        assertEquals(Planner.EXIT_DOES_NOT_FIT, e.exitCode());
        assertTrue(e.fix() != null && !e.fix().isBlank());
    }

    @Test
    void explicitFlagsThatDoNotFitGetConcreteFixes() {
        Inventory inv = machine("cuda:RTX 5060 Ti:16GiB", "64GiB");
        PlacementRequest req = PlacementRequest.defaults(ctx(32768, GgmlType.F16, GgmlType.F16))
                .withGpuLayers(GpuLayers.of(99));
        TrestleException e = assertThrows(TrestleException.class, () -> Planner.plan(qwen, inv, req));
        System.out.println(e.getMessage() + "\nfix: " + e.fix());
        assertTrue(e.getMessage().contains("CUDA0 (RTX 5060 Ti)"), e.getMessage());
        assertTrue(e.getMessage().matches("(?s).*short by [0-9,]+ MiB.*"), e.getMessage());
        assertTrue(e.fix().contains("--n-cpu-moe "), e.fix());
        assertTrue(e.fix().contains("lower -ngl to "), e.fix());
        // the suggested --n-cpu-moe really fits, and one less does not
        int n = Integer.parseInt(e.fix().replaceAll("(?s).*--n-cpu-moe (\\d+).*", "$1"));
        assertTrue(Planner.plan(qwen, inv, req.withNCpuMoe(n)).fits());
        assertThrows(TrestleException.class, () -> Planner.plan(qwen, inv, req.withNCpuMoe(n - 1)));
        // a context that is too long gets a -c fix and a cache-type fix with its saving
        PlacementRequest longCtx = PlacementRequest.defaults(ctx(131072, GgmlType.F16, GgmlType.F16))
                .withGpuLayers(GpuLayers.ALL);
        TrestleException e2 = assertThrows(TrestleException.class,
                () -> Planner.plan(llama8, machine("cuda:RTX 5060 Ti:16GiB", "64GiB"), longCtx));
        assertTrue(e2.fix().contains("-c "), e2.fix());
        assertTrue(e2.fix().matches("(?s).*-ctk q8_0 -ctv q[48]_0 saves [0-9.]+ GiB.*"), e2.fix());
    }

    @Test
    void overridesApplyLastAndFitCanBeTurnedOff() {
        Inventory inv = machine("cuda:A:24GiB,cuda:B:24GiB", "64GiB");
        PlacementRequest req = PlacementRequest.defaults(ctx(4096, GgmlType.F16, GgmlType.F16))
                .withGpuLayers(GpuLayers.ALL).withNCpuMoe(10)
                .withOverrides(dev.trestle.scheduler.plan.TensorOverride.parseList(
                        "blk\\.5\\.ffn_.*_exps=CUDA1,blk\\.4[0-7]\\.ffn_down_exps=CPU"))
                .withFit(FitMode.OFF);
        Plan p = Planner.plan(qwen, inv, req);
        assertEquals(Home.gpu(1), p.home("blk.5.ffn_up_exps.weight"), "-ot beats --n-cpu-moe");
        assertEquals(Home.CPU, p.home("blk.6.ffn_up_exps.weight"));
        assertEquals(Home.CPU, p.home("blk.45.ffn_down_exps.weight"));
        assertEquals(Home.gpu(1), p.home("blk.45.ffn_up_exps.weight"));
        assertTrue(!p.fitted());
    }

    @Test
    void computeBufferIsNearLlamaCppsForLlama8b() {
        // a published llama.cpp log: Llama-3 8B, 33/33 layers offloaded, -c 512 -ub 512, flash_attn = 0:
        // "CUDA0 compute buffer size = 258.50 MiB"
        long bytes = dev.trestle.scheduler.memory.ComputeBuffers.forLayers(llama8,
                new ContextSettings(512, 1, 512, 512, GgmlType.F16, GgmlType.F16, FlashAttention.OFF), true);
        double mib = bytes / 1048576.0;
        assertTrue(mib > 250 && mib < 300, "estimate " + mib + " MiB");
    }

    private static TensorRole role(ModelProfile m, String name) {
        return m.tensors().stream().filter(t -> t.name().equals(name)).findFirst().orElseThrow().role();
    }
}
