package dev.trestle.engine.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.trestle.engine.gguf.GgufFile;
import dev.trestle.testdata.SharedData;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Runs every llama.cpp greedy reference through the CPU engine with the reference's settings (n_ctx 256, one
 * prompt batch, F16 KV cache, flash attention auto): greedy ids must match except at fragile steps, and,
 * teacher-forced along llama.cpp's ids, every logit must lie within the reference's suggested tolerance.
 */
class ParityTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    static Stream<Path> references() throws IOException {
        try (Stream<Path> s = Files.list(SharedData.reference("greedy"))) {
            List<Path> files = s.filter(p -> p.toString().endsWith(".json")).sorted().toList();
            return files.stream();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("references")
    void matchesLlamaCpp(Path refFile) throws IOException {
        JsonNode ref = JSON.readTree(refFile.toFile());
        Path model = SharedData.root().resolve(ref.get("model_path").asText().replaceFirst("^shared/", ""));
        int[] prompt = ints(ref.get("prompt_ids"));
        int[] expected = ints(ref.get("generated_ids"));
        double tol = ref.get("suggested_logit_tolerance_abs").asDouble();
        boolean meaningful = ref.get("notes").asText().contains("Rescaled") || !model.toString().contains("/archs/")
                && !model.toString().contains("/quant/") || model.toString().contains("rescaled")
                || model.toString().contains("gemma3");
        Set<Integer> fragile = new HashSet<>();
        ref.get("fragile_steps_noise").forEach(n -> fragile.add(n.asInt()));
        (meaningful ? ref.get("fragile_steps") : ref.get("fragile_steps_scaled")).forEach(n -> fragile.add(n.asInt()));
        JsonNode all = ref.get("logits_all_steps");

        EngineOptions opts = EngineOptions.defaults().withContext(ref.get("n_ctx").asInt()).withBatch(256, 256)
                .withThreads(2);
        try (Model m = Model.load(GgufFile.open(model), opts); Context ctx = m.newContext(opts)) {
            ctx.decode(Batch.ofPrompt(prompt, 0, 0));
            double worst = 0;
            int worstStep = -1;
            for (int step = 0; step < expected.length; step++) {
                float[] logits = ctx.logits(ctx.lastOutputIndex());
                int argmax = 0;
                for (int i = 1; i < logits.length; i++) {
                    if (logits[i] > logits[argmax]) {
                        argmax = i;
                    }
                }
                if (!fragile.contains(step)) {
                    assertEquals(expected[step], argmax, "greedy token at step " + step);
                }
                if (all != null) {
                    JsonNode row = all.get(step);
                    for (int i = 0; i < logits.length; i++) {
                        double d = Math.abs(logits[i] - row.get(i).asDouble());
                        if (d > worst) {
                            worst = d;
                            worstStep = step;
                        }
                    }
                } else {
                    for (JsonNode entry : ref.get("top_logits")) {
                        if (entry.get("step").asInt() != step) {
                            continue;
                        }
                        for (JsonNode pair : entry.get("top")) {
                        double d = Math.abs(logits[pair.get(0).asInt()] - pair.get(1).asDouble());
                            worst = Math.max(worst, d);
                        }
                    }
                }
                // teacher forcing: feed llama.cpp's token whatever our argmax was
                ctx.decode(new Batch().add(expected[step], prompt.length + step, 0, true));
            }
            System.out.printf("PARITY %-40s max|dlogit| %.3g (tol %.3g) at step %d%n", refFile.getFileName(), worst,
                    tol, worstStep);
            assertTrue(worst <= tol, "max logit difference " + worst + " at step " + worstStep + " exceeds " + tol);
        }
    }

    private static int[] ints(JsonNode a) {
        int[] r = new int[a.size()];
        for (int i = 0; i < r.length; i++) {
            r[i] = a.get(i).asInt();
        }
        return r;
    }
}
