package dev.trestle.engine.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.trestle.engine.gguf.GgufFile;
import dev.trestle.scheduler.profile.ModelProfile;
import dev.trestle.scheduler.profile.TensorProfile;
import dev.trestle.scheduler.profile.TensorRole;
import dev.trestle.testdata.SharedData;
import org.junit.jupiter.api.Test;

/** The profile builder on the real llama.cpp-written files in shared/models. */
class GgufProfilesTest {

    @Test
    void qwen3MoeTensorsAreClassifiedByRole() {
        ModelProfile m = GgufProfiles.of(SharedData.model("quant/qwen3moe-moe-q4_k_m.gguf"));
        assertEquals("qwen3moe", m.architecture());
        assertEquals(2, m.nLayer());
        assertEquals(2, m.nExpert());
        assertEquals(1, m.nExpertUsed());
        assertEquals(128, m.nVocab());
        assertEquals(role(m, "blk.0.ffn_up_exps.weight"), TensorRole.FFN_EXPERT);
        assertEquals(role(m, "blk.1.ffn_down_exps.weight"), TensorRole.FFN_EXPERT);
        assertEquals(role(m, "blk.0.ffn_gate_inp.weight"), TensorRole.ROUTER);
        assertEquals(role(m, "blk.0.attn_q.weight"), TensorRole.ATTENTION);
        assertEquals(role(m, "blk.0.attn_q_norm.weight"), TensorRole.NORM);
        assertEquals(role(m, "token_embd.weight"), TensorRole.TOKEN_EMBD);
        for (TensorProfile t : m.tensors()) {
            assertTrue(t.bytes() > 0, t.name());
        }
        try (GgufFile f = GgufFile.open(SharedData.model("quant/qwen3moe-moe-q4_k_m.gguf"))) {
            long sum = f.tensors().values().stream().mapToLong(t -> t.bytes()).sum();
            assertEquals(sum, m.storedBytes());
        }
    }

    @Test
    void llamaScalesAndBiasesFollowTheirMatrix() {
        ModelProfile m = GgufProfiles.of(SharedData.model("archs/llama-dense-f16.gguf"));
        assertEquals(TensorRole.ATTENTION, role(m, "blk.0.attn_q.bias"));
        assertEquals(TensorRole.ATTENTION, role(m, "blk.0.attn_q.scale"));
        assertEquals(TensorRole.FFN_DENSE, role(m, "blk.1.ffn_down.bias"));
        assertEquals(TensorRole.OTHER, role(m, "rope_freqs.weight"));
        ModelProfile moe = GgufProfiles.of(SharedData.model("archs/llama-moe-f16.gguf"));
        assertEquals(TensorRole.FFN_EXPERT, role(moe, "blk.0.ffn_up_exps.scale"));
    }

    @Test
    void gemma3SlidingWindowLayersAndTiedOutput() {
        ModelProfile m = GgufProfiles.of(SharedData.model("archs/gemma3-dense-rescaled-f16.gguf"));
        assertEquals(16, m.layers().get(0).slidingWindow(), "layer 0 slides (pattern 2)");
        assertEquals(0, m.layers().get(1).slidingWindow(), "layer 1 is global");
        TensorProfile out = m.tensors().stream().filter(t -> t.role() == TensorRole.OUTPUT).findFirst().orElseThrow();
        assertEquals("token_embd.weight", out.tiedTo());
        assertEquals(TensorProfile.OUTPUT_LAYER, out.layer());
        ModelProfile llama = GgufProfiles.of(SharedData.model("archs/llama-dense-f16.gguf"));
        assertNull(llama.tensors().stream().filter(t -> t.role() == TensorRole.OUTPUT).findFirst().orElseThrow().tiedTo());
    }

    /** Our closed-form KV equals what llama.cpp logged for every reference model (its non-SWA cache line). */
    @Test
    void kvSizesMatchLlamaCppLogsForEveryReferenceModel() throws Exception {
        java.util.regex.Pattern line = java.util.regex.Pattern.compile(
                "size =\\s+([0-9.]+) MiB \\(\\s*(\\d+) cells,\\s+(\\d+) layers");
        int checked = 0;
        try (var files = java.nio.file.Files.list(SharedData.reference("greedy"))) {
            for (java.nio.file.Path json : files.sorted().toList()) {
                var ref = new com.fasterxml.jackson.databind.ObjectMapper().readTree(json.toFile());
                java.util.regex.Matcher mt = line.matcher(ref.get("settings").get("kv_cache").asText());
                assertTrue(mt.find(), json.toString());
                String rel = ref.get("model_path").asText().replaceFirst("^shared/models/", "");
                ModelProfile m = GgufProfiles.of(SharedData.model(rel));
                var c = new dev.trestle.scheduler.memory.ContextSettings(ref.get("n_ctx").asInt(), 1,
                        ref.get("settings").get("n_batch").asInt(), ref.get("settings").get("n_ubatch").asInt(),
                        dev.trestle.backends.type.GgmlType.F16, dev.trestle.backends.type.GgmlType.F16,
                        dev.trestle.scheduler.memory.FlashAttention.AUTO);
                long bytes = 0;
                int layers = 0;
                for (var g : m.layers()) {
                    if (!g.isSliding() && g.nHeadKv() > 0) {
                        bytes += dev.trestle.scheduler.memory.KvCache.layerBytes(g, c);
                        layers++;
                        assertEquals(Long.parseLong(mt.group(2)), dev.trestle.scheduler.memory.KvCache.cells(g, c));
                    }
                }
                assertEquals(Integer.parseInt(mt.group(3)), layers, json.toString());
                assertEquals(Double.parseDouble(mt.group(1)), bytes / 1048576.0, 0.005, json.toString());
                checked++;
            }
        }
        assertTrue(checked >= 19, "reference files checked: " + checked);
        // gemma3's sliding layer (window 16) keeps min(n_ctx, 16 + n_ubatch) cells, padded to 256
        ModelProfile g = GgufProfiles.of(SharedData.model("archs/gemma3-dense-rescaled-f16.gguf"));
        var c = new dev.trestle.scheduler.memory.ContextSettings(4096, 1, 512, 512,
                dev.trestle.backends.type.GgmlType.F16, dev.trestle.backends.type.GgmlType.F16,
                dev.trestle.scheduler.memory.FlashAttention.AUTO);
        assertEquals(768, dev.trestle.scheduler.memory.KvCache.cells(g.layers().get(0), c));
        assertEquals(4096, dev.trestle.scheduler.memory.KvCache.cells(g.layers().get(1), c));
    }

    /** Per-layer KV head counts (an array, with a layer that keeps no KV) and a per-layer SWA pattern. */
    @Test
    void perLayerHeadCountsAndSlidingPattern(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) {
        var w = new dev.trestle.engine.gguf.GgufWriter().putString("general.architecture", "mixed")
                .putUint32("mixed.block_count", 4).putUint32("mixed.embedding_length", 1024)
                .putArray("mixed.attention.head_count", dev.trestle.engine.gguf.GgufValue.GgufArray.ofInts(8, 8, 8, 8))
                .putArray("mixed.attention.head_count_kv", dev.trestle.engine.gguf.GgufValue.GgufArray.ofInts(8, 4, 0, 2))
                .putUint32("mixed.attention.sliding_window", 512)
                .putArray("mixed.attention.sliding_window_pattern", new dev.trestle.engine.gguf.GgufValue.GgufArray(
                        dev.trestle.engine.gguf.GgufValueType.BOOL, new boolean[] {true, false, false, true}));
        w.tensor("token_embd.weight", dev.trestle.backends.type.GgmlType.Q8_0, new long[] {1024, 1000}, o -> { });
        for (int il = 0; il < 4; il++) {
            w.tensor("blk." + il + ".attn_q.weight", dev.trestle.backends.type.GgmlType.Q8_0, new long[] {1024, 1024}, o -> { });
        }
        java.nio.file.Path f = dir.resolve("mixed.gguf");
        w.writeSparse(f);
        ModelProfile m = GgufProfiles.of(f);
        assertEquals(8, m.layers().get(0).nHeadKv());
        assertEquals(0, m.layers().get(2).nHeadKv());
        assertEquals(128, m.layers().get(3).headDimK(), "n_embd / n_head");
        assertEquals(512, m.layers().get(0).slidingWindow());
        assertEquals(0, m.layers().get(1).slidingWindow());
        assertEquals(512, m.layers().get(3).slidingWindow());
        var c = new dev.trestle.scheduler.memory.ContextSettings(8192, 2, 512, 512,
                dev.trestle.backends.type.GgmlType.Q8_0, dev.trestle.backends.type.GgmlType.F16,
                dev.trestle.scheduler.memory.FlashAttention.ON);
        // SWA layers keep pad256(min(8192, 512 * 2 + 512)) = 1536 cells; K q8_0: 34 bytes per 32, V f16: 2 per value
        long expected = 1536L * 8 * 128 * (34 + 64) / 32 + 8192L * 4 * 128 * (34 + 64) / 32 + 0 + 1536L * 2 * 128 * (34 + 64) / 32;
        long actual = 0;
        for (var g : m.layers()) {
            actual += dev.trestle.scheduler.memory.KvCache.layerBytes(g, c);
        }
        assertEquals(expected, actual);
        // the tied output head is planned as a copy of the embeddings
        assertEquals("token_embd.weight", m.tensors().get(m.tensors().size() - 1).tiedTo());
    }

    private static TensorRole role(ModelProfile m, String name) {
        return m.tensors().stream().filter(t -> t.name().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no tensor " + name)).role();
    }
}
