package dev.trestle.scheduler.device;

import dev.trestle.backends.vulkan.VulkanDeviceInfo;
import dev.trestle.backends.vulkan.VulkanInstance;
import java.util.ArrayList;
import java.util.List;

/**
 * Enumerates the Vulkan devices (name, device-local heap and its budget where VK_EXT_memory_budget reports one,
 * driver, features) through the Vulkan backend. A missing loader or driver is reported, never thrown.
 */
public final class VulkanProbe implements DeviceProbe {
    @Override
    public DeviceKind kind() {
        return DeviceKind.VULKAN;
    }

    @Override
    public Result probe() {
        LibraryProbe loader = LibraryProbe.vulkan();
        Result lib = loader.probe();
        if (lib.status().detail().contains("not found")) {
            return lib; // no loader: say which library is missing
        }
        List<VulkanDeviceInfo> infos;
        try {
            infos = VulkanInstance.get().devices();
        } catch (RuntimeException | LinkageError e) {
            return new Result(new BackendStatus(DeviceKind.VULKAN, false, "unavailable: " + e.getMessage()), List.of());
        }
        if (infos.isEmpty()) {
            return new Result(new BackendStatus(DeviceKind.VULKAN, false, "unavailable: the Vulkan loader found no "
                    + "device with a compute queue (install a driver, e.g. mesa-vulkan-drivers)"), List.of());
        }
        List<Device> devices = new ArrayList<>();
        for (VulkanDeviceInfo i : infos) {
            devices.add(new Device(DeviceKind.VULKAN, i.index(), i.name(), i.deviceLocalBytes(), i.freeBytes(),
                    i.featureSummary() + (i.budgetBytes() < 0 ? " (no memory budget: free = heap size)" : "")));
        }
        return new Result(new BackendStatus(DeviceKind.VULKAN, true, infos.size() + " device(s) through LWJGL "
                + "(layer split; row split is not available on Vulkan)"), devices);
    }
}
