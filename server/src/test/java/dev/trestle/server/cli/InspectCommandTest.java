package dev.trestle.server.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.trestle.testdata.SharedData;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code trestle inspect} through Main.run, on real models, vocab files and corrupt files. */
class InspectCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    private record Result(int code, String out, String err) {
    }

    private static Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Result(code, out.toString(), err.toString());
    }

    private static String field(String text, String label) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(label) + " +(.*)$").matcher(text);
        assertTrue(m.find(), "no line '" + label + "' in:\n" + text);
        return m.group(1).trim();
    }

    @Test
    void stories260kText() {
        Result r = run("inspect", SharedData.model("stories260K.gguf").toString());
        assertEquals(0, r.code(), r.err());
        assertEquals("", r.err());
        assertEquals("llama", field(r.out(), "architecture"));
        assertEquals("5", field(r.out(), "layers"));
        assertEquals("512", field(r.out(), "vocab size"));
        assertEquals("2048", field(r.out(), "context length"));
        assertEquals("64", field(r.out(), "embedding"));
        assertEquals("llama", field(r.out(), "tokenizer"));
        assertEquals("292.80 K (292800)", field(r.out(), "parameters"));
        assertTrue(field(r.out(), "file type").startsWith("(guessed) all F32"), r.out());
        assertTrue(field(r.out(), "format").contains("48 tensors, data at byte 14176"), r.out());
        // per-type summary: 48 F32 tensors, 292800 elements, 1171200 bytes
        assertTrue(Pattern.compile("(?m)^  F32 +48 +292800 +1171200 ").matcher(r.out()).find(), r.out());
        // every llama.* key, with its type
        assertTrue(Pattern.compile("(?m)^  llama\\.attention\\.head_count_kv +u32 +4$").matcher(r.out()).find(), r.out());
        assertTrue(r.out().contains("llama.attention.layer_norm_rms_epsilon"), r.out());
        assertFalse(r.out().contains("tokenizer.ggml.tokens"), "metadata is listed only with --metadata");
        assertFalse(r.out().contains("blk.0.attn_q.weight"), "tensors are listed only with --tensors");
    }

    @Test
    void stories260kJsonWithTensors() throws IOException {
        Result r = run("inspect", "--json", "--tensors", SharedData.model("stories260K.gguf").toString());
        assertEquals(0, r.code(), r.err());
        JsonNode j = JSON.readTree(r.out());
        assertEquals("llama", j.get("architecture").asText());
        assertEquals(5, j.get("block_count").asInt());
        assertEquals(512, j.get("vocab_size").asInt());
        assertEquals(2048, j.get("context_length").asInt());
        assertEquals(292800, j.get("parameters").asLong());
        assertEquals(3, j.get("gguf_version").asInt());
        assertEquals(14176, j.get("data_offset").asLong());
        assertEquals("ALL_F32", j.get("file_type").get("name").asText());
        assertEquals("(guessed) all F32", j.get("file_type").get("description").asText());
        assertTrue(j.get("file_type").get("guessed").asBoolean());
        assertEquals(1, j.get("tensor_types").size());
        assertEquals("F32", j.get("tensor_types").get(0).get("type").asText());
        assertEquals(48, j.get("tensor_types").get(0).get("count").asInt());
        assertEquals(8, j.get("hyperparameters").get("llama.attention.head_count").asInt());
        assertEquals(1e-5, j.get("hyperparameters").get("llama.attention.layer_norm_rms_epsilon").asDouble(), 1e-12);
        JsonNode tensors = j.get("tensors");
        assertEquals(48, tensors.size());
        JsonNode embd = tensors.get(0);
        assertEquals("token_embd.weight", embd.get("name").asText());
        assertEquals("F32", embd.get("type").asText());
        assertEquals("[64,512]", embd.get("shape").toString());
        assertEquals(131072, embd.get("bytes").asLong());
        assertEquals(0, embd.get("offset").asLong());
        assertEquals(14176, embd.get("file_offset").asLong());
        assertEquals("output_norm.weight", tensors.get(1).get("name").asText());
        assertEquals(131072, tensors.get(1).get("offset").asLong());
        assertFalse(j.has("metadata"));
    }

    @Test
    void quantizedFileTypeAndMixedTensorTypes() throws IOException {
        Path p = SharedData.model("quant/llama-dense-q4_k_m.gguf");
        Result text = run("inspect", p.toString());
        assertEquals(0, text.code(), text.err());
        assertEquals("Q4_K - Medium (general.file_type 15 = MOSTLY_Q4_K_M)", field(text.out(), "file type"));
        Result r = run("inspect", "--json", p.toString());
        JsonNode j = JSON.readTree(r.out());
        assertEquals(15, j.get("file_type").get("id").asInt());
        assertEquals("MOSTLY_Q4_K_M", j.get("file_type").get("name").asText());
        assertEquals("Q4_K - Medium", j.get("file_type").get("description").asText());
        assertFalse(j.get("file_type").get("guessed").asBoolean());
        // the manifest beside the file: F32 48, Q4_K 12, Q5_0 1, Q6_K 2, Q8_0 1 (ggml type id order)
        StringBuilder types = new StringBuilder();
        j.get("tensor_types").forEach(t -> types.append(t.get("type").asText()).append('=').append(t.get("count").asInt()).append(' '));
        assertEquals("F32=48 Q5_0=1 Q8_0=1 Q4_K=12 Q6_K=2 ", types.toString());
        assertEquals(128, j.get("vocab_size").asInt());
        // a 512-item array under the architecture prefix is summarized, not printed whole
        assertEquals("f32", j.get("hyperparameters").get("llama.swiglu_clamp_exp").get("element_type").asText());
        assertEquals(512, j.get("hyperparameters").get("llama.swiglu_clamp_exp").get("length").asInt());
        // u32 4294967295 stays unsigned
        assertEquals(4294967295L, j.get("hyperparameters").get("llama.pooling_type").asLong());
    }

    @Test
    void vocabOnlyFileWithMetadataNeverPrintsTheWholeVocabulary() throws IOException {
        Path p = SharedData.reference("tokenizer/ggml-vocab-gpt-2.gguf");
        Result r = run("inspect", "--metadata", p.toString());
        assertEquals(0, r.code(), r.err());
        assertEquals("50257", field(r.out(), "vocab size"));
        assertEquals("gpt2", field(r.out(), "tokenizer"));
        assertEquals("gpt2", field(r.out(), "architecture"));
        assertTrue(r.out().contains("tokenizer.ggml.tokens"), r.out());
        assertTrue(r.out().contains("arr[str,50257]"), r.out());
        assertTrue(r.out().contains("... (50257 items)]"), r.out());
        assertTrue(r.out().length() < 20_000, "output is " + r.out().length() + " chars");

        JsonNode j = JSON.readTree(run("inspect", "--json", "--metadata", p.toString()).out());
        assertEquals(50257, j.get("metadata").get("tokenizer.ggml.tokens").get("length").asInt());
        assertEquals(0, j.get("tensor_count").asInt());
        assertEquals(0, j.get("parameters").asLong());
    }

    @Test
    void edgeFilesWithoutFileTypeGetLlamaCppsGuess() {
        Result v2 = run("inspect", SharedData.model("gguf-edge/gguf-v2-f32.gguf").toString());
        assertEquals(0, v2.code(), v2.err());
        assertTrue(field(v2.out(), "format").startsWith("GGUF v2"), v2.out());
        assertEquals("-", field(v2.out(), "architecture"));
        Result q4 = run("inspect", SharedData.model("gguf-edge/gguf-v3-q4-0.gguf").toString());
        assertTrue(field(q4.out(), "file type").startsWith("(guessed) Q4_0"), q4.out());
    }

    @Test
    void corruptTruncatedAndOldFilesExitOneWithTheReason() throws IOException {
        byte[] whole = Files.readAllBytes(SharedData.model("stories260K.gguf"));
        Path cut = Files.write(tmp.resolve("cut.gguf"), Arrays.copyOf(whole, 5000));
        Result r = run("inspect", cut.toString());
        assertEquals(1, r.code());
        assertEquals("", r.out());
        assertTrue(r.err().startsWith("error: " + cut + ": invalid GGUF at byte "), r.err());
        assertTrue(r.err().contains("the file ends inside element 370 of array 'tokenizer.ggml.tokens'"), r.err());
        assertTrue(r.err().contains("\nfix: "), r.err());

        byte[] flipped = whole.clone();
        flipped[4] = 9; // version 9
        Path bad = Files.write(tmp.resolve("bad.gguf"), flipped);
        Result v = run("inspect", "--json", bad.toString());
        assertEquals(1, v.code());
        assertTrue(v.err().contains("invalid GGUF at byte 4 (0x4): GGUF version 9 is not supported"), v.err());

        Result v1 = run("inspect", SharedData.model("tinyllamas-stories-260k-f32.gguf").toString());
        assertEquals(1, v1.code());
        assertTrue(v1.err().contains("GGUF version 1 is no longer supported"), v1.err());

        Result unknown = run("inspect", SharedData.model("gguf-edge/gguf-unknown-type.gguf").toString());
        assertEquals(1, unknown.code());
        assertTrue(unknown.err().contains("unknown ggml type id 43"), unknown.err());

        Result missing = run("inspect", tmp.resolve("absent.gguf").toString());
        assertEquals(1, missing.code());
        assertTrue(missing.err().contains("model file not found"), missing.err());

        assertEquals(2, run("inspect").code(), "a missing FILE argument is a usage error");
    }

    @Test
    void tensorListingText() {
        Result r = run("inspect", "--tensors", SharedData.model("synthetic/stories260K-moe4top2-synthetic.gguf").toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(Pattern.compile("(?m)^ +\\d+  blk\\.0\\.ffn_gate_exps\\.weight +F32 +\\[64, 172, 4\\] +176128 ")
                .matcher(r.out()).find(), r.out());
        long rows = r.out().lines().filter(l -> l.matches(" +\\d+  \\S+\\.weight .*")).count();
        assertEquals(53, rows);
    }
}
