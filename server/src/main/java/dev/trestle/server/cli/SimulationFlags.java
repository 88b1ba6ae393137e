package dev.trestle.server.cli;

import dev.trestle.scheduler.device.Inventory;
import dev.trestle.scheduler.memory.ByteSize;
import picocli.CommandLine.Option;

/** {@code --sim-devices} and {@code --sim-ram}: plan for a machine other than this one. */
public final class SimulationFlags {
    @Option(names = "--sim-devices", paramLabel = "KIND:NAME:SIZE[:FREE],...",
            description = "Plan for simulated GPUs instead of the detected ones, e.g. \"cuda:RTX 5060 Ti:16GiB,cuda:RTX 4060:8GiB\".")
    String simDevices;

    @Option(names = "--sim-ram", paramLabel = "SIZE", description = "Plan for this much host RAM (e.g. 64GiB) instead of what is available.")
    String simRam;

    /** The inventory to plan with: simulated where asked, probed otherwise. */
    public Inventory inventory() {
        long ram = simRam == null ? 0 : ByteSize.parse(simRam, "--sim-ram");
        if (simDevices != null) {
            return Inventory.simulated(simDevices, ram);
        }
        Inventory real = Inventory.detect();
        return ram > 0 ? real.withRam(ram) : real;
    }
}
