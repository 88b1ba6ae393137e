package dev.trestle.backends.vulkan;

import static org.lwjgl.system.MemoryStack.stackPush;
import static org.lwjgl.vulkan.EXTDebugUtils.*;
import static org.lwjgl.vulkan.KHRPortabilityEnumeration.VK_INSTANCE_CREATE_ENUMERATE_PORTABILITY_BIT_KHR;
import static org.lwjgl.vulkan.VK10.*;
import static org.lwjgl.vulkan.VK11.*;

import dev.trestle.common.TrestleException;
import java.nio.IntBuffer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.lwjgl.PointerBuffer;
import org.lwjgl.system.MemoryStack;
import org.lwjgl.vulkan.*;

/**
 * The process-wide Vulkan instance and its physical devices. With {@code -Dtrestle.vulkan.validation=true}
 * (or {@code TRESTLE_VULKAN_VALIDATION=1}) the Khronos validation layer is enabled and every warning or error
 * it reports is kept, so tests can assert a clean run; {@code auto} (the test suites' setting) enables it when
 * installed, and requires it under {@code CI=true}.
 */
public final class VulkanInstance {
    private static VulkanInstance shared;
    private static Throwable sharedFailure;

    private final VkInstance instance;
    private final boolean validation;
    private final List<String> messages = new ArrayList<>();
    private final List<VkPhysicalDevice> physical = new ArrayList<>();
    private final List<VulkanDeviceInfo> infos = new ArrayList<>();
    private VkDebugUtilsMessengerCallbackEXT callback;

    private VulkanInstance(boolean validation) {
        try (MemoryStack stack = stackPush()) {
            Set<String> available = instanceExtensions(stack);
            Set<String> layers = instanceLayers(stack);
            boolean installed = layers.contains("VK_LAYER_KHRONOS_validation")
                    && available.contains(VK_EXT_DEBUG_UTILS_EXTENSION_NAME);
            boolean useValidation = validation && installed;
            if (validation && !installed && !"auto".equals(System.getProperty("trestle.vulkan.validation", ""))
                    || validation && !installed && "true".equalsIgnoreCase(System.getenv("CI"))) {
                throw new TrestleException("Vulkan validation was requested but VK_LAYER_KHRONOS_validation is not "
                        + "installed", "apt-get install vulkan-validationlayers, or unset trestle.vulkan.validation");
            }
            this.validation = useValidation;
            List<String> exts = new ArrayList<>();
            int flags = 0;
            if (available.contains("VK_KHR_portability_enumeration")) {
                exts.add("VK_KHR_portability_enumeration"); // MoltenVK lists its devices only with this
                flags |= VK_INSTANCE_CREATE_ENUMERATE_PORTABILITY_BIT_KHR;
            }
            if (available.contains("VK_KHR_get_physical_device_properties2")) {
                exts.add("VK_KHR_get_physical_device_properties2");
            }
            if (useValidation) {
                exts.add(VK_EXT_DEBUG_UTILS_EXTENSION_NAME);
            }
            PointerBuffer extNames = stack.mallocPointer(exts.size());
            for (String e : exts) {
                extNames.put(stack.UTF8(e));
            }
            extNames.flip();
            PointerBuffer layerNames = null;
            if (useValidation) {
                layerNames = stack.pointers(stack.UTF8("VK_LAYER_KHRONOS_validation"));
            }
            VkApplicationInfo app = VkApplicationInfo.calloc(stack).sType$Default()
                    .pApplicationName(stack.UTF8("trestle")).pEngineName(stack.UTF8("trestle"))
                    .apiVersion(org.lwjgl.vulkan.VK12.VK_API_VERSION_1_2);
            VkInstanceCreateInfo ci = VkInstanceCreateInfo.calloc(stack).sType$Default().flags(flags)
                    .pApplicationInfo(app).ppEnabledExtensionNames(extNames).ppEnabledLayerNames(layerNames);
            PointerBuffer pi = stack.mallocPointer(1);
            VulkanCheck.check(vkCreateInstance(ci, null, pi), "vkCreateInstance");
            instance = new VkInstance(pi.get(0), ci);
            if (useValidation) {
                installMessenger(stack);
            }
            IntBuffer count = stack.mallocInt(1);
            VulkanCheck.check(vkEnumeratePhysicalDevices(instance, count, null), "vkEnumeratePhysicalDevices");
            PointerBuffer devs = stack.mallocPointer(count.get(0));
            VulkanCheck.check(vkEnumeratePhysicalDevices(instance, count, devs), "vkEnumeratePhysicalDevices");
            for (int i = 0; i < count.get(0); i++) {
                VkPhysicalDevice pd = new VkPhysicalDevice(devs.get(i), instance);
                VulkanDeviceInfo info = DeviceQuery.describe(pd, physical.size());
                if (info != null) {
                    physical.add(pd);
                    infos.add(info);
                }
            }
        }
    }

    private void installMessenger(MemoryStack stack) {
        callback = VkDebugUtilsMessengerCallbackEXT.create((severity, types, data, user) -> {
            String msg = VkDebugUtilsMessengerCallbackDataEXT.create(data).pMessageString();
            synchronized (messages) {
                messages.add(msg);
            }
            System.err.println("[vulkan validation] " + msg);
            return VK_FALSE;
        });
        VkDebugUtilsMessengerCreateInfoEXT mi = VkDebugUtilsMessengerCreateInfoEXT.calloc(stack).sType$Default()
                .messageSeverity(VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT
                        | VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT)
                .messageType(VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT
                        | VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT
                        | VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT)
                .pfnUserCallback(callback);
        java.nio.LongBuffer lb = stack.mallocLong(1);
        VulkanCheck.check(vkCreateDebugUtilsMessengerEXT(instance, mi, null, lb), "vkCreateDebugUtilsMessengerEXT");
    }

    private static Set<String> instanceExtensions(MemoryStack stack) {
        IntBuffer n = stack.mallocInt(1);
        VulkanCheck.check(vkEnumerateInstanceExtensionProperties((java.nio.ByteBuffer) null, n, null),
                "vkEnumerateInstanceExtensionProperties");
        VkExtensionProperties.Buffer props = VkExtensionProperties.malloc(n.get(0), stack);
        VulkanCheck.check(vkEnumerateInstanceExtensionProperties((java.nio.ByteBuffer) null, n, props),
                "vkEnumerateInstanceExtensionProperties");
        Set<String> s = new HashSet<>();
        for (VkExtensionProperties p : props) {
            s.add(p.extensionNameString());
        }
        return s;
    }

    private static Set<String> instanceLayers(MemoryStack stack) {
        IntBuffer n = stack.mallocInt(1);
        VulkanCheck.check(vkEnumerateInstanceLayerProperties(n, null), "vkEnumerateInstanceLayerProperties");
        VkLayerProperties.Buffer props = VkLayerProperties.malloc(n.get(0), stack);
        VulkanCheck.check(vkEnumerateInstanceLayerProperties(n, props), "vkEnumerateInstanceLayerProperties");
        Set<String> s = new HashSet<>();
        for (VkLayerProperties p : props) {
            s.add(p.layerNameString());
        }
        return s;
    }

    /** True when validation was requested ({@code true} or {@code auto}) by property or environment. */
    public static boolean validationRequested() {
        String p = System.getProperty("trestle.vulkan.validation", "");
        return "true".equalsIgnoreCase(p) || "auto".equalsIgnoreCase(p)
                || "1".equals(System.getenv("TRESTLE_VULKAN_VALIDATION"));
    }

    /**
     * The shared instance (created on first call; kept for the life of the process). Fails with a
     * {@link TrestleException} naming the cause when no Vulkan loader or driver is present.
     */
    public static synchronized VulkanInstance get() {
        if (shared == null) {
            if (sharedFailure != null) {
                throw unavailable(sharedFailure);
            }
            try {
                shared = new VulkanInstance(validationRequested());
            } catch (Throwable t) {
                sharedFailure = t;
                throw unavailable(t);
            }
        }
        return shared;
    }

    private static TrestleException unavailable(Throwable t) {
        if (t instanceof TrestleException te) {
            return te;
        }
        return new TrestleException("Vulkan is unavailable: " + t.getMessage(),
                "install a Vulkan loader and driver (Debian/Ubuntu: apt-get install libvulkan1 mesa-vulkan-drivers)",
                1, t);
    }

    VkInstance handle() {
        return instance;
    }

    /** Devices usable for compute, in enumeration order. */
    public List<VulkanDeviceInfo> devices() {
        return List.copyOf(infos);
    }

    VkPhysicalDevice physical(int index) {
        return physical.get(index);
    }

    public boolean validationEnabled() {
        return validation;
    }

    /** Validation messages (warnings and errors) reported so far. */
    public List<String> validationMessages() {
        synchronized (messages) {
            return List.copyOf(messages);
        }
    }
}
