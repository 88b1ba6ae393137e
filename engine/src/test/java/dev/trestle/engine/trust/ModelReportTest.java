package dev.trestle.engine.trust;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.trestle.backends.type.GgmlType;
import dev.trestle.engine.gguf.GgufFile;
import dev.trestle.engine.gguf.GgufFormatException;
import dev.trestle.engine.gguf.GgufValue;
import dev.trestle.engine.gguf.GgufWriter;
import dev.trestle.testdata.SharedData;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelReportTest {
    @TempDir
    Path tmp;

    @Test
    void reportsWhatStories260KClaims() {
        ModelReport r = ModelReport.read(SharedData.model("stories260K.gguf"));
        assertEquals("llama", r.architecture());
        assertEquals(2048, r.contextLength());
        assertEquals("llama", r.tokenizer());
        assertEquals(512, r.vocabSize());
        assertEquals(48, r.tensorCount());
        assertEquals(List.of(GgmlType.F32), List.copyOf(r.typeBytes().keySet()));
        assertEquals(List.of(), r.warnings(), "the u32 -1 'no token' ids are not out of range");
        String text = String.join("\n", r.lines());
        assertTrue(text.contains("claims: llama"), text);
        assertTrue(text.contains("context: 2048; tokenizer: llama, 512 tokens; chat template: absent"), text);
    }

    @Test
    void namesTheQuantAndMix() {
        ModelReport q = ModelReport.read(SharedData.model("quant/llama-dense-q4_k_m.gguf"));
        assertEquals("Q4_K_M", q.quant());
        assertTrue(q.quantMix().startsWith("Q"), q.quantMix());
        assertTrue(q.quantMix().contains("%"), q.quantMix());
        assertEquals("F16", ModelReport.read(SharedData.model("archs/llama-dense-f16.gguf")).quant());
    }

    @Test
    void warnsAboutSuspiciousMetadata() throws IOException {
        Path p = tmp.resolve("odd.gguf");
        GgufWriter w = new GgufWriter();
        w.putString("general.architecture", "llama");
        w.put("llama.context_length", GgufValue.ofUint64(1L << 40));
        w.putUint32("llama.block_count", 0);
        w.putUint32("general.file_type", 99);
        w.putString("tokenizer.ggml.model", "llama");
        w.putArray("tokenizer.ggml.tokens", GgufValue.GgufArray.ofStrings("a", "b", "c"));
        w.putArray("tokenizer.ggml.scores", GgufValue.GgufArray.ofFloats(0f, 0f));
        w.putUint32("tokenizer.ggml.eos_token_id", 7);
        w.putString("llama.some.future.key", "unknown keys are fine");
        w.tensorF32("token_embd.weight", new long[] {4, 2}, new float[8]);
        w.tensorF32("output_norm.weight", new long[] {4}, new float[4]);
        w.write(p);
        // a hidden payload after the last tensor
        Files.write(p, new byte[4096], StandardOpenOption.APPEND);

        ModelReport r = ModelReport.read(p);
        String all = String.join("\n", r.warnings());
        assertTrue(all.contains("context length of 1099511627776"), all);
        assertTrue(all.contains("layer count of 0"), all);
        assertTrue(all.contains("general.file_type 99"), all);
        assertTrue(all.contains("tokenizer.ggml.scores has 2 entries but there are 3 tokens"), all);
        assertTrue(all.contains("eos_token_id = 7 is outside the vocabulary"), all);
        assertTrue(all.contains("token_embd.weight has 2 rows but the vocabulary has 3"), all);
        // the writer pads the last tensor to the alignment itself (as gguf.cpp does), so all 4096 are extra
        assertTrue(all.contains("4096 bytes after the last tensor belong to no tensor"), all);
        assertFalse(all.contains("future"), "unknown keys are not suspicious: " + all);
        assertEquals(7, r.warnings().size(), all);
        assertTrue(r.lines().stream().anyMatch(l -> l.startsWith("  warning: ")));
    }

    @Test
    void tensorsOutsideTheDataSectionAreFatalNotAWarning() throws IOException {
        Path p = tmp.resolve("cut.gguf");
        byte[] whole = Files.readAllBytes(SharedData.model("stories260K.gguf"));
        Files.write(p, java.util.Arrays.copyOf(whole, whole.length - 1000));
        GgufFormatException e = assertThrows(GgufFormatException.class, () -> ModelReport.read(p));
        assertTrue(e.getMessage().contains("exceeds the file size"), e.getMessage());
        try (GgufFile f = GgufFile.open(SharedData.model("stories260K.gguf"))) {
            assertTrue(ModelReport.of(f).warnings().isEmpty());
        }
    }
}
