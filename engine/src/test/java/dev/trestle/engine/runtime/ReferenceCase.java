package dev.trestle.engine.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.trestle.testdata.SharedData;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;

/**
 * One llama.cpp greedy reference (../shared/reference/greedy/*.json) and the parity check every backend runs
 * against it: greedy ids must match except at fragile steps, and, teacher-forced along llama.cpp's ids, the
 * logits must stay within the reference's suggested tolerance.
 */
public final class ReferenceCase {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final JsonNode ref;
    private final Path model;
    private final int[] prompt;
    private final int[] expected;
    private final double tolerance;

    private ReferenceCase(JsonNode ref) {
        this.ref = ref;
        this.model = SharedData.root().resolve(ref.get("model_path").asText().replaceFirst("^shared/", ""));
        this.prompt = ints(ref.get("prompt_ids"));
        this.expected = ints(ref.get("generated_ids"));
        this.tolerance = ref.get("suggested_logit_tolerance_abs").asDouble();
    }

    /** Reads a reference file. */
    public static ReferenceCase load(Path refFile) throws IOException {
        return new ReferenceCase(JSON.readTree(refFile.toFile()));
    }

    /** Reads a reference by its file name under greedy/. */
    public static ReferenceCase greedy(String name) throws IOException {
        return load(SharedData.reference("greedy/" + name));
    }

    public Path model() {
        return model;
    }

    public int[] prompt() {
        return prompt;
    }

    public int[] expected() {
        return expected;
    }

    public int nCtx() {
        return ref.get("n_ctx").asInt();
    }

    /** The engine options of the reference run: its n_ctx, one prompt batch, two threads. */
    public EngineOptions options() {
        return EngineOptions.defaults().withContext(nCtx()).withBatch(256, 256).withThreads(2);
    }

    /**
     * Whether the model's logits carry meaning (a trained or rescaled model) rather than the near-ties of a
     * random tiny one, whose argmax llama.cpp's own rescaled run flags in fragile_steps_scaled.
     */
    public boolean meaningful() {
        String path = model.toString();
        return ref.get("notes").asText().contains("Rescaled") || !path.contains("/archs/")
                && !path.contains("/quant/") || path.contains("rescaled") || path.contains("gemma3");
    }

    /** The noise-fragile steps plus those of the named list (fragile_steps or fragile_steps_scaled). */
    public Set<Integer> fragileSteps(String list) {
        Set<Integer> fragile = new HashSet<>();
        ref.get("fragile_steps_noise").forEach(n -> fragile.add(n.asInt()));
        ref.get(list).forEach(n -> fragile.add(n.asInt()));
        return fragile;
    }

    /** The noise-fragile steps plus fragile_steps. */
    public Set<Integer> fragileSteps() {
        return fragileSteps("fragile_steps");
    }

    /**
     * Decodes the prompt in ctx, then walks the reference's steps feeding llama.cpp's token whatever our argmax
     * was: asserts the greedy id at every step not in fragile and the largest logit difference against the
     * tolerance, printing it after label.
     */
    public void assertParity(Context ctx, Set<Integer> fragile, String label) {
        JsonNode all = ref.get("logits_all_steps");
        ctx.decode(Batch.ofPrompt(prompt, 0, 0));
        double worst = 0;
        int worstStep = -1;
        for (int step = 0; step < expected.length; step++) {
            float[] logits = ctx.logits(ctx.lastOutputIndex());
            if (!fragile.contains(step)) {
                assertEquals(expected[step], argmax(logits), "greedy token at step " + step);
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
                    if (entry.get("step").asInt() == step) {
                        for (JsonNode pair : entry.get("top")) {
                            worst = Math.max(worst, Math.abs(logits[pair.get(0).asInt()] - pair.get(1).asDouble()));
                        }
                    }
                }
            }
            ctx.decode(new Batch().add(expected[step], prompt.length + step, 0, true));
        }
        System.out.printf("%s max|dlogit| %.3g (tol %.3g) at step %d%n", label, worst, tolerance, worstStep);
        assertTrue(worst <= tolerance,
                "max logit difference " + worst + " at step " + worstStep + " exceeds " + tolerance);
    }

    /** The first index of the largest value. */
    public static int argmax(float[] x) {
        int best = 0;
        for (int i = 1; i < x.length; i++) {
            if (x[i] > x[best]) {
                best = i;
            }
        }
        return best;
    }

    private static int[] ints(JsonNode a) {
        int[] r = new int[a.size()];
        for (int i = 0; i < r.length; i++) {
            r[i] = a.get(i).asInt();
        }
        return r;
    }
}
