package dev.trestle.testdata;

import dev.trestle.backends.vulkan.VulkanInstance;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * Vulkan availability for tests: on a machine without a Vulkan device the tests are skipped, except under
 * {@code CI=true}, where CI installs lavapipe and a missing device is a failure.
 */
public final class VulkanTestDevice {
    private VulkanTestDevice() {
    }

    /** Number of Vulkan devices; skips (or fails under CI) when there are none. */
    public static int require() {
        int n = 0;
        String why = "no Vulkan device";
        try {
            n = VulkanInstance.get().devices().size();
        } catch (RuntimeException e) {
            why = e.getMessage();
        }
        if (n == 0) {
            if ("true".equalsIgnoreCase(System.getenv("CI"))) {
                Assertions.fail("CI=true but Vulkan is unavailable (" + why + "); .ci/run installs lavapipe");
            }
            Assumptions.abort("Vulkan unavailable: " + why);
        }
        if ("true".equalsIgnoreCase(System.getenv("CI")) && VulkanInstance.validationRequested()) {
            Assertions.assertTrue(VulkanInstance.get().validationEnabled(), "CI runs Vulkan tests under validation");
        }
        return n;
    }

    /** Asserts the validation layer (when enabled) reported nothing so far. */
    public static void assertValidationClean() {
        VulkanInstance vi = VulkanInstance.get();
        if (vi.validationEnabled()) {
            Assertions.assertEquals(java.util.List.of(), vi.validationMessages(), "Vulkan validation messages");
        }
    }
}
