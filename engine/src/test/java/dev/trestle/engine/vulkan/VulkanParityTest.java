package dev.trestle.engine.vulkan;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.trestle.engine.gguf.GgufFile;
import dev.trestle.engine.runtime.Batch;
import dev.trestle.engine.runtime.Context;
import dev.trestle.engine.runtime.EngineOptions;
import dev.trestle.engine.runtime.Model;
import dev.trestle.engine.runtime.Offload;
import dev.trestle.engine.runtime.ReferenceCase;
import dev.trestle.testdata.VulkanTestDevice;
import java.io.IOException;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The llama.cpp greedy references (../shared/reference/greedy) on the Vulkan backend: every layer on the GPU
 * ({@code -ngl 99}), mixed CPU/GPU ({@code -ngl 2}), and a layer split over two logical Vulkan devices
 * ({@code --tensor-split 60,40}; two VkDevices on one lavapipe stand in for two GPUs), and MoE models with the
 * experts on the GPU, with {@code --n-cpu-moe 1} and with {@code --cpu-moe}. Greedy ids must match
 * except at fragile steps, and, teacher-forced along llama.cpp's ids, the logits must stay within the
 * reference's tolerance.
 */
class VulkanParityTest {
    /** A placement under test, by the flags it stands for. */
    enum Placement {
        NGL_ALL("-ngl 99"), NGL_2("-ngl 2"), SPLIT_60_40("-ngl 99 -ts 60,40"), N_CPU_MOE_1("-ngl 99 --n-cpu-moe 1"),
        CPU_MOE("-ngl 99 --cpu-moe");

        final String flags;

        Placement(String flags) {
            this.flags = flags;
        }

        Offload offload(int nLayer) {
            return switch (this) {
                case NGL_ALL -> Offload.layers(nLayer, 99, new int[] {0}, null);
                case NGL_2 -> Offload.layers(nLayer, 2, new int[] {0}, null);
                case SPLIT_60_40 -> Offload.layers(nLayer, 99, new int[] {0, 0}, new double[] {60, 40});
                case N_CPU_MOE_1 -> Offload.layers(nLayer, 99, new int[] {0}, null, 1);
                case CPU_MOE -> Offload.layers(nLayer, 99, new int[] {0}, null, nLayer);
            };
        }
    }

    static final String[] UNSCALED = {"llama-dense-f16.json", "llama-dense-q8_0.json", "llama-dense-q4_k_m.json",
            "llama-moe-f16.json", "phi3-dense-f16.json", "qwen3-dense-f16.json", "qwen3moe-moe-f16.json",
            "qwen3moe-moe-q8_0.json", "qwen3moe-moe-q4_k_m.json"};
    static final String[] UNSCALED_MOE = {"qwen3moe-moe-f16.json", "qwen3moe-moe-q8_0.json",
            "qwen3moe-moe-q4_k_m.json", "llama-moe-f16.json"};

    static Stream<Arguments> cases() {
        Stream.Builder<Arguments> s = Stream.builder();
        for (Placement p : new Placement[] {Placement.NGL_ALL, Placement.NGL_2, Placement.SPLIT_60_40}) {
            s.add(Arguments.of("stories260K.json", p));
        }
        for (String f : new String[] {"llama-dense-rescaled-f16.json", "qwen3-dense-rescaled-f16.json",
                "phi3-dense-rescaled-f16.json", "gemma3-dense-rescaled-f16.json", "llama-2-tiny-random.json",
                "llama-dense-rescaled-q8_0.json", "llama-dense-rescaled-q4_k_m.json",
                "stories260K-moe4top2-synthetic.json", "qwen3moe-moe-rescaled-f16.json"}) {
            s.add(Arguments.of(f, Placement.NGL_ALL));
        }
        s.add(Arguments.of("qwen3-dense-rescaled-f16.json", Placement.SPLIT_60_40));
        for (String f : new String[] {"stories260K-moe4top2-synthetic.json", "qwen3moe-moe-rescaled-f16.json"}) {
            s.add(Arguments.of(f, Placement.N_CPU_MOE_1));
            s.add(Arguments.of(f, Placement.CPU_MOE));
        }
        s.add(Arguments.of("gemma3-dense-rescaled-f16.json", Placement.NGL_2));
        // unscaled random models: logits O(1e-3), tolerances ~1e-8 to 5e-7 absolute, met only when the GPU rounds
        // the activations to the weight type's vec_dot format as the CPU does
        for (String f : UNSCALED) {
            s.add(Arguments.of(f, Placement.NGL_ALL));
        }
        for (String f : UNSCALED_MOE) {
            s.add(Arguments.of(f, Placement.N_CPU_MOE_1));
            s.add(Arguments.of(f, Placement.CPU_MOE));
        }
        return s.build();
    }

    @AfterAll
    static void validationClean() {
        VulkanTestDevice.assertValidationClean();
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void matchesLlamaCpp(String name, Placement placement) throws IOException {
        VulkanTestDevice.require();
        ReferenceCase ref = ReferenceCase.greedy(name);
        EngineOptions opts = ref.options();
        try (Model m = Model.load(GgufFile.open(ref.model()), opts);
             Context ctx = m.newContext(opts, placement.offload(m.config().nLayer()))) {
            // as the CPU ParityTest: the unscaled models' O(1e-3) logits make every step fragile by the absolute
            // 1e-3 rule, so their greedy ids are checked against the scaled rule
            ref.assertParity(ctx, ref.fragileSteps(ref.meaningful() ? "fragile_steps" : "fragile_steps_scaled"),
                    String.format("VULKAN PARITY %-38s %-18s", name, placement.flags));
        }
    }

    static Stream<Arguments> longPrompts() {
        return Stream.of(Arguments.of("llama-dense-rescaled-f16.json", 0.0236),
                Arguments.of("llama-dense-rescaled-q4_k_m.json", 0.483),
                Arguments.of("qwen3moe-moe-rescaled-f16.json", 0.0246));
    }

    /**
     * A 37-token prompt with logits for every row: its projections (and the MoE experts' gathered rows) take the
     * shared-memory tiled matmul, which the 8-token references never reach; then decode steps (one row: the
     * matvec path, the reused command buffer, the final norm and head fused into it). Every row's logits stay
     * within {@code tol} of the CPU's: the bounds are the references' own tolerances for these files (the CPU
     * quantizes activations for quantized weights, the GPU multiplies them in F32).
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("longPrompts")
    void longPromptMatchesTheCpu(String name, double tol) throws IOException {
        VulkanTestDevice.require();
        ReferenceCase ref = ReferenceCase.greedy(name);
        EngineOptions opts = EngineOptions.defaults().withContext(128).withBatch(64, 64).withThreads(2);
        int nVocab;
        try (Model m0 = Model.load(GgufFile.open(ref.model()), opts); Model m1 = Model.load(GgufFile.open(ref.model()), opts);
             Context cpu = m0.newContext(opts);
             Context gpu = m1.newContext(opts, Placement.NGL_ALL.offload(m1.config().nLayer()))) {
            nVocab = m0.config().nVocab();
            int n = 37;
            Batch prompt = new Batch();
            for (int i = 0; i < n; i++) {
                prompt.add((17 + 29 * i) % nVocab, i, 0, true);
            }
            cpu.decode(prompt);
            gpu.decode(prompt);
            double worst = 0;
            for (int i = 0; i < n; i++) {
                worst = Math.max(worst, maxDiff(cpu.logits(i), gpu.logits(i)));
            }
            double prefill = worst;
            for (int step = 0; step < 6; step++) {
                int next = ReferenceCase.argmax(cpu.logits(cpu.lastOutputIndex()));
                for (Context c : new Context[] {cpu, gpu}) {
                    c.decode(new Batch().add(next, n + step, 0, true));
                }
                worst = Math.max(worst, maxDiff(cpu.logits(cpu.lastOutputIndex()), gpu.logits(gpu.lastOutputIndex())));
            }
            // decode steps repeat the one-row shape: the dense models re-submit its recording; MoE layers read the
            // router logits back mid-layer, so they record every step
            dev.trestle.engine.model.VulkanLayers layers =
                    (dev.trestle.engine.model.VulkanLayers) gpu.gpuExecutors().getFirst();
            java.util.Set<Integer> recorded = layers.recordedSizes();
            assertTrue(recorded.equals(name.contains("moe") ? java.util.Set.of() : java.util.Set.of(1)),
                    "recorded sizes " + recorded);
            // each one-row step took its logits from the final norm and head run with the layers
            assertTrue(layers.fusedHeadSteps() == 6, "fused head steps " + layers.fusedHeadSteps());
            System.out.printf("VULKAN LONG PROMPT %-38s max|dlogit| vs CPU: prefill %.3g, with decode %.3g (tol %.3g)%n",
                    name, prefill, worst, tol);
            assertTrue(worst <= tol, name + ": max|dlogit| " + worst + " > " + tol);
        }
    }

    private static double maxDiff(float[] a, float[] b) {
        double d = 0;
        for (int i = 0; i < a.length; i++) {
            d = Math.max(d, Math.abs(a[i] - b[i]));
        }
        return d;
    }

    static Stream<Arguments> cacheTypes() {
        return Stream.of(Arguments.of("q8_0", "q8_0"), Arguments.of("q4_0", "q4_1"), Arguments.of("q5_0", "q5_1"),
                Arguments.of("bf16", "f32"));
    }

    /**
     * KV cache types on a llama with 32-wide heads: the cache rows are quantized on the device (byte-equal to the
     * CPU's, see VulkanOpsTest), and the Vulkan run may stray from the F16-cache run no further than the CPU run
     * with the same -ctk/-ctv does (x1.5 + 0.03): both carry the cache's quantization noise, and the CPU adds its
     * own Q8_0 rounding of Q, which the GPU's F32 dot does not.
     */
    @ParameterizedTest(name = "-ctk {0} -ctv {1}")
    @MethodSource("cacheTypes")
    void cacheTypesStayAsCloseAsTheCpu(String k, String v) throws IOException {
        VulkanTestDevice.require();
        ReferenceCase ref = ReferenceCase.greedy("llama-dense-rescaled-f16.json");
        Path model = ref.model();
        int[] prompt = ref.prompt();
        int[] ids = ref.expected();
        EngineOptions base = EngineOptions.defaults().withContext(256).withBatch(256, 256).withThreads(2)
                .withFlashAttn(dev.trestle.engine.runtime.FlashAttn.ON);
        EngineOptions opts = base.withCacheTypes(dev.trestle.backends.cpu.RowQuantizer.cacheType(k),
                dev.trestle.backends.cpu.RowQuantizer.cacheType(v));
        // one model per context: a model binds its attention kernels to the cache types of its last context
        try (Model m0 = Model.load(GgufFile.open(model), base); Model m1 = Model.load(GgufFile.open(model), opts);
             Model m2 = Model.load(GgufFile.open(model), opts); Context f16 = m0.newContext(base);
             Context cpu = m1.newContext(opts);
             Context gpu = m2.newContext(opts, Placement.NGL_ALL.offload(m2.config().nLayer()))) {
            Context[] all = {f16, cpu, gpu};
            for (Context c : all) {
                c.decode(Batch.ofPrompt(prompt, 0, 0));
            }
            double cpuDev = 0;
            double gpuDev = 0;
            for (int step = 0; step < ids.length; step++) {
                float[] a = f16.logits(f16.lastOutputIndex());
                float[] b = cpu.logits(cpu.lastOutputIndex());
                float[] g = gpu.logits(gpu.lastOutputIndex());
                for (int i = 0; i < a.length; i++) {
                    cpuDev = Math.max(cpuDev, Math.abs(a[i] - b[i]));
                    gpuDev = Math.max(gpuDev, Math.abs(a[i] - g[i]));
                }
                for (Context c : all) {
                    c.decode(new Batch().add(ids[step], prompt.length + step, 0, true));
                }
            }
            System.out.printf("VULKAN KV -ctk %s -ctv %s: max|dlogit| from the f16 cache: CPU %.3g, Vulkan %.3g%n", k, v,
                    cpuDev, gpuDev);
            assertTrue(cpuDev > 0, "the cache type changes the CPU run");
            assertTrue(gpuDev <= 1.5 * cpuDev + 0.03, "Vulkan strays " + gpuDev + ", the CPU " + cpuDev);
        }
    }
}
