package dev.trestle.server.cli;

import dev.trestle.engine.gguf.GgufFile;
import dev.trestle.engine.plan.GgufProfiles;
import dev.trestle.scheduler.plan.Plan;
import dev.trestle.scheduler.plan.PlanReport;
import dev.trestle.scheduler.plan.Planner;
import java.io.PrintWriter;

/**
 * Plans a model from the shared flag mixins: what {@code trestle plan} prints, and what serve and run
 * print at startup before they allocate anything.
 */
public final class ModelPlanning {
    private ModelPlanning() {
    }

    /** Plans {@code model}; throws a TrestleException with fixes (exit code 3) when it does not fit. */
    public static Plan plan(GgufFile model, PlacementFlags placement, ContextFlags context) {
        return Planner.plan(GgufProfiles.of(model), placement.inventory(), placement.toRequest(context.toSettings()));
    }

    /** Plans and prints the table to {@code out} (serve/run call this at startup). */
    public static Plan planAndPrint(GgufFile model, PlacementFlags placement, ContextFlags context, PrintWriter out) {
        Plan p = plan(model, placement, context);
        out.print(PlanReport.render(p));
        out.flush();
        return p;
    }
}
