package dev.trestle.server.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.trestle.scheduler.device.BackendStatus;
import dev.trestle.scheduler.device.Device;
import dev.trestle.scheduler.device.Inventory;
import dev.trestle.scheduler.memory.ByteSize;
import java.io.PrintWriter;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code trestle devices}: every device the backends see, and why a backend is unavailable. */
@Command(name = "devices", mixinStandardHelpOptions = true,
        description = "List the CPU and every GPU the backends see (memory, driver), and why a backend is unavailable.")
public final class DevicesCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--json", description = "Print the inventory as JSON.")
    boolean json;

    @Mixin
    SimulationFlags simulation = new SimulationFlags();

    @Override
    public Integer call() throws Exception {
        Inventory inv = simulation.inventory();
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(inv));
            out.flush();
            return 0;
        }
        out.printf(Locale.ROOT, "%-8s %-7s %-36s %11s %11s  %s%n", "id", "backend", "name", "total", "free", "info");
        for (Device d : inv.devices()) {
            out.printf(Locale.ROOT, "%-8s %-7s %-36s %11s %11s  %s%n", d.id(), d.kind(), d.name(),
                    ByteSize.format(d.totalBytes()), ByteSize.format(d.freeBytes()), d.info());
        }
        out.println();
        out.println("backends");
        for (BackendStatus s : inv.statuses()) {
            out.printf(Locale.ROOT, "  %-7s %s%n", s.kind(), s.available() ? "available: " + s.detail() : s.detail());
        }
        if (inv.simulated()) {
            out.println("(simulated inventory: --sim-devices/--sim-ram)");
        }
        out.flush();
        return 0;
    }
}
