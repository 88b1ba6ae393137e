package dev.trestle.engine.gguf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.trestle.backends.type.GgmlType;
import dev.trestle.testdata.SharedData;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** GgufSummary and llama.cpp's file type names, checked against the manifests beside the models. */
class GgufSummaryTest {

    @Test
    void stories260k() {
        try (GgufFile f = GgufFile.open(SharedData.model("stories260K.gguf"))) {
            GgufSummary s = GgufSummary.of(f);
            assertEquals("llama", s.architecture());
            assertEquals("llama", s.name());
            assertEquals(292_800, s.parameterCount());
            assertEquals(5, s.blockCount().getAsLong());
            assertEquals(2048, s.contextLength().getAsLong());
            assertEquals(64, s.embeddingLength().getAsLong());
            assertEquals(512, s.vocabSize().getAsLong());
            assertEquals("llama", s.tokenizerModel());
            assertEquals(List.of(new GgufSummary.TypeCount(GgmlType.F32, 48, 292_800, 1_171_200)), s.tensorTypes());
            // no general.file_type: llama.cpp guesses from the most common tensor type
            assertTrue(s.fileTypeGuessed());
            assertEquals(GgufFileType.ALL_F32, s.fileType().orElseThrow());
            assertEquals("(guessed) all F32", s.fileTypeDescription());
            assertEquals(32.0, s.bitsPerWeight(), 1e-9);
            assertEquals(List.of("llama.context_length", "llama.embedding_length", "llama.feed_forward_length",
                    "llama.attention.head_count", "llama.attention.head_count_kv", "llama.block_count",
                    "llama.rope.dimension_count", "llama.attention.layer_norm_rms_epsilon"),
                    List.copyOf(s.hyperparameters().keySet()));
            assertEquals("292.80 K", GgufSummary.humanCount(s.parameterCount()));
            assertEquals("1.13 MiB", GgufSummary.humanBytes(s.fileSize()));
        }
    }

    @Test
    void everyManifestModel() throws IOException {
        ObjectMapper json = new ObjectMapper();
        Map<Long, String> names = Map.of(1L, "F16", 7L, "Q8_0", 15L, "Q4_K - Medium");
        for (Path dir : List.of(SharedData.model("archs"), SharedData.model("quant"), SharedData.reference("tokenizer"))) {
            for (JsonNode e : json.readTree(dir.resolve("manifest.json").toFile())) {
                try (GgufFile f = GgufFile.open(dir.resolve(e.get("file").asText()))) {
                    GgufSummary s = GgufSummary.of(f);
                    long ft = e.get("general.file_type").asLong();
                    assertEquals(ft, s.fileTypeId());
                    assertFalse(s.fileTypeGuessed());
                    assertEquals(names.get(ft), s.fileTypeDescription(), e.get("file").asText());
                    Map<String, Integer> counts = new TreeMap<>();
                    long elements = 0;
                    for (GgufSummary.TypeCount t : s.tensorTypes()) {
                        counts.put(t.type().name(), t.count());
                        elements += t.elements();
                    }
                    Map<String, Integer> expected = new TreeMap<>();
                    e.get("tensor_type_counts").fields().forEachRemaining(x -> expected.put(x.getKey(), x.getValue().asInt()));
                    assertEquals(expected, counts, e.get("file").asText());
                    assertEquals(elements, s.parameterCount());
                    assertEquals(e.get("n_tensors").asInt(), s.tensorCount());
                    if (e.has("n_tokens")) {
                        assertEquals(e.get("n_tokens").asLong(), s.vocabSize().getAsLong());
                    } else if (e.has("tensor_shapes_ne")) {
                        // no_vocab models: the vocabulary is the embedding's row count
                        assertEquals(e.get("tensor_shapes_ne").get("token_embd.weight").get(1).asLong(),
                                s.vocabSize().getAsLong(), e.get("file").asText());
                    }
                    for (String k : s.hyperparameters().keySet()) {
                        assertTrue(k.startsWith(s.architecture() + "."), k);
                    }
                }
            }
        }
    }

    @Test
    void edgeFilesGuessTheirFileType() {
        try (GgufFile f = GgufFile.open(SharedData.model("gguf-edge/gguf-v3-q4-0.gguf"))) {
            GgufSummary s = GgufSummary.of(f);
            assertEquals("(guessed) Q4_0", s.fileTypeDescription());
            assertNull(s.architecture());
            assertTrue(s.hyperparameters().isEmpty());
            assertTrue(s.vocabSize().isEmpty());
            assertEquals(4.5, s.bitsPerWeight(), 1e-9);
        }
    }

    @Test
    void llamaCppFileTypeNames() {
        assertEquals("all F32", GgufFileType.describe(0));
        assertEquals("Q4_K - Medium", GgufFileType.describe(15));
        assertEquals("MOSTLY_Q4_K_M", GgufFileType.fromId(15).name());
        assertEquals("IQ3_S mix - 3.66 bpw", GgufFileType.describe(27));
        assertEquals("BF16", GgufFileType.describe(32));
        assertEquals("MXFP4 MoE", GgufFileType.describe(38));
        assertEquals("(guessed) Q4_K - Medium", GgufFileType.describe(15 | GgufFileType.GUESSED));
        for (long removed : new long[] {4, 5, 6, 33, 34, 35, 99}) {
            assertEquals("unknown, may not work", GgufFileType.describe(removed));
        }
        assertEquals(GgufFileType.MOSTLY_Q3_K_M, GgufFileType.guessFrom(GgmlType.Q3_K));
        assertEquals(GgufFileType.ALL_F32, GgufFileType.guessFrom(GgmlType.MXFP4));
        for (GgufFileType t : GgufFileType.values()) {
            assertEquals(t, GgufFileType.fromId(t.id()));
        }
    }

    @Test
    void humanUnits() {
        assertEquals("999.00 K", GgufSummary.humanCount(999_000));
        assertEquals("7.24 B", GgufSummary.humanCount(7_241_732_096L));
        assertEquals("1.00 T", GgufSummary.humanCount(1_000_000_000_000L));
        assertEquals("512 B", GgufSummary.humanBytes(512));
        assertEquals("4.00 GiB", GgufSummary.humanBytes(4L << 30));
    }
}
