package dev.trestle.server.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.trestle.testdata.SharedData;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code trestle bench} on stories260K with tiny tests: llama-bench's table, CSV and JSON field names. */
class BenchCommandTest {
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
    void markdownHasLlamaBenchColumnsAndOneRowPerTest() {
        Out r = run("bench", "-m", STORIES, "-p", "8", "-n", "4", "-r", "2", "-t", "1");
        assertEquals(0, r.code(), r.err());
        String[] lines = r.out().split("\n");
        assertTrue(lines[0].matches("\\| model +\\| +size \\| +params \\| backend +\\| threads \\| +test \\| +t/s \\|"),
                lines[0]);
        assertTrue(lines[1].startsWith("| ---"), lines[1]);
        assertTrue(lines[2].matches("\\| llama .*\\| +1\\.12 MiB \\| +0\\.29 M \\| CPU +\\| +1 \\| +pp8 \\| +[0-9.]+ ± [0-9.]+ \\|"),
                lines[2]);
        assertTrue(lines[3].contains(" tg4 |"), lines[3]);
        assertTrue(r.out().contains("build: trestle"), r.out());
    }

    @Test
    void jsonRecordsCarryLlamaBenchFieldsAndConsistentStatistics() throws Exception {
        Out r = run("bench", "-m", STORIES, "-p", "8,16", "-n", "4", "-pg", "8,4", "-r", "3", "-t", "1,2",
                "-ctk", "bf16", "-fa", "on", "-o", "json");
        assertEquals(0, r.code(), r.err());
        JsonNode arr = new ObjectMapper().readTree(r.out());
        assertEquals(8, arr.size()); // 2 thread counts x (pp8, pp16, tg4, pp8+tg4)
        List<String> expected = new ArrayList<>(BenchResult.FIELDS);
        expected.add("samples_ns");
        expected.add("samples_ts");
        long params = 0;
        long bytes = 0;
        try (var f = dev.trestle.engine.gguf.GgufFile.open(Path.of(STORIES))) {
            for (var t : f.tensors().values()) {
                params += t.elements();
                bytes += t.bytes();
            }
        }
        for (JsonNode o : arr) {
            List<String> names = new ArrayList<>();
            for (Iterator<String> it = o.fieldNames(); it.hasNext(); ) {
                names.add(it.next());
            }
            assertEquals(expected, names);
            assertEquals(STORIES, o.get("model_filename").asText());
            assertEquals(params, o.get("model_n_params").asLong());
            assertEquals(bytes, o.get("model_size").asLong());
            assertEquals("bf16", o.get("type_k").asText());
            assertEquals("f16", o.get("type_v").asText());
            assertEquals(1, o.get("flash_attn").asInt());
            assertEquals(3, o.get("samples_ns").size());
            assertEquals(3, o.get("samples_ts").size());
            double tokens = o.get("n_prompt").asInt() + o.get("n_gen").asInt();
            double sum = 0;
            for (int i = 0; i < 3; i++) {
                double ts = o.get("samples_ts").get(i).asDouble();
                assertEquals(tokens * 1e9 / o.get("samples_ns").get(i).asDouble(), ts, ts * 1e-9);
                sum += ts;
            }
            assertEquals(sum / 3, o.get("avg_ts").asDouble(), 1e-6 * sum);
            assertTrue(o.get("stddev_ts").asDouble() >= 0);
        }
        assertEquals("1", arr.get(0).get("n_threads").asText());
        assertEquals("2", arr.get(7).get("n_threads").asText());
        assertEquals(8, arr.get(3).get("n_prompt").asInt());
        assertEquals(4, arr.get(3).get("n_gen").asInt());
    }

    @Test
    void jsonlAndCsvPrintOneRecordPerTest() throws Exception {
        Out j = run("bench", "-m", STORIES, "-p", "8", "-n", "0", "-r", "1", "-t", "1", "-o", "jsonl");
        assertEquals(0, j.code(), j.err());
        String[] lines = j.out().strip().split("\n");
        assertEquals(1, lines.length);
        JsonNode o = new ObjectMapper().readTree(lines[0]);
        assertEquals(8, o.get("n_prompt").asInt());
        assertEquals(0, o.get("n_gen").asInt());

        Out c = run("bench", "-m", STORIES, "-p", "0", "-n", "3", "-r", "1", "-t", "1", "-o", "csv");
        assertEquals(0, c.code(), c.err());
        String[] rows = c.out().strip().split("\n");
        assertEquals(2, rows.length);
        assertEquals(String.join(",", BenchResult.FIELDS), rows[0]);
        assertEquals(BenchResult.FIELDS.size(), rows[1].split("\",\"").length);
        assertTrue(rows[1].contains("\"3\",\"0\",\""), rows[1]); // n_gen 3, n_depth 0
    }

    @Test
    void syntheticModelIsWrittenOnceAndBenchmarked(@TempDir Path dir) throws Exception {
        Out r = run("bench", "--synthetic", "llama:tiny:Q4_K_M", "--cache-dir", dir.toString(), "-p", "4", "-n", "2",
                "-r", "1", "-t", "1", "-o", "jsonl");
        assertEquals(0, r.code(), r.err());
        JsonNode o = new ObjectMapper().readTree(r.out().strip());
        assertTrue(o.get("model_type").asText().startsWith("llama ") && o.get("model_type").asText().endsWith("Q4_K - Medium"),
                o.get("model_type").asText());
        Path file = Path.of(o.get("model_filename").asText());
        assertEquals(dir, file.getParent());
        assertTrue(Files.isRegularFile(file));
        assertTrue(r.err().contains("writing synthetic model"), r.err());
        Out again = run("bench", "--synthetic", "llama:tiny:Q4_K_M", "--cache-dir", dir.toString(), "-p", "4", "-n", "0",
                "-r", "1", "-t", "1", "-o", "jsonl");
        assertEquals(0, again.code(), again.err());
        assertTrue(!again.err().contains("writing synthetic model"), again.err());
    }

    @Test
    void badFlagsFailWithAFix() {
        Out fmt = run("bench", "-m", STORIES, "-o", "xml");
        assertNotEquals(0, fmt.code());
        assertTrue(fmt.err().contains("-o xml") && fmt.err().contains("fix:"), fmt.err());
        Out syn = run("bench", "--synthetic", "mamba:1B");
        assertNotEquals(0, syn.code());
        assertTrue(syn.err().contains("no synthetic shape") && syn.err().contains("llama:1B"), syn.err());
        Out none = run("bench");
        assertNotEquals(0, none.code());
        assertTrue(none.err().contains("no model given"), none.err());
        Out pg = run("bench", "-m", STORIES, "-pg", "8");
        assertNotEquals(0, pg.code());
        assertTrue(pg.err().contains("-pg 8"), pg.err());
    }
}
