package dev.trestle.server.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.trestle.backends.type.GgmlType;
import dev.trestle.scheduler.memory.ContextSettings;
import dev.trestle.scheduler.memory.FlashAttention;
import dev.trestle.scheduler.plan.FitMode;
import dev.trestle.scheduler.plan.GpuLayers;
import dev.trestle.scheduler.plan.PlacementRequest;
import dev.trestle.scheduler.plan.SplitMode;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** The mixins parse llama-server's spellings (short and long) into the same request. */
class PlacementFlagsTest {
    @Command(name = "probe")
    static final class Probe {
        @Mixin
        PlacementFlags placement = new PlacementFlags();
        @Mixin
        ContextFlags context = new ContextFlags();
    }

    static PlacementRequest parse(String... args) {
        Probe p = new Probe();
        new CommandLine(p).parseArgs(args);
        return p.placement.toRequest(p.context.toSettings());
    }

    @Test
    void shortAndLongSpellingsMeanTheSame() {
        PlacementRequest s = parse("-ngl", "30", "-ncmoe", "12", "-ts", "60,40", "-sm", "row", "-mg", "1",
                "-ot", "exps=CPU", "-ot", "output=CUDA1,norm=CPU", "-fit", "on", "-fitt", "512,2048", "-fitc", "8192",
                "--mlock", "--no-mmap", "--bandwidth", "cuda0=448GB/s,CPU=96GB/s",
                "-c", "32768", "-np", "4", "-b", "1024", "-ub", "256", "-ctk", "q8_0", "-ctv", "q4_0", "-fa", "on");
        PlacementRequest l = parse("--n-gpu-layers", "30", "--n-cpu-moe", "12", "--tensor-split", "60,40",
                "--split-mode", "row", "--main-gpu", "1", "--override-tensor", "exps=CPU",
                "--override-tensor", "output=CUDA1,norm=CPU", "--fit", "on", "--fit-target", "512,2048",
                "--fit-ctx", "8192", "--mlock", "--no-mmap", "--bandwidth", "cuda0=448GB/s,CPU=96GB/s",
                "--ctx-size", "32768", "--parallel", "4", "--batch-size", "1024", "--ubatch-size", "256",
                "--cache-type-k", "q8_0", "--cache-type-v", "q4_0", "--flash-attn", "on");
        for (PlacementRequest r : new PlacementRequest[] {s, l}) {
            assertEquals(GpuLayers.of(30), r.gpuLayers());
            assertEquals(12, r.nCpuMoe());
            assertArrayEquals(new double[] {60, 40}, r.tensorSplit());
            assertEquals(SplitMode.ROW, r.splitMode());
            assertEquals(1, r.mainGpu());
            assertEquals(3, r.overrides().size());
            assertEquals("CUDA1", r.overrides().get(1).buffer());
            assertEquals(FitMode.ON, r.fit());
            assertArrayEquals(new long[] {512, 2048}, r.fitTargetMiB());
            assertEquals(2048L << 20, r.marginBytes(1));
            assertEquals(8192, r.fitCtx());
            assertTrue(r.mlock() && r.noMmap());
            assertEquals(448e9, r.bandwidths().get("cuda0"));
            assertEquals(96e9, r.bandwidths().get("cpu"));
            assertEquals(new ContextSettings(32768, 4, 1024, 256, GgmlType.Q8_0, GgmlType.Q4_0, FlashAttention.ON),
                    r.context());
        }
        assertEquals(GpuLayers.of(30), parse("--gpu-layers", "30").gpuLayers());
        assertTrue(parse("-cmoe").cpuMoe());
        assertTrue(parse("--cpu-moe").cpuMoe());
    }

    @Test
    void defaultsAreLlamaServers() {
        PlacementRequest r = parse();
        assertEquals(GpuLayers.AUTO, r.gpuLayers());
        assertTrue(r.fitEnabled(), "-ngl auto turns --fit on");
        assertEquals(-1, r.nCpuMoe());
        assertEquals(SplitMode.LAYER, r.splitMode());
        assertEquals(1024L << 20, r.marginBytes(0));
        assertEquals(4096, r.fitCtx());
        assertEquals(ContextSettings.defaults(), r.context());
        assertTrue(!parse("-ngl", "99").fitEnabled(), "an explicit -ngl turns the default --fit off");
        assertEquals(GpuLayers.ALL, parse("-ngl", "all").gpuLayers());
        assertEquals(FlashAttention.ON, parse("-fa").context().flashAttn());
    }
}
