package dev.trestle.scheduler.device;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** The host: total and available RAM from /proc/meminfo, else from the JVM's OperatingSystemMXBean. */
public final class CpuProbe implements DeviceProbe {
    private final Path meminfo;

    public CpuProbe() {
        this(Path.of("/proc/meminfo"));
    }

    CpuProbe(Path meminfo) {
        this.meminfo = meminfo;
    }

    @Override
    public DeviceKind kind() {
        return DeviceKind.CPU;
    }

    @Override
    public Result probe() {
        long total = -1;
        long available = -1;
        String source = "/proc/meminfo";
        if (Files.isReadable(meminfo)) {
            try {
                for (String line : Files.readAllLines(meminfo)) {
                    if (line.startsWith("MemTotal:")) {
                        total = kib(line);
                    } else if (line.startsWith("MemAvailable:")) {
                        available = kib(line);
                    }
                }
            } catch (IOException | NumberFormatException e) {
                total = -1;
            }
        }
        if (total <= 0 || available < 0) {
            // Windows, macOS, or a container without /proc: the JVM's view is the next best
            var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
            total = os.getTotalMemorySize();
            available = os.getFreeMemorySize();
            source = "OperatingSystemMXBean";
        }
        int cores = Runtime.getRuntime().availableProcessors();
        String info = cores + " hardware threads, " + System.getProperty("os.arch") + ", RAM from " + source;
        Device cpu = new Device(DeviceKind.CPU, 0, cpuName(), total, available, info);
        return new Result(new BackendStatus(DeviceKind.CPU, true, "always available (Vector API)"), List.of(cpu));
    }

    private static long kib(String line) {
        String[] parts = line.trim().split("\\s+");
        return Long.parseLong(parts[1]) * 1024;
    }

    private static String cpuName() {
        Path cpuinfo = Path.of("/proc/cpuinfo");
        if (Files.isReadable(cpuinfo)) {
            try (var lines = Files.lines(cpuinfo)) {
                var model = lines.filter(l -> l.startsWith("model name")).findFirst();
                if (model.isPresent()) {
                    return model.get().substring(model.get().indexOf(':') + 1).trim();
                }
            } catch (IOException | java.io.UncheckedIOException ignored) {
                // fall through to the generic name
            }
        }
        return "CPU (" + System.getProperty("os.arch") + ")";
    }
}
