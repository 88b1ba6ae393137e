package dev.trestle.scheduler.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.trestle.backends.type.GgmlType;
import dev.trestle.scheduler.profile.TensorProfile;
import dev.trestle.scheduler.profile.TensorRole;
import java.util.List;
import org.junit.jupiter.api.Test;

class ExpertStreamingTest {
    /** One Qwen3-30B-A3B layer: 128 experts of 2048 x 768, 8 used, Q4_K (144 bytes per 256 weights). */
    private static List<TensorProfile> qwen30Layer() {
        long perExpert = 2048L * 768 / 256 * 144;
        return List.of(
                new TensorProfile("blk.0.ffn_gate_exps.weight", TensorRole.FFN_EXPERT, 0, GgmlType.Q4_K,
                        new long[] {2048, 768, 128}, perExpert * 128),
                new TensorProfile("blk.0.ffn_up_exps.weight", TensorRole.FFN_EXPERT, 0, GgmlType.Q4_K,
                        new long[] {2048, 768, 128}, perExpert * 128),
                new TensorProfile("blk.0.ffn_down_exps.weight", TensorRole.FFN_EXPERT, 0, GgmlType.Q4_K,
                        new long[] {768, 2048, 128}, perExpert * 128),
                new TensorProfile("blk.0.attn_q.weight", TensorRole.ATTENTION, 0, GgmlType.Q4_K,
                        new long[] {2048, 4096}, 2048L * 4096 / 256 * 144));
    }

    private static ExpertStreaming desktop() {
        // dual-channel DDR5, 16 threads, PCIe 4.0 x16, an RTX 4090
        return ExpertStreaming.forLayer(qwen30Layer(), 8, 80e9, 16 * ExpertStreaming.CPU_FLOPS_PER_THREAD, 25e9,
                1008e9);
    }

    @Test
    void layerShapeIsReadFromTheExpertTensorsOnly() {
        ExpertStreaming c = desktop();
        assertEquals(128, c.nExpert());
        assertEquals(3L * 2048 * 768, c.expertParams());
        assertEquals(3L * 2048 * 768 / 256 * 144, c.expertBytes());
        // one token touches its 8 experts; a long batch touches them all
        assertEquals(8, c.touched(1), 1e-9);
        assertEquals(128, c.touched(4096), 1e-6);
    }

    @Test
    void decodeStaysOnTheCpuAndLargePrefillBatchesStream() {
        ExpertStreaming c = desktop();
        assertFalse(c.streams(1), "one token reads 8 experts from RAM; copying all 128 costs far more");
        assertTrue(c.streams(512));
        int from = c.fromTokens();
        // the crossing: the CPU's multiply-adds for `from` tokens outgrow one copy of the layer over PCIe
        assertFalse(c.streams(from - 1));
        assertTrue(c.streams(from));
        assertTrue(from > 16 && from < 256, "break-even at " + from + " tokens");
        // faster host memory and more threads move the crossing up; a faster bus moves it down
        ExpertStreaming server = ExpertStreaming.forLayer(qwen30Layer(), 8, 400e9, 128 * ExpertStreaming.CPU_FLOPS_PER_THREAD,
                25e9, 1008e9);
        assertTrue(server.fromTokens() > from);
        ExpertStreaming pcie5 = ExpertStreaming.forLayer(qwen30Layer(), 8, 80e9, 16 * ExpertStreaming.CPU_FLOPS_PER_THREAD,
                50e9, 1008e9);
        assertTrue(pcie5.fromTokens() < from);
    }

    @Test
    void neverWhenThereAreNoExpertsOrTheBusIsHopeless() {
        ExpertStreaming dense = ExpertStreaming.forLayer(qwen30Layer().subList(3, 4), 8, 80e9, 320e9, 25e9, 1e12);
        assertEquals(Integer.MAX_VALUE, dense.fromTokens());
        ExpertStreaming slowBus = ExpertStreaming.forLayer(qwen30Layer(), 8, 80e9, 320e9, 1e3, 1e12);
        assertEquals(Integer.MAX_VALUE, slowBus.fromTokens());
    }
}
