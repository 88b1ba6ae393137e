package dev.trestle.backends.vulkan;

import dev.trestle.backends.spi.Backend;
import dev.trestle.backends.spi.Device;
import dev.trestle.backends.spi.DeviceType;
import dev.trestle.backends.spi.OpKind;
import dev.trestle.backends.type.GgmlType;

/** The Vulkan backend on one logical device: what it can run (for the planner) and the device itself. */
public final class VulkanBackend implements Backend {
    private final VulkanDevice device;
    private final Device spiDevice;

    public VulkanBackend(VulkanDevice device) {
        this.device = device;
        VulkanDeviceInfo info = device.info();
        this.spiDevice = new Device() {
            @Override
            public String name() {
                return info.name();
            }

            @Override
            public DeviceType type() {
                return DeviceType.GPU;
            }

            @Override
            public Memory memory() {
                return new Memory(info.freeBytes(), info.deviceLocalBytes());
            }

            @Override
            public boolean supportsOp(OpKind op, GgmlType type) {
                return VulkanBackend.supportsOp(op, type);
            }
        };
    }

    /**
     * True when the Vulkan shaders run {@code op} on {@code type} (weights for MUL_MAT/MUL_MAT_ID/GET_ROWS, cache
     * rows for SET_ROWS and attention). TOP_K runs on the host (routing reads back the router logits), and
     * LayerNorm (NORM) and standalone SILU/GELU have no shader yet.
     */
    public static boolean supportsOp(OpKind op, GgmlType type) {
        return switch (op) {
            case GET_ROWS, MUL_MAT, MUL_MAT_ID -> GpuMatrix.TYPES.contains(type);
            case SET_ROWS, FLASH_ATTN_EXT, ATTN_PLAIN, CPY -> VulkanOps.CACHE_TYPES.contains(type);
            case ADD, MUL, SCALE, RMS_NORM, ROPE, SOFT_MAX, SOFTCAP, SWIGLU, GEGLU -> true;
            case NORM, SILU, GELU, TOP_K -> false;
        };
    }

    public VulkanDevice vulkanDevice() {
        return device;
    }

    @Override
    public Device device() {
        return spiDevice;
    }

    @Override
    public int parallelism() {
        return 1;
    }

    @Override
    public void close() {
        device.close();
    }
}
