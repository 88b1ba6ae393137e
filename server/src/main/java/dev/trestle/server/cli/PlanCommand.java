package dev.trestle.server.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.trestle.engine.gguf.GgufFile;
import dev.trestle.scheduler.plan.Plan;
import dev.trestle.scheduler.plan.PlanReport;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code trestle plan -m MODEL [placement flags]}: does it fit, where does every tensor go, how fast can it be. */
@Command(name = "plan", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Plan where a model's weights, KV cache and compute buffers go, per device, before loading anything.",
            "Reads only the GGUF header and tensor table. Exits 3 with concrete fixes when the model does not fit."})
public final class PlanCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ModelSourceFlags source;

    @Option(names = "--json", description = "Print the plan as JSON.")
    boolean json;

    @Mixin
    PlacementFlags placement = new PlacementFlags();

    @Mixin
    ContextFlags context = new ContextFlags();

    @Override
    public Integer call() throws Exception {
        if (!source.given()) {
            throw new dev.trestle.common.TrestleException("no model given",
                    "pass -m FILE.gguf, -hf USER/REPO[:QUANT] (downloaded into the cache first), or --demo");
        }
        Path model = source.resolve(System.getenv(), spec.commandLine().getErr()).path();
        long start = System.nanoTime();
        Plan plan;
        try (GgufFile f = GgufFile.open(model)) {
            plan = ModelPlanning.plan(f, placement, context);
        }
        long micros = (System.nanoTime() - start) / 1000;
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
            out.println(mapper.writeValueAsString(PlanReport.summary(plan)));
        } else {
            out.print(PlanReport.render(plan));
            out.printf(Locale.ROOT, "planned from the header in %.1f ms%n", micros / 1000.0);
        }
        out.flush();
        return 0;
    }
}
