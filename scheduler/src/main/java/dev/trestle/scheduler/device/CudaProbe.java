package dev.trestle.scheduler.device;

import dev.trestle.nativ.cuda.CudaDriver;
import dev.trestle.nativ.cuda.CudaKernels;
import dev.trestle.nativ.cuda.CudaUnavailableException;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Enumerates NVIDIA GPUs through the CUDA driver API: name, compute capability, SM count, PCI bus, and free and
 * total memory (from the device's primary context, as llama.cpp reports it). A missing or old driver, or a GPU
 * older than Trestle's kernels support, is reported in the status, never thrown.
 */
public final class CudaProbe implements DeviceProbe {
    @Override
    public DeviceKind kind() {
        return DeviceKind.CUDA;
    }

    @Override
    public Result probe() {
        CudaDriver cu;
        try {
            cu = CudaDriver.load();
        } catch (CudaUnavailableException e) {
            // "CUDA unavailable: X" is shown as "CUDA  unavailable: X" in the devices table
            String why = e.getMessage().replaceFirst("^CUDA unavailable: ", "");
            return new Result(new BackendStatus(DeviceKind.CUDA, false, "unavailable: " + why
                    + (e.fix() != null ? "; fix: " + e.fix() : "")), List.of());
        }
        List<Device> devices = new ArrayList<>();
        List<String> skipped = new ArrayList<>();
        try {
            int n = cu.deviceGetCount();
            for (int i = 0; i < n; i++) {
                int dev = cu.deviceGet(i);
                String name = cu.deviceGetName(dev);
                int major = cu.deviceGetAttribute(CudaDriver.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, dev);
                int minor = cu.deviceGetAttribute(CudaDriver.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, dev);
                if (major * 10 + minor < CudaKernels.MIN_COMPUTE_CAPABILITY) {
                    skipped.add(name + " (compute " + major + "." + minor + ", below 7.5)");
                    continue;
                }
                int sms = cu.deviceGetAttribute(CudaDriver.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, dev);
                long total = cu.deviceTotalMem(dev);
                long free = total;
                MemorySegment ctx = cu.devicePrimaryCtxRetain(dev);
                try {
                    cu.ctxSetCurrent(ctx);
                    free = cu.memGetInfo()[0];
                } finally {
                    cu.devicePrimaryCtxRelease(dev);
                }
                String info = String.format(Locale.ROOT, "compute %d.%d, %d SMs, PCI %s, driver CUDA %s", major, minor,
                        sms, cu.deviceGetPciBusId(dev), CudaDriver.versionString(cu.driverVersion()));
                devices.add(new Device(DeviceKind.CUDA, devices.size(), name, total, free, info));
            }
        } catch (RuntimeException e) {
            return new Result(new BackendStatus(DeviceKind.CUDA, false, "unavailable: " + e.getMessage()), List.of());
        }
        String detail = devices.size() + " device(s) through " + cu.libraryName() + ", driver CUDA "
                + CudaDriver.versionString(cu.driverVersion())
                + (skipped.isEmpty() ? "" : "; not usable (Trestle's kernels need compute 7.5+): "
                        + String.join(", ", skipped));
        if (devices.isEmpty()) {
            return new Result(new BackendStatus(DeviceKind.CUDA, false, "unavailable: " + detail), List.of());
        }
        return new Result(new BackendStatus(DeviceKind.CUDA, true, detail), devices);
    }
}
