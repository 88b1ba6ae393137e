package dev.trestle.backends.vulkan;

/**
 * What one Vulkan physical device offers the backend.
 *
 * @param index                 position in the instance's enumeration (the {@code VulkanN} id)
 * @param name                  device name
 * @param deviceType            integrated, discrete, virtual, cpu or other
 * @param driver                driver name and version text
 * @param apiVersion            supported Vulkan version, "major.minor.patch"
 * @param deviceLocalBytes      size of the largest device-local heap
 * @param budgetBytes           free budget of that heap (VK_EXT_memory_budget), or -1 when unknown
 * @param float16               shaderFloat16 arithmetic
 * @param int8                  shaderInt8 arithmetic
 * @param storage16             16-bit storage buffer access
 * @param storage8              8-bit storage buffer access
 * @param integerDotProduct     VK_KHR_shader_integer_dot_product (or Vulkan 1.3)
 * @param cooperativeMatrix     VK_KHR_cooperative_matrix or VK_NV_cooperative_matrix
 * @param subgroupArithmetic    subgroup arithmetic (subgroupAdd) in compute shaders
 * @param subgroupSize          default subgroup size
 * @param maxSharedMemory       maxComputeSharedMemorySize
 * @param maxStorageBufferRange largest storage buffer binding
 * @param maxWorkgroupCount     maxComputeWorkGroupCount[0]
 * @param computeQueueFamily    queue family used for compute
 */
public record VulkanDeviceInfo(int index, String name, String deviceType, String driver, String apiVersion,
                               long deviceLocalBytes, long budgetBytes, boolean float16, boolean int8,
                               boolean storage16, boolean storage8, boolean integerDotProduct,
                               boolean cooperativeMatrix, boolean subgroupArithmetic, int subgroupSize, int maxSharedMemory,
                               long maxStorageBufferRange, int maxWorkgroupCount, int computeQueueFamily) {

    /** Free bytes: the budget when the driver reports one, else the heap size. */
    public long freeBytes() {
        return budgetBytes >= 0 ? budgetBytes : deviceLocalBytes;
    }

    /** One line of features for device listings. */
    public String featureSummary() {
        StringBuilder b = new StringBuilder();
        b.append(deviceType).append(", ").append(driver).append(", Vulkan ").append(apiVersion);
        b.append(", subgroup ").append(subgroupSize).append(subgroupArithmetic ? "+arith" : "").append(", shared ").append(maxSharedMemory / 1024).append(" KiB");
        if (float16) {
            b.append(", fp16");
        }
        if (int8) {
            b.append(", int8");
        }
        if (integerDotProduct) {
            b.append(", int-dot");
        }
        if (cooperativeMatrix) {
            b.append(", coopmat");
        }
        return b.toString();
    }
}
