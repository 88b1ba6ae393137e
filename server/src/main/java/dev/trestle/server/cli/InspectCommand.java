package dev.trestle.server.cli;

import dev.trestle.engine.gguf.GgufFile;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code trestle inspect FILE.gguf}: what a model file claims. */
@Command(name = "inspect", mixinStandardHelpOptions = true,
        description = "Print a GGUF file's architecture, hyperparameters and tensors.")
public final class InspectCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "FILE", description = "GGUF model file")
    Path file;

    @Override
    public Integer call() {
        try (GgufFile f = GgufFile.open(file)) {
            spec.commandLine().getOut().println("architecture: " + f.metadata().architecture());
            spec.commandLine().getOut().println("tensors: " + f.tensors().size());
        }
        return 0;
    }
}
