package dev.trestle.scheduler.plan;

import dev.trestle.scheduler.device.Device;
import dev.trestle.scheduler.memory.ContextSettings;
import dev.trestle.scheduler.memory.KvCache;
import dev.trestle.scheduler.profile.ModelProfile;
import dev.trestle.scheduler.profile.TensorProfile;
import dev.trestle.scheduler.profile.TensorRole;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** The plan as a user reads it: a table per device, where layers and experts live, per-token traffic. */
public final class PlanReport {
    private PlanReport() {
    }

    /** One memory's row of the budget table (bytes). */
    public record MemoryRow(String id, String name, long weights, long kv, long compute, long margin, long pinned,
                            long total, long free, boolean fits, String weightResidency, String layers,
                            String experts, boolean outputHead, long otherTensors) {
    }

    /** Per-token traffic of one memory. */
    public record TrafficRow(String id, long weightBytesPerToken, long kvBytesPerTokenFullContext,
                             double bandwidthBytesPerSecond, String bandwidthSource) {
    }

    /** Everything the table shows, as data (the --json output). */
    public record Summary(String model, String architecture, int layers, int experts, int expertsUsed,
                          long weightBytes, int ctx, int parallel, int batch, int ubatch, String cacheTypeK,
                          String cacheTypeV, String flashAttention, String splitMode, int gpuLayers, int nCpuMoe,
                          double[] tensorSplit, String flags, boolean fitted,
                          boolean fits, List<MemoryRow> memories, List<TrafficRow> perToken,
                          double tokensPerSecondCeilingEmptyContext, double tokensPerSecondCeilingFullContext,
                          long vramBytes, long totalBytes, List<String> notes) {
    }

    /** The plan as data. */
    public static Summary summary(Plan p) {
        ModelProfile m = p.model();
        ContextSettings c = p.layout().context();
        List<MemoryRow> rows = new ArrayList<>();
        HostBudget h = p.host();
        rows.add(new MemoryRow("CPU", h.cpu().name(), h.weights(), h.kv(), h.compute(), 0, h.pinned(), h.total(),
                h.free(), h.fits(), h.residency().name().toLowerCase(Locale.ROOT).replace('_', ' '),
                layersOn(p, -1), expertsOn(p, -1), p.outputGpu() < 0, otherOn(p, -1)));
        for (int g = 0; g < p.gpuBudgets().size(); g++) {
            DeviceBudget b = p.gpuBudgets().get(g);
            rows.add(new MemoryRow(b.device().id(), b.device().name(), b.weights(), b.kv(), b.compute(), b.margin(), 0,
                    b.total(), b.free(), b.fits(), "device", layersOn(p, g), expertsOn(p, g), p.outputGpu() == g,
                    otherOn(p, g)));
        }
        List<TrafficRow> traffic = new ArrayList<>();
        for (Traffic t : p.traffic()) {
            traffic.add(new TrafficRow(t.deviceId(), t.weightBytes(), t.kvBytesFullCtx(), t.bandwidth(), t.bandwidthSource()));
        }
        return new Summary(m.name(), m.architecture(), m.nLayer(), m.nExpert(), m.nExpertUsed(), m.storedBytes(), c.nCtx(),
                c.nParallel(), c.nBatch(), c.effectiveUbatch(), c.typeK().llamaName(), c.typeV().llamaName(),
                c.flashAttn().name().toLowerCase(Locale.ROOT), p.request().splitMode().toString(),
                p.inventory().gpus().isEmpty() ? 0 : p.layout().gpuLayers(), p.layout().nCpuMoe(), p.layout().split(),
                p.flags(), p.fitted(),
                p.fits(), rows, traffic, p.tokensPerSecondCeiling(false), p.tokensPerSecondCeiling(true), p.vramUsed(),
                p.vramUsed() + h.total(), p.notes());
    }

    /** The table printed by {@code trestle plan} and at the start of serve/run. */
    public static String render(Plan p) {
        Summary s = summary(p);
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "model    %s (%s): %d layers%s, %s of weights%n", s.model(), s.architecture(),
                s.layers(), s.experts() > 0 ? ", " + s.experts() + " experts (" + s.expertsUsed() + " active)" : "",
                gib(s.weightBytes())));
        sb.append(String.format(Locale.ROOT, "context  -c %d (%d KV cells) -np %d -b %d -ub %d -ctk %s -ctv %s -fa %s%n",
                s.ctx(), KvCache.contextCells(s.ctx()), s.parallel(), s.batch(), s.ubatch(), s.cacheTypeK(),
                s.cacheTypeV(), s.flashAttention()));
        sb.append(String.format(Locale.ROOT, "flags    %s%s%n%n", s.flags(), s.fitted() ? "   (chosen by --fit)" : ""));
        sb.append(String.format(Locale.ROOT, "%-7s %-22s %10s %10s %10s %10s %11s %11s  %s%n",
                "memory", "name", "weights", "KV", "compute", "margin", "total", "free", "fits"));
        for (MemoryRow r : s.memories()) {
            long extra = r.pinned();
            sb.append(String.format(Locale.ROOT, "%-7s %-22s %10s %10s %10s %10s %11s %11s  %s%n",
                    r.id(), cut(r.name(), 22), mib(r.weights()), mib(r.kv()), mib(r.compute() + extra),
                    r.id().equals("CPU") ? "-" : mib(r.margin()), mib(r.total()), mib(r.free()),
                    r.fits() ? "yes" : "NO, short by " + mib(r.total() - r.free())));
        }
        HostBudget h = p.host();
        sb.append(String.format(Locale.ROOT, "         host weights are %s; host compute includes %s of pinned staging%n",
                switch (h.residency()) {
                    case PAGE_CACHE -> "mmap'd (page cache)";
                    case LOCKED -> "mmap'd and locked (--mlock)";
                    case ANONYMOUS -> "copied into RAM (--no-mmap)";
                }, mib(h.pinned())));
        sb.append(String.format(Locale.ROOT, "         in VRAM %s, in total %s%n%n", gib(s.vramBytes()), gib(s.totalBytes())));
        sb.append("placement\n");
        for (MemoryRow r : s.memories()) {
            List<String> parts = new ArrayList<>();
            if (embeddingsOn(p, r.id())) {
                parts.add("token embeddings");
            }
            if (!r.layers().isEmpty()) {
                parts.add("layers " + r.layers());
            }
            if (!r.experts().isEmpty() && !r.experts().equals(r.layers())) {
                parts.add("experts of layers " + r.experts());
            }
            if (r.outputHead()) {
                parts.add("output head");
            }
            if (r.otherTensors() > 0) {
                parts.add(r.otherTensors() + (r.otherTensors() == 1 ? " tensor" : " tensors") + " placed by -ot");
            }
            if (!parts.isEmpty()) {
                sb.append(String.format(Locale.ROOT, "  %-6s %s%n", r.id(), String.join(", ", parts)));
            }
        }
        if (p.request().splitMode() == SplitMode.ROW && p.gpuBudgets().size() > 1) {
            sb.append("  (-sm row: matrices of offloaded layers are cut by rows " + TensorSplit.percent(p.layout().split())
                    + " across GPUs; KV, norms and experts on main GPU CUDA" + p.request().mainGpu() + ")\n");
        }
        sb.append(String.format(Locale.ROOT, "%nper generated token  %14s %16s  %s%n", "weights read", "KV read (full)", "bandwidth"));
        for (TrafficRow t : s.perToken()) {
            if (t.weightBytesPerToken() == 0 && t.kvBytesPerTokenFullContext() == 0) {
                continue;
            }
            sb.append(String.format(Locale.ROOT, "  %-18s %14s %16s  %s%n", t.id(), mib(t.weightBytesPerToken()),
                    mib(t.kvBytesPerTokenFullContext()), t.bandwidthBytesPerSecond() > 0
                            ? String.format(Locale.ROOT, "%.0f GB/s (%s)", t.bandwidthBytesPerSecond() / 1e9, t.bandwidthSource())
                            : t.bandwidthSource()));
        }
        if (s.tokensPerSecondCeilingEmptyContext() > 0) {
            sb.append(String.format(Locale.ROOT, "ceiling  %.1f tokens/s at an empty context, %.1f at a full one (memory-bandwidth bound)%n",
                    s.tokensPerSecondCeilingEmptyContext(), s.tokensPerSecondCeilingFullContext()));
        } else {
            sb.append("ceiling  unknown: give --bandwidth for every memory with traffic\n");
        }
        for (String n : s.notes()) {
            sb.append("note     ").append(n).append('\n');
        }
        return sb.toString();
    }

    private static boolean embeddingsOn(Plan p, String id) {
        List<TensorProfile> ts = p.model().tensors();
        for (int i = 0; i < ts.size(); i++) {
            if (ts.get(i).role() == TensorRole.TOKEN_EMBD) {
                int g = p.home(i).gpu();
                return (g < 0 ? "CPU" : p.gpu(g).id()).equals(id);
            }
        }
        return false;
    }

    private static String layersOn(Plan p, int gpu) {
        List<Integer> ls = new ArrayList<>();
        for (int il = 0; il < p.model().nLayer(); il++) {
            if (p.layerGpu(il) == gpu) {
                ls.add(il);
            }
        }
        return ranges(ls);
    }

    private static String expertsOn(Plan p, int gpu) {
        List<TensorProfile> ts = p.model().tensors();
        java.util.TreeSet<Integer> ls = new java.util.TreeSet<>();
        for (int i = 0; i < ts.size(); i++) {
            TensorProfile t = ts.get(i);
            if (t.role() == TensorRole.FFN_EXPERT && t.inLayer() && p.home(i).gpu() == gpu) {
                ls.add(t.layer());
            }
        }
        return ranges(new ArrayList<>(ls));
    }

    /** Tensors whose home differs from their layer's because of -ot. */
    private static long otherOn(Plan p, int gpu) {
        if (p.request().overrides().isEmpty()) {
            return 0;
        }
        long n = 0;
        List<TensorProfile> ts = p.model().tensors();
        for (int i = 0; i < ts.size(); i++) {
            TensorProfile t = ts.get(i);
            for (TensorOverride o : p.request().overrides()) {
                if (o.matches(t.name())) {
                    Device d = p.inventory().byId(o.buffer());
                    int target = d == null || !d.isGpu() ? -1 : p.inventory().gpus().indexOf(d);
                    n += target == gpu ? 1 : 0;
                    break;
                }
            }
        }
        return n;
    }

    /** "0-29, 31, 40-47". */
    static String ranges(List<Integer> sorted) {
        StringBuilder sb = new StringBuilder();
        int i = 0;
        while (i < sorted.size()) {
            int j = i;
            while (j + 1 < sorted.size() && sorted.get(j + 1) == sorted.get(j) + 1) {
                j++;
            }
            if (!sb.isEmpty()) {
                sb.append(", ");
            }
            sb.append(sorted.get(i));
            if (j > i) {
                sb.append('-').append(sorted.get(j));
            }
            i = j + 1;
        }
        return sb.toString();
    }

    private static String mib(long bytes) {
        return String.format(Locale.ROOT, "%,d MiB", (bytes + (1 << 20) - 1) >> 20);
    }

    private static String gib(long bytes) {
        return String.format(Locale.ROOT, "%.2f GiB", bytes / (double) (1L << 30));
    }

    private static String cut(String s, int n) {
        return s.length() <= n ? s : s.substring(0, n - 1) + "~";
    }
}
