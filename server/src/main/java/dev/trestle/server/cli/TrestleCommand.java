package dev.trestle.server.cli;

import picocli.CommandLine.Command;

/** The top-level {@code trestle} command: only dispatches to subcommands. */
@Command(name = "trestle",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        description = "Local LLM inference for the JVM: GGUF models on CPU, CUDA and Vulkan, OpenAI-compatible server.",
        subcommands = {
            // one subcommand per line: InspectCommand, RunCommand, ServeCommand, PlanCommand, ...
            InspectCommand.class,
            TokenizeCommand.class,
            TemplateCommand.class,
            PlanCommand.class,
            DevicesCommand.class,
            RunCommand.class,
            ServeCommand.class,
            ModelsCommand.class,
            BenchCommand.class,
        })
public final class TrestleCommand implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
