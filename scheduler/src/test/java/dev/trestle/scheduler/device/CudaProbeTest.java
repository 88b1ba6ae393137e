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
}
