package dev.trestle.engine.hub;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.trestle.engine.gguf.GgufFile;
import dev.trestle.engine.gguf.GgufMetadata;
import dev.trestle.engine.gguf.GgufTensorInfo;
import dev.trestle.engine.trust.ModelReport;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DemoModelTest {
    @TempDir
    Path tmp;

    @Test
    void isDeterministic() throws IOException {
        DemoModel.write(tmp.resolve("a.gguf"));
        DemoModel.write(tmp.resolve("b.gguf"));
        assertArrayEquals(Files.readAllBytes(tmp.resolve("a.gguf")), Files.readAllBytes(tmp.resolve("b.gguf")));
    }

    @Test
    void isAWellFormedLlamaThatSaysItIsNonsense() {
        Path p = tmp.resolve("demo.gguf");
        DemoModel.write(p);
        try (GgufFile f = GgufFile.open(p)) {
            GgufMetadata m = f.metadata();
            assertEquals("llama", m.architecture());
            assertTrue(m.getString("general.name").contains("nonsense"));
            assertEquals(DemoModel.N_LAYER, m.getInt("llama.block_count"));
            assertEquals(DemoModel.N_CTX, m.getInt("llama.context_length"));
            // every tensor llama.cpp's llama loader requires, with its shape
            int e = DemoModel.N_EMBD;
            int kv = DemoModel.N_HEAD_KV * DemoModel.HEAD_DIM;
            assertShape(f, "token_embd.weight", e, DemoModel.VOCAB);
            assertShape(f, "output.weight", e, DemoModel.VOCAB);
            assertShape(f, "output_norm.weight", e);
            for (int l = 0; l < DemoModel.N_LAYER; l++) {
                assertShape(f, "blk." + l + ".attn_q.weight", e, e);
                assertShape(f, "blk." + l + ".attn_k.weight", e, kv);
                assertShape(f, "blk." + l + ".attn_v.weight", e, kv);
                assertShape(f, "blk." + l + ".attn_output.weight", e, e);
                assertShape(f, "blk." + l + ".ffn_gate.weight", e, DemoModel.N_FF);
                assertShape(f, "blk." + l + ".ffn_up.weight", e, DemoModel.N_FF);
                assertShape(f, "blk." + l + ".ffn_down.weight", DemoModel.N_FF, e);
                assertShape(f, "blk." + l + ".attn_norm.weight", e);
                assertShape(f, "blk." + l + ".ffn_norm.weight", e);
            }
            assertEquals(3 + 9 * DemoModel.N_LAYER, f.tensors().size());
            ModelReport r = ModelReport.of(f);
            assertEquals(java.util.List.of(), r.warnings());
            assertEquals("F32", r.quant());
            assertTrue(r.chatTemplate());
        }
    }

    private static void assertShape(GgufFile f, String name, long... shape) {
        GgufTensorInfo t = f.tensor(name);
        assertTrue(t != null, "missing " + name);
        assertArrayEquals(shape, t.shape(), name);
    }

    @Test
    void tokenizerMetadataIsConsistent() {
        Path p = tmp.resolve("demo.gguf");
        DemoModel.write(p);
        try (GgufFile f = GgufFile.open(p)) {
            GgufMetadata m = f.metadata();
            assertEquals("llama", m.getString("tokenizer.ggml.model"));
            String[] tokens = m.getStringArray("tokenizer.ggml.tokens");
            float[] scores = m.getFloatArray("tokenizer.ggml.scores");
            int[] types = m.getIntArray("tokenizer.ggml.token_type");
            assertEquals(DemoModel.VOCAB, tokens.length);
            assertEquals(tokens.length, scores.length);
            assertEquals(tokens.length, types.length);

            Map<String, Integer> ids = new HashMap<>();
            for (int i = 0; i < tokens.length; i++) {
                assertEquals(null, ids.put(tokens[i], i), "duplicate token " + tokens[i]);
            }
            // special tokens: ids in range and of control type
            int bos = m.getInt("tokenizer.ggml.bos_token_id");
            int eos = m.getInt("tokenizer.ggml.eos_token_id");
            assertEquals("<s>", tokens[bos]);
            assertEquals("<|im_end|>", tokens[eos]);
            assertEquals(3, types[bos]);
            assertEquals(3, types[eos]);
            assertEquals(3, types[ids.get("<|im_start|>")]);
            assertEquals(2, types[m.getInt("tokenizer.ggml.unknown_token_id")]);
            // byte fallback: all 256 bytes, in order, of byte type
            for (int b = 0; b < 256; b++) {
                int id = DemoModel.FIRST_BYTE + b;
                assertEquals(String.format("<0x%02X>", b), tokens[id]);
                assertEquals(6, types[id]);
            }
            // SPM merging builds a piece from two adjacent pieces: each merged piece must split into two
            // earlier pieces, and later merges must score lower so that earlier ones win.
            int merges = 0;
            float lastScore = Float.POSITIVE_INFINITY;
            for (int i = DemoModel.FIRST_BYTE + 256; i < tokens.length; i++) {
                String t = tokens[i];
                assertEquals(1, types[i], t);
                if (t.codePointCount(0, t.length()) == 1) {
                    continue;
                }
                merges++;
                boolean reachable = false;
                for (int cut = 1; cut < t.length() && !reachable; cut++) {
                    Integer a = ids.get(t.substring(0, cut));
                    Integer b = ids.get(t.substring(cut));
                    reachable = a != null && b != null && a < i && b < i;
                }
                assertTrue(reachable, "merge '" + t + "' is not made of two earlier pieces");
                assertTrue(scores[i] < lastScore, "scores must fall with merge rank at " + t);
                lastScore = scores[i];
            }
            assertTrue(merges > 100, "merges: " + merges);
            assertTrue(ids.containsKey("\u2581the"), "common words become pieces");
            String template = m.getString("tokenizer.chat_template");
            assertTrue(template.contains("<|im_start|>") && template.contains("add_generation_prompt"));
            assertTrue(m.getBool("tokenizer.ggml.add_bos_token"));
            GgufTensorInfo embd = f.tensor("token_embd.weight");
            assertEquals(tokens.length, embd.dim(1));
        }
    }

    @Test
    void ensureWritesOnceIndexesAndRepairs() throws IOException {
        ModelCache cache = new ModelCache(tmp.resolve("cache"));
        Path p = DemoModel.ensure(cache);
        assertEquals(cache.root().resolve("demo").resolve(DemoModel.FILE_NAME), p);
        CacheEntry e = cache.entryFor(p).orElseThrow();
        assertEquals("demo", e.source());
        assertEquals(ModelCache.hashFile(p), e.sha256());
        long mtime = Files.getLastModifiedTime(p).toMillis();
        assertEquals(p, DemoModel.ensure(cache));
        assertEquals(mtime, Files.getLastModifiedTime(p).toMillis(), "an intact demo file is left alone");

        // a damaged demo file is rewritten
        byte[] bytes = Files.readAllBytes(p);
        bytes[bytes.length - 1] ^= 1;
        Files.write(p, bytes);
        DemoModel.ensure(cache);
        assertEquals(e.sha256(), ModelCache.hashFile(p));
        try (var files = Files.list(p.getParent())) {
            assertFalse(files.anyMatch(f -> f.getFileName().toString().contains(".new")), "no temp files left");
        }
    }
}
