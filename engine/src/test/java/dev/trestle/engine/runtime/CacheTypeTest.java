package dev.trestle.engine.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.trestle.backends.cpu.RowQuantizer;
import dev.trestle.backends.type.GgmlType;
import dev.trestle.common.TrestleException;
import dev.trestle.engine.gguf.GgufFile;
import dev.trestle.testdata.SharedData;
import java.io.IOException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * KV cache types and the two attention paths on llama-dense-rescaled (head size 128, attention matters):
 * the plain path against llama.cpp's flash-attention-off logits, and each cache type against the F16 reference
 * within a bound that grows with the type's quantization step.
 */
class CacheTypeTest {
    private static final String REF = "greedy/llama-dense-rescaled-f16.json";

    private static double maxDiff(EngineOptions opts, String field) throws IOException {
        JsonNode ref = new ObjectMapper().readTree(SharedData.reference(REF).toFile());
        int[] prompt = new ObjectMapper().treeToValue(ref.get("prompt_ids"), int[].class);
        int[] gen = new ObjectMapper().treeToValue(ref.get("generated_ids"), int[].class);
        JsonNode all = ref.get(field);
        double worst = 0;
        try (Model m = Model.load(GgufFile.open(SharedData.model("archs/llama-dense-rescaled-f16.gguf")), opts);
             Context c = m.newContext(opts)) {
            c.decode(Batch.ofPrompt(prompt, 0, 0));
            for (int s = 0; s < gen.length; s++) {
                float[] l = c.logits(c.lastOutputIndex());
                if (s == 0) {
                    assertEquals(gen[0], Generation.argmax(l), "first greedy token");
                }
                for (int i = 0; i < l.length; i++) {
                    worst = Math.max(worst, Math.abs(l[i] - all.get(s).get(i).asDouble()));
                }
                c.decode(new Batch().add(gen[s], prompt.length + s, 0, true));
            }
        }
        return worst;
    }

    private static EngineOptions base() {
        return EngineOptions.defaults().withContext(256).withBatch(256, 256).withThreads(2);
    }

    @Test
    void plainAttentionMatchesLlamaCppFlashAttentionOff() throws IOException {
        JsonNode ref = new ObjectMapper().readTree(SharedData.reference(REF).toFile());
        double tol = ref.get("suggested_logit_tolerance_abs").asDouble();
        double d = maxDiff(base().withFlashAttn(FlashAttn.OFF), "logits_all_steps_fa_off");
        System.out.printf("CACHE fa=off vs llama.cpp fa=off: %.3g%n", d);
        assertTrue(d <= tol, "fa off: " + d + " > " + tol);
    }

    @ParameterizedTest(name = "-ctk {0} -ctv {1}")
    @CsvSource({"f32,f32,0.03", "bf16,bf16,0.3", "q8_0,q8_0,0.3", "q5_1,q5_0,1.5", "q4_0,q4_1,3.0", "f16,q8_0,0.3"})
    void quantizedCachesStayNearTheF16Reference(String k, String v, double bound) throws IOException {
        EngineOptions opts = base().withCacheTypes(RowQuantizer.cacheType(k), RowQuantizer.cacheType(v));
        double d = maxDiff(opts, "logits_all_steps");
        System.out.printf("CACHE -ctk %s -ctv %s: max |dlogit| %.3g (bound %.3g)%n", k, v, d, bound);
        assertTrue(d <= bound, k + "/" + v + ": " + d + " > " + bound);
    }

    @Test
    void quantizedVNeedsFlashAttention() {
        EngineOptions opts = base().withFlashAttn(FlashAttn.OFF).withCacheTypes(GgmlType.F16, GgmlType.Q8_0);
        try (Model m = Model.load(GgufFile.open(SharedData.model("archs/llama-dense-rescaled-f16.gguf")), opts)) {
            TrestleException e = assertThrows(TrestleException.class, () -> m.newContext(opts));
            assertTrue(e.getMessage().contains("flash attention"), e.getMessage());
        }
    }
}
