package dev.trestle.scheduler.device;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.trestle.nativ.cuda.CudaDriver;
import org.junit.jupiter.api.Test;

class CudaProbeTest {

    /** Without the driver: CUDA is listed as unavailable with the library and the fix, and nothing throws. */
    @Test
    void reportsWhyCudaIsUnavailableOrListsRealDevices() {
        DeviceProbe.Result r = new CudaProbe().probe();
        assertEquals(DeviceKind.CUDA, r.status().kind());
        String reason = CudaDriver.unavailableReason();
        if (reason != null) {
            assertFalse(r.status().available());
            assertTrue(r.devices().isEmpty());
            assertTrue(r.status().detail().startsWith(reason.replace("CUDA unavailable: ", "unavailable: ")),
                    r.status().detail());
            if (reason.contains("not found")) {
                assertTrue(r.status().detail().startsWith("unavailable: " + CudaDriver.libraryNames().getFirst()
                        + " not found (install the NVIDIA driver); fix: install NVIDIA driver 580"), r.status().detail());
            }
        } else {
            assertEquals(r.status().available(), !r.devices().isEmpty());
            for (Device d : r.devices()) {
                assertTrue(d.totalBytes() > 0 && d.freeBytes() <= d.totalBytes(), d.toString());
                assertTrue(d.info().startsWith("compute "), d.info());
            }
        }
    }

    @Test
    void defaultInventoryUsesTheCudaProbe() {
        Inventory inv = Inventory.detect();
        BackendStatus cuda = inv.statuses().stream().filter(s -> s.kind() == DeviceKind.CUDA).findFirst().orElseThrow();
        assertEquals(new CudaProbe().probe().status(), cuda);
    }

    private record FixedProbe(DeviceKind kind, DeviceProbe.Result result) implements DeviceProbe {
        @Override
        public Result probe() {
            return result;
        }
    }

    /** An NVIDIA card seen by both CUDA and Vulkan is listed once, as CUDA; another vendor's card stays. */
    @Test
    void nvidiaCardsSeenByCudaAreNotListedAgainThroughVulkan() {
        Device cpu = new Device(DeviceKind.CPU, 0, "cpu", 64L << 30, 60L << 30, "");
        Device h200 = new Device(DeviceKind.CUDA, 0, "NVIDIA H200", 141L << 30, 140L << 30, "compute 9.0");
        Device vkH200 = new Device(DeviceKind.VULKAN, 0, "NVIDIA H200", 141L << 30, 140L << 30, "");
        Device vkAmd = new Device(DeviceKind.VULKAN, 1, "AMD Radeon RX 7800 XT", 16L << 30, 16L << 30, "");
        java.util.List<DeviceProbe> probes = java.util.List.of(
                new FixedProbe(DeviceKind.CPU, new DeviceProbe.Result(new BackendStatus(DeviceKind.CPU, true, "cpu"), java.util.List.of(cpu))),
                new FixedProbe(DeviceKind.CUDA, new DeviceProbe.Result(new BackendStatus(DeviceKind.CUDA, true, "1 device"), java.util.List.of(h200))),
                new FixedProbe(DeviceKind.VULKAN, new DeviceProbe.Result(new BackendStatus(DeviceKind.VULKAN, true, "2 devices"),
                        java.util.List.of(vkH200, vkAmd))));
        Inventory inv = Inventory.detect(probes);
        assertEquals(java.util.List.of(cpu, h200, vkAmd), inv.devices());
        assertEquals("Vulkan1", inv.gpus().get(1).id()); // the Vulkan index stays the physical device's
        BackendStatus vk = inv.statuses().get(2);
        assertTrue(vk.available() && vk.detail().contains("Vulkan0 also seen through CUDA"), vk.detail());
        // only the NVIDIA card: Vulkan has nothing left to offer
        Inventory only = Inventory.detect(java.util.List.of(probes.get(0), probes.get(1),
                new FixedProbe(DeviceKind.VULKAN, new DeviceProbe.Result(new BackendStatus(DeviceKind.VULKAN, true, "1 device"),
                        java.util.List.of(vkH200)))));
        assertEquals(2, only.devices().size());
        assertFalse(only.statuses().get(2).available());
        assertTrue(only.statuses().get(2).detail().startsWith("unavailable: "), only.statuses().get(2).detail());
    }
}
