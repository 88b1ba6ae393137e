package dev.trestle.engine.cuda;

import dev.trestle.engine.gguf.GgufFile;
import dev.trestle.engine.runtime.Context;
import dev.trestle.engine.runtime.EngineOptions;
import dev.trestle.engine.runtime.Model;
import dev.trestle.engine.runtime.Offload;
import dev.trestle.engine.runtime.ReferenceCase;
import dev.trestle.nativ.cuda.CudaDriver;
import dev.trestle.scheduler.device.DeviceKind;
import java.io.IOException;
import java.util.stream.Stream;
import org.junit.jupiter.api.condition.EnabledIf;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The llama.cpp greedy references (../shared/reference/greedy) on the CUDA backend: every layer on the GPU
 * ({@code -ngl 99}), mixed CPU/GPU ({@code -ngl 2}), and a layer split over two logical GPUs
 * ({@code --tensor-split 60,40}; two contexts on the same GPU stand in for two, exercising the split code),
 * with F16 and quantized KV caches; row split ({@code -sm row -ts 60,40}) over the same GPU opened twice;
 * GPU-to-GPU copies forced through pinned host memory; CUDA graphs off. MoE models keep their experts on the CPU ({@code --n-cpu-moe}). Greedy
 * ids must match except at fragile steps, and, teacher-forced along llama.cpp's ids, the logits must stay
 * within the reference's tolerance. Runs on a machine with an NVIDIA GPU (scripts/gpu-check.sh).
 */
@EnabledIf("dev.trestle.engine.cuda.CudaParityTest#gpuPresent")
class CudaParityTest {
    /** A placement under test, by the flags it stands for. */
    enum Placement {
        NGL_ALL("-ngl 99"), NGL_2("-ngl 2"), SPLIT_60_40("-ngl 99 -ts 60,40"), N_CPU_MOE_1("-ngl 99 --n-cpu-moe 1"),
        ROW_60_40("-ngl 99 -sm row -ts 60,40"),
        ROW_60_40_HOST("-ngl 99 -sm row -ts 60,40 (copies via host)", "trestle.cuda.p2p", "host"),
        SPLIT_60_40_HOST("-ngl 99 -ts 60,40 (copies via host)", "trestle.cuda.p2p", "host"),
        NGL_ALL_NO_GRAPHS("-ngl 99 (no CUDA graphs)", "trestle.cuda.graphs", "false"),
        N_CPU_MOE_1_STREAM("-ngl 99 --n-cpu-moe 1 (experts streamed for 2+ tokens)");

        final String flags;
        final String property;   // a system property the placement sets while its context is built, or null
        final String value;

        Placement(String flags) {
            this(flags, null, null);
        }

        Placement(String flags, String property, String value) {
            this.flags = flags;
            this.property = property;
            this.value = value;
        }

        Offload offload(int nLayer) {
            Offload o = switch (this) {
                case NGL_ALL, NGL_ALL_NO_GRAPHS -> Offload.layers(nLayer, 99, new int[] {0}, null);
                case NGL_2 -> Offload.layers(nLayer, 2, new int[] {0}, null);
                case SPLIT_60_40, SPLIT_60_40_HOST -> Offload.layers(nLayer, 99, new int[] {0, 0}, new double[] {60, 40});
                case N_CPU_MOE_1 -> Offload.layers(nLayer, 99, new int[] {0}, null, 1);
                case N_CPU_MOE_1_STREAM -> Offload.layers(nLayer, 99, new int[] {0}, null, 1).withStreamExpertsFrom(2);
                case ROW_60_40, ROW_60_40_HOST -> Offload.rows(nLayer, 99, new int[] {0, 0}, new double[] {60, 40}, 0);
            };
            return o.on(DeviceKind.CUDA);
        }
    }

    static Stream<Arguments> cases() {
        Stream.Builder<Arguments> s = Stream.builder();
        for (Placement p : Placement.values()) {
            s.add(Arguments.of("stories260K.json", p));
        }
        for (String f : new String[] {"llama-dense-rescaled-f16.json", "qwen3-dense-rescaled-f16.json",
                "phi3-dense-rescaled-f16.json", "gemma3-dense-rescaled-f16.json", "llama-2-tiny-random.json",
                "llama-dense-rescaled-q8_0.json", "llama-dense-rescaled-q4_k_m.json",
                "stories260K-moe4top2-synthetic.json", "qwen3moe-moe-rescaled-f16.json"}) {
            s.add(Arguments.of(f, Placement.NGL_ALL));
        }
        s.add(Arguments.of("qwen3-dense-rescaled-f16.json", Placement.SPLIT_60_40));
        s.add(Arguments.of("gemma3-dense-rescaled-f16.json", Placement.NGL_2));
        s.add(Arguments.of("llama-dense-rescaled-q4_k_m.json", Placement.SPLIT_60_40));
        s.add(Arguments.of("qwen3moe-moe-rescaled-f16.json", Placement.N_CPU_MOE_1));
        s.add(Arguments.of("stories260K-moe4top2-synthetic.json", Placement.N_CPU_MOE_1));
        s.add(Arguments.of("qwen3-dense-rescaled-f16.json", Placement.ROW_60_40));
        s.add(Arguments.of("llama-dense-rescaled-q4_k_m.json", Placement.ROW_60_40));
        s.add(Arguments.of("phi3-dense-rescaled-f16.json", Placement.ROW_60_40));
        s.add(Arguments.of("qwen3moe-moe-rescaled-f16.json", Placement.ROW_60_40));
        s.add(Arguments.of("llama-dense-rescaled-q8_0.json", Placement.ROW_60_40_HOST));
        s.add(Arguments.of("qwen3-dense-rescaled-f16.json", Placement.SPLIT_60_40_HOST));
        s.add(Arguments.of("llama-dense-rescaled-q4_k_m.json", Placement.NGL_ALL_NO_GRAPHS));
        s.add(Arguments.of("qwen3moe-moe-rescaled-f16.json", Placement.NGL_ALL_NO_GRAPHS));
        s.add(Arguments.of("qwen3moe-moe-rescaled-f16.json", Placement.N_CPU_MOE_1_STREAM));
        s.add(Arguments.of("stories260K-moe4top2-synthetic.json", Placement.N_CPU_MOE_1_STREAM));
        return s.build();
    }

    static boolean gpuPresent() {
        return CudaDriver.unavailableReason() == null && CudaDriver.load().deviceGetCount() > 0;
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void matchesLlamaCpp(String name, Placement placement) throws IOException {
        ReferenceCase ref = ReferenceCase.greedy(name);
        EngineOptions opts = ref.options();
        String saved = placement.property == null ? null : System.getProperty(placement.property);
        if (placement.property != null) {
            System.setProperty(placement.property, placement.value);
        }
        try (Model m = Model.load(GgufFile.open(ref.model()), opts);
             Context ctx = m.newContext(opts, placement.offload(m.config().nLayer()))) {
            ref.assertParity(ctx, ref.fragileSteps(),
                    String.format("CUDA PARITY %-38s %-18s", name, placement.flags));
        } finally {
            if (placement.property != null) {
                if (saved == null) {
                    System.clearProperty(placement.property);
                } else {
                    System.setProperty(placement.property, saved);
                }
            }
        }
    }
}
