package dev.trestle.scheduler.device;

import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.util.List;
import java.util.Locale;

/**
 * Checks whether a GPU backend's driver library can be loaded (libcuda.so.1 / nvcuda.dll,
 * libvulkan.so.1 / vulkan-1.dll / libvulkan.1.dylib). It enumerates no devices: the CUDA and
 * Vulkan backends replace this probe with a real one behind the same interface.
 */
public final class LibraryProbe implements DeviceProbe {
    private final DeviceKind kind;
    private final List<String> libraries;
    private final String missingHint;

    public LibraryProbe(DeviceKind kind, List<String> libraries, String missingHint) {
        this.kind = kind;
        this.libraries = List.copyOf(libraries);
        this.missingHint = missingHint;
    }

    /** The CUDA driver probe for this operating system. */
    public static LibraryProbe cuda() {
        return new LibraryProbe(DeviceKind.CUDA, isWindows() ? List.of("nvcuda.dll") : List.of("libcuda.so.1", "libcuda.so"),
                "no NVIDIA driver installed (the CUDA toolkit alone does not provide it)");
    }

    /** The Vulkan loader probe for this operating system. */
    public static LibraryProbe vulkan() {
        List<String> libs = isWindows() ? List.of("vulkan-1.dll")
                : System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("mac")
                        ? List.of("libvulkan.1.dylib", "libMoltenVK.dylib")
                        : List.of("libvulkan.so.1", "libvulkan.so");
        return new LibraryProbe(DeviceKind.VULKAN, libs,
                "no Vulkan loader installed (Debian/Ubuntu: apt-get install libvulkan1 plus a driver such as mesa-vulkan-drivers)");
    }

    @Override
    public DeviceKind kind() {
        return kind;
    }

    @Override
    public Result probe() {
        for (String lib : libraries) {
            try (Arena arena = Arena.ofConfined()) {
                SymbolLookup.libraryLookup(lib, arena);
                return new Result(new BackendStatus(kind, false, "unavailable: " + lib
                        + " loads, but this build has no " + kind.prefix() + " device enumeration yet"), List.of());
            } catch (IllegalArgumentException | IllegalCallerException e) {
                // not found under this name: try the next one
            }
        }
        return new Result(new BackendStatus(kind, false, "unavailable: " + String.join(" / ", libraries)
                + " not found: " + missingHint), List.of());
    }

    private static boolean isWindows() {
        return System.getProperty("os.name", "").toLowerCase(Locale.ROOT).startsWith("windows");
    }
}
