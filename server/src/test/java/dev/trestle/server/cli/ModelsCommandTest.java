package dev.trestle.server.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.trestle.engine.hub.DemoModel;
import dev.trestle.engine.hub.ModelCache;
import dev.trestle.testdata.SharedData;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class ModelsCommandTest {
    @TempDir
    Path tmp;

    record Run(int code, String out, String err) {
    }

    Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = Main.commandLine(new PrintWriter(out, true), new PrintWriter(err, true));
        // keep the real user cache and token out of tests
        CommandLine models = cl.getSubcommands().get("models");
        ((ModelsCommand) models.getCommand()).env = Map.of("HF_ENDPOINT", "http://127.0.0.1:9");
        int code = cl.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void demoIsWrittenIntoTheCacheAndListed() {
        Path cache = tmp.resolve("cache");
        Run r = run("models", "--demo", "--cache-dir", cache.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("nonsense"), "says plainly the demo output is nonsense: " + r.err());
        assertTrue(r.out().contains("cache: " + cache.toAbsolutePath()), r.out());
        String sha = ModelCache.hashFile(cache.resolve("demo").resolve(DemoModel.FILE_NAME));
        String row = r.out().lines().filter(l -> l.startsWith("demo/")).findFirst().orElseThrow();
        assertTrue(row.contains(sha.substring(0, 12)) && row.contains("llama") && row.contains("F32")
                && row.contains("2048") && row.contains("CC0-1.0") && row.endsWith("demo"), row);

        // listed again without flags, from the index
        Run again = run("models", "--cache-dir", cache.toString());
        assertTrue(again.out().contains(DemoModel.FILE_NAME), again.out());
    }

    @Test
    void givenFilesAreDescribedAndJsonHasFullHashes() throws IOException {
        Path stories = SharedData.model("stories260K.gguf");
        Path q = SharedData.model("quant/llama-dense-q4_k_m.gguf");
        Run r = run("models", "--json", "--cache-dir", tmp.resolve("c").toString(), "-m", stories.toString(), q.toString());
        assertEquals(0, r.code(), r.err());
        JsonNode doc = new ObjectMapper().readTree(r.out());
        JsonNode models = doc.get("models");
        assertEquals(2, models.size());
        assertEquals(stories.toAbsolutePath().toString(), models.get(0).get("path").asText());
        assertEquals(ModelCache.hashFile(stories), models.get(0).get("sha256").asText());
        assertEquals(Files.size(stories), models.get(0).get("size").asLong());
        assertEquals("llama", models.get(0).get("architecture").asText());
        assertEquals(2048, models.get(0).get("context").asLong());
        assertEquals("local file", models.get(0).get("source").asText());
        assertEquals("Q4_K_M", models.get(1).get("quant").asText());
    }

    @Test
    void wrongModelSha256IsRefused() {
        Path stories = SharedData.model("stories260K.gguf");
        Run r = run("models", "--cache-dir", tmp.resolve("c").toString(), "-m", stories.toString(),
                "--model-sha256", "00".repeat(32));
        assertEquals(1, r.code());
        assertTrue(r.err().contains("refusing to load") && r.err().contains("fix:"), r.err());
        Run ok = run("models", "--cache-dir", tmp.resolve("c").toString(), "-m", stories.toString(),
                "--model-sha256", ModelCache.hashFile(stories));
        assertEquals(0, ok.code(), ok.err());
    }

    @Test
    void offlineWithAnUncachedRepoSaysWhatToDownload() {
        Run r = run("models", "--offline", "--cache-dir", tmp.resolve("c").toString(), "-hf", "ggml-org/gemma-3-1b-it-GGUF");
        assertEquals(1, r.code());
        assertTrue(r.err().contains("not in the model cache"), r.err());
        assertTrue(r.err().contains("fix: download it once with network: trestle models -hf ggml-org/gemma-3-1b-it-GGUF"), r.err());
    }

    @Test
    void conflictingSourcesAreAnError() {
        Run r = run("models", "--demo", "-m", "x.gguf", "--cache-dir", tmp.resolve("c").toString());
        assertEquals(1, r.code());
        assertTrue(r.err().contains("more than one model source"), r.err());
    }

    @Test
    void resolveAndReportTellsWhatTheFileClaims() {
        ModelSourceFlags flags = new ModelSourceFlags();
        new CommandLine(new Object() {
            @picocli.CommandLine.Mixin
            ModelSourceFlags f = flags;
        }).parseArgs("--demo", "--cache-dir", tmp.resolve("c").toString());
        StringWriter err = new StringWriter();
        var m = flags.resolveAndReport(Map.of(), new PrintWriter(err, true));
        assertTrue(m.isDemo());
        String log = err.toString();
        assertTrue(log.contains("*** demo model: random weights, its output is nonsense"), log);
        assertTrue(log.contains("source: --demo -> built-in demo model, sha256 " + m.sha256()), log);
        assertTrue(log.contains("claims: llama") && log.contains("chat template: present"), log);
    }
}
