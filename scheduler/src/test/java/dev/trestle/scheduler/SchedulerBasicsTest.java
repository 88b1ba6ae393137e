package dev.trestle.scheduler;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.trestle.backends.type.GgmlType;
import dev.trestle.common.TrestleException;
import dev.trestle.scheduler.device.BackendStatus;
import dev.trestle.scheduler.device.DeviceKind;
import dev.trestle.scheduler.device.Inventory;
import dev.trestle.scheduler.memory.ByteSize;
import dev.trestle.scheduler.memory.ContextSettings;
import dev.trestle.scheduler.memory.FlashAttention;
import dev.trestle.scheduler.memory.KvCache;
import dev.trestle.scheduler.plan.TensorOverride;
import dev.trestle.scheduler.plan.TensorSplit;
import dev.trestle.scheduler.profile.LayerGeometry;
import org.junit.jupiter.api.Test;

/** Flag parsing, the inventory and the closed-form KV sizes. */
class SchedulerBasicsTest {

    @Test
    void byteSizesUseBinaryAndDecimalUnits() {
        assertEquals(16L << 30, ByteSize.parse("16GiB", "x"));
        assertEquals(16L << 30, ByteSize.parse("16G", "x"));
        assertEquals(64_000_000_000L, ByteSize.parse("64GB", "x"));
        assertEquals(512L << 20, ByteSize.parse("512 MiB", "x"));
        assertEquals(1536L << 20, ByteSize.parse("1.5GiB", "x"));
        assertEquals(448e9, ByteSize.parseBandwidth("448GB/s", "x"));
        assertEquals(96e9, ByteSize.parseBandwidth("96", "x"));
        assertThrows(TrestleException.class, () -> ByteSize.parse("16", "x"));
        assertThrows(TrestleException.class, () -> ByteSize.parse("lots", "x"));
    }

    @Test
    void tensorSplitAcceptsEquivalentFormsAndRejectsBadOnes() {
        double[] a = TensorSplit.normalize(TensorSplit.parse("60,40"), 2);
        assertArrayEquals(a, TensorSplit.normalize(TensorSplit.parse("0.6,0.4"), 2), 1e-12);
        assertArrayEquals(a, TensorSplit.normalize(TensorSplit.parse("3,2"), 2), 1e-12);
        assertArrayEquals(new double[] {1, 0, 0}, TensorSplit.normalize(TensorSplit.parse("5"), 3), 1e-12);
        assertThrows(TrestleException.class, () -> TensorSplit.normalize(TensorSplit.parse("60,-40"), 2));
        assertThrows(TrestleException.class, () -> TensorSplit.normalize(TensorSplit.parse("0,0"), 2));
        TrestleException e = assertThrows(TrestleException.class,
                () -> TensorSplit.normalize(TensorSplit.parse("1,1,1"), 2));
        assertTrue(e.getMessage().contains("3 values") && e.getMessage().contains("2 GPUs"), e.getMessage());
        assertThrows(TrestleException.class, () -> TensorSplit.parse("60,x"));
    }

    @Test
    void simulatedDevicesAreNumberedPerBackend() {
        Inventory inv = Inventory.simulated("cuda:RTX 5060 Ti:16GiB,vulkan:RX 7800 XT:16GiB,cuda:RTX 4060:8GiB:7GiB",
                64L << 30);
        assertEquals(3, inv.gpus().size());
        assertEquals("CUDA0", inv.gpus().get(0).id());
        assertEquals("Vulkan0", inv.gpus().get(1).id());
        assertEquals("CUDA1", inv.gpus().get(2).id());
        assertEquals(7L << 30, inv.gpus().get(2).freeBytes());
        assertEquals(8L << 30, inv.gpus().get(2).totalBytes());
        assertEquals("RTX 4060", inv.byId("cuda1").name());
        assertEquals(64L << 30, inv.cpu().freeBytes());
        assertThrows(TrestleException.class, () -> Inventory.simulated("cuda:16GiB", 1L << 30));
        assertThrows(TrestleException.class, () -> Inventory.simulated("tpu:x:16GiB", 1L << 30));
        assertThrows(TrestleException.class, () -> Inventory.simulated("cuda:x:8GiB:9GiB", 1L << 30));
    }

    @Test
    void realInventoryListsTheCpuAndSaysWhyGpuBackendsAreUnavailable() {
        Inventory inv = Inventory.detect();
        assertEquals(DeviceKind.CPU, inv.cpu().kind());
        assertTrue(inv.cpu().totalBytes() > 0 && inv.cpu().freeBytes() > 0
                && inv.cpu().freeBytes() <= inv.cpu().totalBytes());
        assertEquals(3, inv.statuses().size());
        for (BackendStatus s : inv.statuses()) {
            if (s.kind() != DeviceKind.CPU && !s.available()) {
                assertTrue(s.detail().startsWith("unavailable: "), s.detail());
            }
        }
    }

    @Test
    void kvCellsFollowLlamaCppPaddingAndSlidingWindows() {
        ContextSettings c = new ContextSettings(5000, 4, 2048, 512, GgmlType.F16, GgmlType.F16, FlashAttention.AUTO);
        LayerGeometry full = new LayerGeometry(8, 128, 128, 0);
        LayerGeometry swa = new LayerGeometry(8, 128, 128, 1024);
        assertEquals(5120, KvCache.cells(full, c));
        // min(5120, 1024 * 4 + 512) = 4608
        assertEquals(4608, KvCache.cells(swa, c));
        // the window cap is above a 4097-token context (padded to 4352): the full context is kept
        assertEquals(4352, KvCache.cells(swa, c.withCtx(4097)));
        assertEquals(4608L * 1024 * 2 * 2, KvCache.layerBytes(swa, c));
        assertEquals(5120L * (1024 / 32 * 34 + 1024 / 32 * 18),
                KvCache.layerBytes(full, c.withCacheTypes(GgmlType.Q8_0, GgmlType.Q4_0, FlashAttention.ON)));
        assertEquals(0, KvCache.layerBytes(new LayerGeometry(0, 128, 128, 0), c));
        // a row of 80 values does not fill q8_0 blocks
        assertThrows(TrestleException.class, () -> KvCache.layerBytes(new LayerGeometry(1, 80, 80, 0),
                c.withCacheTypes(GgmlType.Q8_0, GgmlType.F16, FlashAttention.ON)));
    }

    @Test
    void quantizedVCacheNeedsFlashAttention() {
        TrestleException e = assertThrows(TrestleException.class, () -> new ContextSettings(4096, 1, 2048, 512,
                GgmlType.F16, GgmlType.Q4_0, FlashAttention.OFF));
        assertTrue(e.fix().contains("-fa on"));
        assertThrows(TrestleException.class, () -> new ContextSettings(4096, 1, 2048, 512,
                GgmlType.Q4_K, GgmlType.F16, FlashAttention.ON));
        assertFalse(FlashAttention.AUTO == FlashAttention.parse("on"));
    }

    @Test
    void overrideRulesParse() {
        var rules = TensorOverride.parseList("blk\\.(0|1)\\.ffn_.*_exps=CPU,output=CUDA0");
        assertEquals(2, rules.size());
        assertTrue(rules.get(0).matches("blk.1.ffn_up_exps.weight"));
        assertFalse(rules.get(0).matches("blk.10.ffn_up_exps.weight"));
        assertEquals("CUDA0", rules.get(1).buffer());
        assertThrows(TrestleException.class, () -> TensorOverride.parseList("nobuffer"));
        assertThrows(TrestleException.class, () -> TensorOverride.parseList("blk.(=CPU"));
    }
}
