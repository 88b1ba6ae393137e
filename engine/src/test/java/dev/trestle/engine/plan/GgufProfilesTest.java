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

    private static TensorRole role(ModelProfile m, String name) {
        return m.tensors().stream().filter(t -> t.name().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no tensor " + name)).role();
    }
}
