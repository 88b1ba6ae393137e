package dev.trestle.backends.vulkan;

import static org.lwjgl.system.MemoryStack.stackPush;
import static org.lwjgl.vulkan.VK10.*;
import static org.lwjgl.vulkan.VK11.*;

import java.nio.IntBuffer;
import java.util.HashSet;
import java.util.Set;
import org.lwjgl.system.MemoryStack;
import org.lwjgl.vulkan.*;

/** Reads a physical device's properties, features, heaps and queues into a {@link VulkanDeviceInfo}. */
final class DeviceQuery {
    private DeviceQuery() {
    }

    static Set<String> extensions(VkPhysicalDevice pd) {
        try (MemoryStack stack = stackPush()) {
            IntBuffer n = stack.mallocInt(1);
            vkEnumerateDeviceExtensionProperties(pd, (java.nio.ByteBuffer) null, n, null);
            VkExtensionProperties.Buffer props = VkExtensionProperties.malloc(n.get(0), stack);
            vkEnumerateDeviceExtensionProperties(pd, (java.nio.ByteBuffer) null, n, props);
            Set<String> s = new HashSet<>();
            for (VkExtensionProperties p : props) {
                s.add(p.extensionNameString());
            }
            return s;
        }
    }

    /** The first queue family with compute, preferring a compute-only one (async compute); -1 if none. */
    static int computeQueueFamily(VkPhysicalDevice pd) {
        try (MemoryStack stack = stackPush()) {
            IntBuffer n = stack.mallocInt(1);
            vkGetPhysicalDeviceQueueFamilyProperties(pd, n, null);
            VkQueueFamilyProperties.Buffer q = VkQueueFamilyProperties.malloc(n.get(0), stack);
            vkGetPhysicalDeviceQueueFamilyProperties(pd, n, q);
            int any = -1;
            for (int i = 0; i < n.get(0); i++) {
                int f = q.get(i).queueFlags();
                if ((f & VK_QUEUE_COMPUTE_BIT) != 0) {
                    if ((f & VK_QUEUE_GRAPHICS_BIT) == 0) {
                        return i;
                    }
                    if (any < 0) {
                        any = i;
                    }
                }
            }
            return any;
        }
    }

    static VulkanDeviceInfo describe(VkPhysicalDevice pd, int index) {
        int family = computeQueueFamily(pd);
        if (family < 0) {
            return null;
        }
        Set<String> ext = extensions(pd);
        try (MemoryStack stack = stackPush()) {
            VkPhysicalDeviceProperties props = VkPhysicalDeviceProperties.malloc(stack);
            vkGetPhysicalDeviceProperties(pd, props);
            int api = props.apiVersion();
            boolean v12 = VK_API_VERSION_MINOR(api) >= 2 || VK_API_VERSION_MAJOR(api) > 1;
            boolean v13 = VK_API_VERSION_MINOR(api) >= 3 || VK_API_VERSION_MAJOR(api) > 1;

            VkPhysicalDeviceSubgroupProperties sub = VkPhysicalDeviceSubgroupProperties.calloc(stack).sType$Default();
            VkPhysicalDeviceProperties2 p2 = VkPhysicalDeviceProperties2.calloc(stack).sType$Default().pNext(sub);
            VkPhysicalDeviceDriverProperties drv = null;
            if (v12) {
                drv = VkPhysicalDeviceDriverProperties.calloc(stack).sType$Default();
                sub.pNext(drv.address());
            }
            vkGetPhysicalDeviceProperties2(pd, p2);

            VkPhysicalDeviceVulkan11Features f11 = null;
            VkPhysicalDeviceVulkan12Features f12 = null;
            boolean fp16 = false;
            boolean int8 = false;
            boolean s16 = false;
            boolean s8 = false;
            if (v12) {
                f11 = VkPhysicalDeviceVulkan11Features.calloc(stack).sType$Default();
                f12 = VkPhysicalDeviceVulkan12Features.calloc(stack).sType$Default();
                f11.pNext(f12.address());
                VkPhysicalDeviceFeatures2 f2 = VkPhysicalDeviceFeatures2.calloc(stack).sType$Default().pNext(f11.address());
                vkGetPhysicalDeviceFeatures2(pd, f2);
                fp16 = f12.shaderFloat16();
                int8 = f12.shaderInt8();
                s16 = f11.storageBuffer16BitAccess();
                s8 = f12.storageBuffer8BitAccess();
            }

            VkPhysicalDeviceMemoryProperties mem = VkPhysicalDeviceMemoryProperties.malloc(stack);
            vkGetPhysicalDeviceMemoryProperties(pd, mem);
            long best = 0;
            int bestHeap = -1;
            for (int h = 0; h < mem.memoryHeapCount(); h++) {
                VkMemoryHeap heap = mem.memoryHeaps(h);
                if ((heap.flags() & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT) != 0 && heap.size() > best) {
                    best = heap.size();
                    bestHeap = h;
                }
            }
            long budget = -1;
            if (ext.contains("VK_EXT_memory_budget") && bestHeap >= 0) {
                VkPhysicalDeviceMemoryBudgetPropertiesEXT b = VkPhysicalDeviceMemoryBudgetPropertiesEXT.calloc(stack)
                        .sType$Default();
                VkPhysicalDeviceMemoryProperties2 m2 = VkPhysicalDeviceMemoryProperties2.calloc(stack).sType$Default()
                        .pNext(b);
                vkGetPhysicalDeviceMemoryProperties2(pd, m2);
                budget = Math.max(0, b.heapBudget(bestHeap) - b.heapUsage(bestHeap));
            }
            String type = switch (props.deviceType()) {
                case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU -> "integrated GPU";
                case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU -> "discrete GPU";
                case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU -> "virtual GPU";
                case VK_PHYSICAL_DEVICE_TYPE_CPU -> "CPU (software)";
                default -> "other";
            };
            String driver = drv != null ? (drv.driverNameString() + " " + drv.driverInfoString()).trim()
                    : "driver " + Integer.toUnsignedString(props.driverVersion());
            String apiText = VK_API_VERSION_MAJOR(api) + "." + VK_API_VERSION_MINOR(api) + "." + VK_API_VERSION_PATCH(api);
            VkPhysicalDeviceLimits lim = props.limits();
            return new VulkanDeviceInfo(index, props.deviceNameString(), type, driver, apiText, best, budget, fp16, int8,
                    s16, s8, v13 || ext.contains("VK_KHR_shader_integer_dot_product"),
                    ext.contains("VK_KHR_cooperative_matrix") || ext.contains("VK_NV_cooperative_matrix"),
                    (sub.supportedOperations() & VK_SUBGROUP_FEATURE_ARITHMETIC_BIT) != 0
                            && (sub.supportedStages() & VK_SHADER_STAGE_COMPUTE_BIT) != 0,
                    sub.subgroupSize(), lim.maxComputeSharedMemorySize(),
                    Integer.toUnsignedLong(lim.maxStorageBufferRange()), lim.maxComputeWorkGroupCount(0), family);
        }
    }
}
