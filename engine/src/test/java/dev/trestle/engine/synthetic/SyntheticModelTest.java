package dev.trestle.engine.synthetic;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.trestle.backends.type.GgmlType;
import dev.trestle.common.TrestleException;
import dev.trestle.engine.gguf.GgufFile;
import dev.trestle.engine.gguf.GgufTensorInfo;
import dev.trestle.engine.runtime.Batch;
import dev.trestle.engine.runtime.Context;
import dev.trestle.engine.runtime.EngineOptions;
import dev.trestle.engine.runtime.Model;
import dev.trestle.engine.synthetic.QuantMix.Role;
import dev.trestle.testdata.SharedData;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Synthetic models: llama-quantize's type choices, real shapes, files that load and run. */
class SyntheticModelTest {

    /** Every weight matrix of a file quantized by llama.cpp gets the type our mix picks for it. */
    @ParameterizedTest
    @CsvSource({
        "quant/llama-dense-q4_k_m.gguf, Q4_K_M",
        "quant/llama-dense-q8_0.gguf, Q8_0",
        "quant/qwen3moe-moe-q4_k_m.gguf, Q4_K_M",
        "quant/qwen3moe-moe-q8_0.gguf, Q8_0",
    })
    void mixMatchesLlamaQuantize(String file, String fileType) {
        QuantMix mix = QuantMix.of(fileType);
        try (GgufFile f = GgufFile.open(SharedData.model(file))) {
            int nLayer = f.metadata().getInt(f.metadata().architecture() + ".block_count");
            boolean tied = f.tensor("output.weight") == null;
            int checked = 0;
            for (GgufTensorInfo t : f.tensors().values()) {
                Role role = Role.ofTensorName(t.name());
                if (t.rank() < 2 || role == Role.OTHER) {
                    continue;
                }
                int layer = t.name().startsWith("blk.") ? Integer.parseInt(t.name().split("\\.")[1]) : 0;
                assertEquals(t.type(), mix.typeOf(role, layer, nLayer, t.dim(0), tied), t.name());
                checked++;
            }
            assertTrue(checked >= 16, "checked " + checked);
            assertEquals(mix.fileType().id(), f.metadata().getInt("general.file_type"));
        }
    }

    @Test
    void llama1BQ4KMixHasLlamaCppsSixBitLayers() {
        QuantMix mix = QuantMix.of("Q4_K_M");
        // tied embeddings take the output matrix's Q6_K; attn_v/ffn_down get Q6_K on llama.cpp's "more bits" layers
        assertEquals(GgmlType.Q6_K, mix.typeOf(Role.TOKEN_EMBD, 0, 16, 2048, true));
        assertEquals(GgmlType.Q4_K, mix.typeOf(Role.TOKEN_EMBD, 0, 16, 2048, false));
        int six = 0;
        for (int l = 0; l < 16; l++) {
            six += mix.typeOf(Role.FFN_DOWN, l, 16, 8192, true) == GgmlType.Q6_K ? 1 : 0;
            assertEquals(mix.typeOf(Role.FFN_DOWN, l, 16, 8192, true), mix.typeOf(Role.ATTN_V, l, 16, 2048, true));
        }
        assertEquals(8, six); // layers 0,1,4,7,10,13,14,15
        assertEquals(GgmlType.Q8_0, QuantMix.of("Q8_0").typeOf(Role.OUTPUT, 0, 16, 2048, false));
        assertEquals(GgmlType.Q6_K, QuantMix.of("Q4_0").typeOf(Role.TOKEN_EMBD, 0, 16, 2048, true));
    }

    @Test
    void specsParseShapesAndOverrides() {
        SyntheticSpec s = SyntheticSpec.parse("qwen3moe:30B-A3B:Q4_K_M:16L:32E");
        assertEquals(16, s.shape().nLayer());
        assertEquals(32, s.shape().nExpert());
        assertEquals(8, s.shape().nExpertUsed());
        assertEquals(151936, s.shape().nVocab());
        assertEquals("synthetic-qwen3moe-30B-A3B-16L-32E-Q4_K_M-v" + SyntheticModel.FORMAT_VERSION + ".gguf",
                s.fileName());
        SyntheticSpec l = SyntheticSpec.parse("llama:1B");
        assertEquals("Q4_0", l.mix().label());
        assertEquals(1_235_814_400L, l.shape().nParams()); // Llama-3.2-1B's weight count
        assertThrows(TrestleException.class, () -> SyntheticSpec.parse("llama:7Q"));
        assertThrows(TrestleException.class, () -> SyntheticSpec.parse("llama:1B:Q4_0:8E"));
        assertThrows(TrestleException.class, () -> SyntheticSpec.parse("llama:1B:IQ9"));
        assertThrows(TrestleException.class, () -> SyntheticSpec.parse("llama"));
    }

    @ParameterizedTest
    @CsvSource({"llama:tiny:Q4_K_M", "qwen3moe:tiny:Q4_0"})
    void writtenFileHasTheShapeAndRuns(String text, @TempDir Path dir) {
        SyntheticSpec spec = SyntheticSpec.parse(text);
        Path p = SyntheticModel.ensure(spec, dir);
        assertEquals(spec.fileName(), p.getFileName().toString());
        long written = p.toFile().lastModified();
        assertEquals(p, SyntheticModel.ensure(spec, dir)); // cached: not written again
        assertEquals(written, p.toFile().lastModified());
        SyntheticShape s = spec.shape();
        try (Model m = Model.load(GgufFile.open(p), EngineOptions.defaults())) {
            GgufFile f = m.file();
            // llama.cpp takes n_vocab from the tokenizer: it must equal token_embd's rows
            assertEquals(f.tensor("token_embd.weight").dim(1), f.metadata().getStringArray("tokenizer.ggml.tokens").length);
            long params = f.tensors().values().stream().mapToLong(GgufTensorInfo::elements).sum();
            assertEquals(s.nParams(), params);
            for (GgufTensorInfo t : f.tensors().values()) {
                Role role = Role.ofTensorName(t.name());
                int layer = t.name().startsWith("blk.") ? Integer.parseInt(t.name().split("\\.")[1]) : 0;
                GgmlType want = t.rank() < 2 ? GgmlType.F32 : spec.mix().typeOf(role, layer, s.nLayer(), t.dim(0), s.tiedEmbd());
                assertEquals(want, t.type(), t.name());
            }
            EngineOptions o = EngineOptions.defaults().withContext(64).withThreads(1);
            try (Context c = m.newContext(o)) {
                c.decode(Batch.ofPrompt(new int[] {1, 300, 17, 400}, 0, 0));
                float[] logits = c.logits(c.lastOutputIndex());
                assertEquals(s.nVocab(), logits.length);
                for (float x : logits) {
                    assertTrue(Float.isFinite(x), "finite logits");
                }
            }
        }
        assertTrue(Files.isRegularFile(p));
    }
}
