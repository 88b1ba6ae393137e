package dev.trestle.server.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.trestle.testdata.SharedData;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

/** {@code trestle run} end to end on stories260K with token-id prompts (the text path needs the tokenizer). */
class RunCommandTest {
    private record Out(int code, String out, String err) {
    }

    private static Out run(String... args) {
        StringWriter o = new StringWriter();
        StringWriter e = new StringWriter();
        int code = Main.run(args, new PrintWriter(o, true), new PrintWriter(e, true));
        return new Out(code, o.toString(), e.toString());
    }

    private static final String STORIES = SharedData.model("stories260K.gguf").toString();

    @Test
    void greedyIdsMatchLlamaCppAndJsonCarriesTopLogits() throws Exception {
        JsonNode ref = new ObjectMapper().readTree(SharedData.reference("greedy/stories260K.json").toFile());
        Out r = run("run", "-m", STORIES, "--prompt-ids", "1,403,407,261,378,432,383,286", "-n", "16", "-t", "2",
                "-c", "256", "--json", "--top-logits", "5", "--top-steps", "2");
        assertEquals(0, r.code(), r.err());
        JsonNode j = new ObjectMapper().readTree(r.out());
        for (int i = 0; i < 16; i++) {
            assertEquals(ref.get("generated_ids").get(i).asInt(), j.get("generated_ids").get(i).asInt(), "step " + i);
        }
        assertEquals(2, j.get("logits").size());
        JsonNode top = j.get("logits").get(0).get("top");
        assertEquals(5, top.size());
        assertEquals(ref.get("top_logits").get(0).get("top").get(0).get(1).asDouble(), top.get(0).get(1).asDouble(), 0.015);
        assertTrue(r.err().contains("tokens/s"), r.err());
    }

    @Test
    void teacherIdsReportEveryStepFullVector() throws Exception {
        Out r = run("run", "-m", STORIES, "--prompt-ids", "1,403", "--teacher-ids", "407,261,378", "--json",
                "--top-logits", "0", "-c", "64", "-t", "1");
        assertEquals(0, r.code(), r.err());
        JsonNode j = new ObjectMapper().readTree(r.out());
        assertEquals("[407,261,378]", j.get("generated_ids").toString());
        assertEquals(3, j.get("logits").size());
        assertEquals(512, j.get("logits").get(2).get("top").size());
    }

    @Test
    void badInputFailsWithAFix() {
        Out tooLong = run("run", "-m", STORIES, "--prompt-ids", "1,403,407,261,378", "-n", "4", "-c", "4");
        assertNotEquals(0, tooLong.code());
        assertTrue(tooLong.err().contains("exceed the context size") && tooLong.err().contains("fix:"), tooLong.err());
        Out badType = run("run", "-m", STORIES, "--prompt-ids", "1", "-ctk", "q9_9");
        assertNotEquals(0, badType.code());
        assertTrue(badType.err().contains("q9_9") && badType.err().contains("q8_0"), badType.err());
        Out badToken = run("run", "-m", STORIES, "--prompt-ids", "1,99999", "-n", "1");
        assertNotEquals(0, badToken.code());
        assertTrue(badToken.err().contains("out of range"), badToken.err());
        Out ctx0 = run("run", "-m", STORIES, "--prompt-ids", "1,403", "-n", "2", "-c", "0");
        assertEquals(0, ctx0.code(), "-c 0 = the model's context length: " + ctx0.err());
    }
}
