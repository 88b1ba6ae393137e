package dev.trestle.backends.vulkan;

import static org.lwjgl.vulkan.VK10.VK_SUCCESS;

import dev.trestle.common.TrestleException;

/** Turns Vulkan result codes into exceptions that name the call. */
final class VulkanCheck {
    private VulkanCheck() {
    }

    static void check(int result, String call) {
        if (result != VK_SUCCESS) {
            String fix = result == org.lwjgl.vulkan.VK10.VK_ERROR_OUT_OF_DEVICE_MEMORY
                    ? "lower -ngl or use a smaller -c so the model fits in GPU memory"
                    : "check the Vulkan driver (vulkaninfo --summary)";
            throw new TrestleException(call + " failed: VkResult " + result, fix);
        }
    }
}
