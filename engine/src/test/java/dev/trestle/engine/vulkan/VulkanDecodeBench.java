package dev.trestle.engine.vulkan;

import dev.trestle.engine.gguf.GgufFile;
import dev.trestle.engine.runtime.Batch;
import dev.trestle.engine.runtime.Context;
import dev.trestle.engine.runtime.EngineOptions;
import dev.trestle.engine.runtime.Model;
import dev.trestle.engine.runtime.Offload;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Per-token decode time on Vulkan ({@code -ngl 99}) with and without command-buffer reuse ({@code -Dtoggle=} the
 * properties set in the "off" rounds, default trestle.vulkan.noReuse), alternating in one JVM so both see the same
 * machine load (not a test: run by hand, see docs/vulkan.md). Prints the median and the
 * fastest step of each round: on a shared machine the fastest steps are the comparable figure.
 * Arguments: model files.
 */
public final class VulkanDecodeBench {
    private VulkanDecodeBench() {
    }

    public static void main(String[] args) throws Exception {
        int steps = Integer.getInteger("steps", 96);
        int promptLen = Integer.getInteger("prompt", 0);
        for (String file : args) {
            if (promptLen > 0) {
                prefill(file, promptLen);
                continue;
            }
            for (int round = 0; round < 6; round++) {
                boolean reuse = round % 2 == 1;
                for (String prop : System.getProperty("toggle", "trestle.vulkan.noReuse").split(",")) {
                    System.setProperty(prop, Boolean.toString(!reuse));
                }
                EngineOptions opts = EngineOptions.defaults().withContext(256).withBatch(256, 256).withThreads(2);
                try (Model m = Model.load(GgufFile.open(Path.of(file)), opts);
                     Context ctx = m.newContext(opts, Offload.layers(m.config().nLayer(), 99, new int[] {0}, null))) {
                    int[] prompt = {17, 42, 99, 3, 64, 120, 7, 55};
                    ctx.decode(Batch.ofPrompt(prompt, 0, 0));
                    long[] ns = new long[steps];
                    long cpu0 = processCpuMillis();
                    var dev = ((dev.trestle.engine.model.VulkanLayers) ctx.gpuExecutors().getFirst()).device();
                    long d0 = dev.dispatches();
                    int tok = 1;
                    for (int s = 0; s < steps; s++) {
                        long t0 = System.nanoTime();
                        ctx.decode(new Batch().add(tok, prompt.length + s, 0, true));
                        float[] l = ctx.logits(ctx.lastOutputIndex());
                        ns[s] = System.nanoTime() - t0;
                        tok = argmax(l);
                    }
                    double cpuPerTok = (processCpuMillis() - cpu0) / (double) steps;
                    double dispatchesPerTok = (dev.dispatches() - d0) / (double) steps;
                    long[] sorted = ns.clone();
                    Arrays.sort(sorted);
                    System.out.printf("%s on=%-5s median %.2f ms (%.1f tok/s), fastest %.2f ms (%.1f tok/s), "
                                    + "process CPU %.2f ms/token, %.0f dispatches/token%n", Path.of(file).getFileName(),
                            reuse, sorted[steps / 2] / 1e6, 1e9 / sorted[steps / 2], sorted[0] / 1e6,
                            1e9 / sorted[0], cpuPerTok, dispatchesPerTok);
                }
            }
        }
    }

    /** Prompt time of {@code n} tokens in one micro-batch, tiled matmul off (rounds 0, 2, 4) and on. */
    private static void prefill(String file, int n) throws Exception {
        for (int round = 0; round < 6; round++) {
            boolean tiled = round % 2 == 1;
            System.setProperty("trestle.vulkan.tiledMinRows", tiled ? "16" : Integer.toString(Integer.MAX_VALUE));
            EngineOptions opts = EngineOptions.defaults().withContext(512).withBatch(512, 512).withThreads(2);
            try (Model m = Model.load(GgufFile.open(Path.of(file)), opts);
                 Context ctx = m.newContext(opts, Offload.layers(m.config().nLayer(), 99, new int[] {0}, null))) {
                int[] prompt = new int[n];
                for (int i = 0; i < n; i++) {
                    prompt[i] = (17 + 29 * i) % m.config().nVocab();
                }
                ctx.decode(Batch.ofPrompt(new int[] {1, 2}, 0, 0)); // pipelines compiled and created
                ctx.decode(Batch.ofPrompt(new int[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17}, 2, 0));
                long cpu0 = processCpuMillis();
                long t0 = System.nanoTime();
                ctx.decode(Batch.ofPrompt(prompt, 19, 0));
                long ns = System.nanoTime() - t0;
                long cpu = processCpuMillis() - cpu0;
                System.out.printf("%s prompt %d tokens tiled=%-5s wall %.1f ms (%.1f tok/s), process CPU %d ms%n",
                        Path.of(file).getFileName(), n, tiled, ns / 1e6, n * 1e9 / ns, cpu);
            }
        }
    }

    /**
     * User + system time of the whole process, lavapipe's worker threads included (Linux /proc, 10 ms ticks): on a
     * loaded machine this is the comparable cost, wall time is mostly waiting for a core.
     */
    private static long processCpuMillis() throws java.io.IOException {
        String stat = java.nio.file.Files.readString(Path.of("/proc/self/stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return (Long.parseLong(f[11]) + Long.parseLong(f[12])) * 10; // utime, stime (fields 14, 15)
    }

    private static int argmax(float[] x) {
        int b = 0;
        for (int i = 1; i < x.length; i++) {
            if (x[i] > x[b]) {
                b = i;
            }
        }
        return b;
    }
}
