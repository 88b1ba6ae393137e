package dev.trestle.engine.runtime;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.trestle.engine.gguf.GgufFile;
import dev.trestle.testdata.SharedData;
import org.junit.jupiter.api.Test;

class DebugDiffTest {
    @Test
    void diffs() throws Exception {
        for (String name : System.getenv().getOrDefault("DBG_REF", "stories260K").split(",")) {
        String fa = System.getenv().getOrDefault("DBG_FA", "on");
        JsonNode ref = new ObjectMapper().readTree(SharedData.reference("greedy/" + name + ".json").toFile());
        var model = SharedData.root().resolve(ref.get("model_path").asText().replaceFirst("^shared/", ""));
        int[] prompt = new ObjectMapper().treeToValue(ref.get("prompt_ids"), int[].class);
        int[] gen = new ObjectMapper().treeToValue(ref.get("generated_ids"), int[].class);
        EngineOptions o = EngineOptions.defaults().withContext(256).withBatch(256, 256).withThreads(2)
                .withFlashAttn(FlashAttn.parse(fa));
        StringBuilder sb = new StringBuilder("DIFF " + name + ":");
        try (Model m = Model.load(GgufFile.open(model), o); Context c = m.newContext(o)) {
            c.decode(Batch.ofPrompt(prompt, 0, 0));
            for (int s = 0; s < gen.length; s++) {
                float[] l = c.logits(c.lastOutputIndex());
                double on = 0;
                for (int i = 0; i < l.length; i++) {
                    on = Math.max(on, Math.abs(l[i] - ref.get("logits_all_steps").get(s).get(i).asDouble()));
                }
                sb.append(String.format(" %.1e", on));
                c.decode(new Batch().add(gen[s], prompt.length + s, 0, true));
            }
        }
        System.out.println(sb);
        }
    }
}
