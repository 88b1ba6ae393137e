package dev.trestle.scheduler.plan;

import dev.trestle.common.TrestleException;
import dev.trestle.scheduler.device.Device;
import dev.trestle.scheduler.device.Inventory;
import dev.trestle.scheduler.memory.ComputeBuffers;
import dev.trestle.scheduler.memory.ContextSettings;
import dev.trestle.scheduler.memory.KvCache;
import dev.trestle.scheduler.profile.ModelProfile;
import dev.trestle.scheduler.profile.TensorProfile;
import dev.trestle.scheduler.profile.TensorRole;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Turns a model profile, an inventory and the user's flags into a {@link Plan}, before any byte is
 * allocated. {@link #plan} validates the flags, runs --fit when enabled and throws a
 * {@link TrestleException} naming the device, the shortfall and concrete fixes when nothing fits;
 * {@link #build} evaluates one concrete {@link Layout} and never throws for lack of memory.
 */
public final class Planner {
    /** Exit code of the CLI when a plan does not fit. */
    public static final int EXIT_DOES_NOT_FIT = 3;
    private static final int NOT_FORCED = Integer.MIN_VALUE;
    private static final int MIN_CTX = KvCache.CELL_PAD;

    private Planner() {
    }

    /**
     * The plan for {@code request}: exactly as asked when --fit is off, otherwise the fastest layout
     * --fit finds. Throws a TrestleException (exit code {@link #EXIT_DOES_NOT_FIT}) when it does not fit.
     */
    public static Plan plan(ModelProfile m, Inventory inv, PlacementRequest request) {
        PlacementRequest req = resolveContext(m, request);
        int nGpu = inv.gpus().size();
        validate(m, inv, req);
        double[] userSplit = req.tensorSplit().length > 0 ? TensorSplit.normalize(req.tensorSplit(), nGpu) : null;
        int userMoe = req.cpuMoe() ? m.nLayer() : req.nCpuMoe();
        List<String> notes = new ArrayList<>();
        if (nGpu == 0 && req.gpuLayers().mode() == GpuLayers.Mode.COUNT && req.gpuLayers().count() > 0) {
            notes.add("no GPU in the inventory: -ngl " + req.gpuLayers() + " has no effect, everything runs on the CPU");
        }
        if (nGpu == 0) {
            // never a silent CPU fallback: say why each GPU backend is not used
            for (var st : inv.statuses()) {
                if (!st.available() && !inv.simulated()) {
                    notes.add("no " + st.kind().prefix() + " device: " + st.detail());
                }
            }
        }
        if (userMoe > 0 && !m.isMoe()) {
            notes.add("--n-cpu-moe/--cpu-moe have no effect: " + m.name() + " has no experts");
        }
        if (!req.fitEnabled()) {
            Layout l = new Layout(nGpu == 0 ? 0 : req.gpuLayers().resolve(m.nLayer()), Math.max(0, userMoe),
                    userSplit != null ? userSplit : freeSplit(inv), req.context());
            Plan p = describe(build(m, inv, req, l)).withNotes(notes, false);
            if (!p.fits()) {
                throw doesNotFit(p, Fixes.find(m, inv, req, l), false);
            }
            return p;
        }
        return fit(m, inv, req, userSplit, userMoe, notes);
    }

    /** --fit: experts to the CPU first, then whole layers, then a smaller context down to --fit-ctx. */
    private static Plan fit(ModelProfile m, Inventory inv, PlacementRequest req, double[] userSplit, int userMoe,
                            List<String> notes) {
        int nL = m.nLayer();
        int nGpu = inv.gpus().size();
        int requestedCtx = req.context().nCtx();
        List<Integer> ctxs = new ArrayList<>();
        ctxs.add(requestedCtx);
        int floor = Math.min(requestedCtx, Math.max(MIN_CTX, req.fitCtx()));
        for (int c = requestedCtx / 2; c > floor; c /= 2) {
            ctxs.add(c);
        }
        if (floor < requestedCtx) {
            ctxs.add(floor);
        }
        int maxNgl = nGpu == 0 ? 0 : req.gpuLayers().resolve(nL);
        int minNgl = nGpu == 0 || req.gpuLayers().mode() == GpuLayers.Mode.COUNT ? maxNgl : 0;
        Plan closest = null;
        for (int ctx : ctxs) {
            ContextSettings cs = req.context().withCtx(ctx);
            for (int ngl = maxNgl; ngl >= minNgl; ngl--) {
                int start = Math.max(nL - ngl, 0);
                double[] split = userSplit != null ? userSplit : capacitySplit(m, inv, req, cs, ngl > nL);
                Plan p = smallestFittingMoe(m, inv, req, new Layout(ngl, Math.max(0, userMoe), split, cs), userMoe < 0);
                if (p.fits()) {
                    List<String> more = new ArrayList<>(notes);
                    more.add("--fit chose " + p.flags() + (nGpu == 0 ? " (no GPU: everything on the CPU)" : ""));
                    if (ctx < requestedCtx) {
                        more.add("--fit shrank the context from " + requestedCtx + " to " + ctx
                                + " to fit (it never goes below --fit-ctx " + req.fitCtx() + ")");
                    }
                    return describe(p).withNotes(more, true);
                }
                if (closest == null || closer(p, closest)) {
                    closest = p;
                }
            }
        }
        throw doesNotFit(closest, Fixes.find(m, inv, req, closest.layout()), true);
    }

    /**
     * The failing plan worth reporting: one whose GPUs fit (so the message is about what truly does not
     * fit anywhere) before one that overfills a GPU, then the smaller total shortfall.
     */
    private static boolean closer(Plan a, Plan b) {
        boolean aGpus = gpusFit(a);
        boolean bGpus = gpusFit(b);
        if (aGpus != bGpus) {
            return aGpus;
        }
        return a.totalShortfall() < b.totalShortfall();
    }

    private static boolean gpusFit(Plan p) {
        for (DeviceBudget b : p.gpuBudgets()) {
            if (!b.fits()) {
                return false;
            }
        }
        return true;
    }

    /**
     * With {@code free}, the smallest --n-cpu-moe that fits at this -ngl (GPU memory only shrinks as
     * more experts move to the host, so a binary search over the layers that are on a GPU finds it);
     * otherwise the layout as given. Returns a failing plan when even all experts on the host do not fit.
     */
    private static Plan smallestFittingMoe(ModelProfile m, Inventory inv, PlacementRequest req, Layout l, boolean free) {
        Plan none = balanced(m, inv, req, true, l.withNCpuMoe(free ? 0 : l.nCpuMoe()));
        if (!free || none.fits() || !m.isMoe() || inv.gpus().isEmpty()) {
            return none;
        }
        int lo = Math.max(m.nLayer() - l.gpuLayers(), 0) + 1;  // experts below the first GPU layer are on the host already
        int hi = m.nLayer();
        Plan all = balanced(m, inv, req, true, l.withNCpuMoe(hi));
        if (!gpusFit(all)) {
            return closer(none, all) ? none : all;
        }
        // search on the GPUs alone: host use only grows with --n-cpu-moe, so if the host is short at the
        // smallest value the GPUs accept, it is short at every larger one too
        Plan best = all;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            Plan p = balanced(m, inv, req, true, l.withNCpuMoe(mid));
            if (gpusFit(p)) {
                best = p;
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        return best.layout().nCpuMoe() == lo ? best : balanced(m, inv, req, true, l.withNCpuMoe(lo));
    }

    /**
     * A layer split in proportions can overshoot a GPU by up to half a layer at each boundary. When
     * --fit chooses the split and the proportional one does not fit, fill the GPUs in order instead:
     * each takes consecutive layers while they fit its capacity (free memory less margin and compute
     * buffer), which finds a layer split whenever one exists.
     */
    private static Plan balanced(ModelProfile m, Inventory inv, PlacementRequest req, boolean fitSplit, Layout l) {
        Plan p = build(m, inv, req, l);
        int nGpu = inv.gpus().size();
        if (p.fits() || !fitSplit || nGpu < 2 || req.splitMode() != SplitMode.LAYER || req.tensorSplit().length > 0) {
            return p;
        }
        ContextSettings cs = l.context();
        long[] units = unitBytes(m, inv, req, l);
        long base = ComputeBuffers.forLayers(m, cs, false);
        long logits = ComputeBuffers.forLayers(m, cs, true) - base;
        long streaming = p.host().pinned() / 2;
        boolean outputUnit = Math.min(l.gpuLayers(), m.nLayer() + 1) > m.nLayer();
        double[] placed = new double[nGpu];
        int g = 0;
        long used = 0;
        for (int u = 0; u < units.length; u++) {
            long need = units[u] + (outputUnit && u == units.length - 1 ? logits : 0);
            while (g < nGpu && used + need > capacity(inv, req, g, base + (g == req.mainGpu() ? streaming : 0))) {
                g++;
                used = 0;
            }
            if (g == nGpu) {
                return p;
            }
            used += units[u];
            placed[g] += units[u];
        }
        double total = 0;
        for (double x : placed) {
            total += x;
        }
        if (total == 0) {
            return p;
        }
        for (int i = 0; i < nGpu; i++) {
            placed[i] /= total;
        }
        Plan greedy = build(m, inv, req, new Layout(l.gpuLayers(), l.nCpuMoe(), placed, cs));
        return greedy.fits() ? greedy : p;
    }

    private static long capacity(Inventory inv, PlacementRequest req, int g, long compute) {
        return inv.gpus().get(g).freeBytes() - req.marginBytes(g) - compute;
    }

    /** The default split: proportional to each GPU's free memory (as llama.cpp does). */
    static double[] freeSplit(Inventory inv) {
        int n = inv.gpus().size();
        double[] p = new double[n];
        double sum = 0;
        for (int i = 0; i < n; i++) {
            p[i] = Math.max(0, inv.gpus().get(i).freeBytes());
            sum += p[i];
        }
        for (int i = 0; i < n; i++) {
            p[i] = sum > 0 ? p[i] / sum : 1.0 / n;
        }
        return p;
    }

    /** --fit's split: proportional to what each GPU can hold after its margin and compute buffer. */
    static double[] capacitySplit(ModelProfile m, Inventory inv, PlacementRequest req, ContextSettings cs,
                                  boolean outputOnGpu) {
        int n = inv.gpus().size();
        double[] p = new double[n];
        double sum = 0;
        for (int i = 0; i < n; i++) {
            long compute = ComputeBuffers.forLayers(m, cs, outputOnGpu && i == n - 1);
            p[i] = Math.max(0, inv.gpus().get(i).freeBytes() - req.marginBytes(i) - compute);
            sum += p[i];
        }
        if (sum == 0) {
            return freeSplit(inv);
        }
        for (int i = 0; i < n; i++) {
            p[i] /= sum;
        }
        return p;
    }

    private static PlacementRequest resolveContext(ModelProfile m, PlacementRequest req) {
        if (req.context().nCtx() == 0) {
            return req.withContext(req.context().withCtx(m.nCtxTrain() > 0 ? m.nCtxTrain() : 4096));
        }
        return req;
    }

    private static void validate(ModelProfile m, Inventory inv, PlacementRequest req) {
        int nGpu = inv.gpus().size();
        if (req.mainGpu() < 0 || (nGpu > 0 && req.mainGpu() >= nGpu) || (nGpu == 0 && req.mainGpu() > 0)) {
            throw new TrestleException("-mg " + req.mainGpu() + " is not a GPU index (there "
                    + (nGpu == 1 ? "is 1 GPU" : "are " + nGpu + " GPUs") + ")",
                    "use -mg 0" + (nGpu > 1 ? " to " + (nGpu - 1) : "") + "; trestle devices lists them");
        }
        if (req.nCpuMoe() < -1) {
            throw new TrestleException("--n-cpu-moe " + req.nCpuMoe() + " is negative", "give a layer count, e.g. --n-cpu-moe 20");
        }
        if (req.fitCtx() < 0) {
            throw new TrestleException("--fit-ctx " + req.fitCtx() + " is negative", "e.g. --fit-ctx 4096");
        }
        for (long t : req.fitTargetMiB()) {
            if (t < 0) {
                throw new TrestleException("--fit-target " + t + " is negative", "a margin in MiB, e.g. --fit-target 1024");
            }
        }
        for (TensorOverride o : req.overrides()) {
            if (inv.byId(o.buffer()) == null) {
                List<String> ids = new ArrayList<>();
                for (Device d : inv.devices()) {
                    ids.add(d.id());
                }
                throw new TrestleException("-ot " + o + ": no buffer named " + o.buffer(),
                        "use one of " + String.join(", ", ids));
            }
        }
        if (req.tensorSplit().length > 0) {
            TensorSplit.normalize(req.tensorSplit(), nGpu);
        }
        if (req.splitMode() == SplitMode.ROW && nGpu > 1) {
            for (Device d : inv.gpus()) {
                if (!d.kind().supportsRowSplit()) {
                    throw new TrestleException("-sm row: " + d.id() + " (" + d.kind() + ") cannot split matrices by "
                            + "rows", "use -sm layer (the default) to split whole layers across the GPUs");
                }
            }
        }
    }

    /** Evaluates one concrete layout: homes, budgets and traffic. Never throws for lack of memory. */
    public static Plan build(ModelProfile m, Inventory inv, PlacementRequest req, Layout layout) {
        int nL = m.nLayer();
        List<Device> gpus = inv.gpus();
        int nGpu = gpus.size();
        ContextSettings ctx = layout.context();
        int ngl = nGpu == 0 ? 0 : Math.min(layout.gpuLayers(), nL + 1);
        int start = Math.max(nL - ngl, 0);
        boolean outputOnGpu = ngl > nL;
        int nCpuMoe = Math.min(Math.max(layout.nCpuMoe(), 0), nL);
        int main = nGpu == 0 ? -1 : req.mainGpu();
        double[] split = layout.split();
        List<TensorProfile> ts = m.tensors();
        int nT = ts.size();

        int[] forced = forcedHomes(ts, inv, req);

        long[] kvLayer = new long[nL];
        for (int il = 0; il < nL; il++) {
            kvLayer[il] = KvCache.layerBytes(m.layers().get(il), ctx);
        }

        long[] unitBytes = unitBytes(m, inv, req, layout, forced, kvLayer);
        int nUnits = unitBytes.length;
        int[] unitGpu = new int[nUnits];
        if (req.splitMode() == SplitMode.LAYER) {
            assignByBytes(unitBytes, split, unitGpu);
        } else {
            java.util.Arrays.fill(unitGpu, main);
        }
        int[] layerGpu = new int[nL];
        for (int il = 0; il < nL; il++) {
            layerGpu[il] = il < start ? -1 : unitGpu[il - start];
        }
        int outputGpu = outputOnGpu ? unitGpu[nUnits - 1] : -1;

        // homes
        List<Home> homes = new ArrayList<>(nT);
        long[][] rowShares = new long[nT][];
        for (int i = 0; i < nT; i++) {
            TensorProfile t = ts.get(i);
            Home h;
            if (forced[i] != NOT_FORCED) {
                h = forced[i] < 0 ? Home.CPU : Home.gpu(forced[i]);
            } else if (t.layer() == TensorProfile.INPUT) {
                h = Home.CPU;
            } else if (t.layer() == TensorProfile.OUTPUT_LAYER) {
                h = outputGpu < 0 ? Home.CPU : Home.gpu(outputGpu);
            } else if (t.role() == TensorRole.FFN_EXPERT && t.layer() < nCpuMoe) {
                h = Home.CPU;
            } else {
                h = layerGpu[t.layer()] < 0 ? Home.CPU : Home.gpu(layerGpu[t.layer()]);
            }
            if (req.splitMode() == SplitMode.ROW && !h.isCpu() && forced[i] == NOT_FORCED && t.isRowSplittable()
                    && nGpu > 1) {
                h = new Home(main, true);
                rowShares[i] = rowSplit(t, split);
            }
            homes.add(h);
        }

        // budgets
        long[] gW = new long[nGpu];
        long[] gKv = new long[nGpu];
        long[] gCompute = new long[nGpu];
        boolean[] holdsLayers = new boolean[nGpu];
        long hostW = 0;
        long hostKv = 0;
        long largestStreamed = 0;
        boolean cpuComputes = !outputOnGpu;
        for (int i = 0; i < nT; i++) {
            TensorProfile t = ts.get(i);
            Home h = homes.get(i);
            if (h.isCpu()) {
                if (t.tiedTo() == null || !tiedSourceOnCpu(ts, homes, t.tiedTo())) {
                    hostW += t.bytes();
                }
                if (t.inLayer()) {
                    cpuComputes = true;
                    largestStreamed = Math.max(largestStreamed, t.bytes());
                }
            } else if (h.rowSplit()) {
                for (int g = 0; g < nGpu; g++) {
                    gW[g] += rowShares[i][g];
                }
            } else {
                gW[h.gpu()] += t.bytes();
            }
        }
        for (int il = 0; il < nL; il++) {
            if (layerGpu[il] < 0) {
                hostKv += kvLayer[il];
                cpuComputes = true;
            } else {
                gKv[layerGpu[il]] += kvLayer[il];
                holdsLayers[layerGpu[il]] = true;
            }
        }
        if (outputGpu >= 0) {
            holdsLayers[outputGpu] = true;
        }
        for (int g = 0; g < nGpu; g++) {
            if (holdsLayers[g]) {
                gCompute[g] = ComputeBuffers.forLayers(m, ctx, g == outputGpu);
            } else if (gW[g] > 0) {
                gCompute[g] = ComputeBuffers.forRowSlices(m, ctx);
            }
        }
        long pinned = 0;
        if (nGpu > 0 && largestStreamed > 0) {
            // prefill streams host-resident layer weights through the main GPU: room for one tensor there,
            // double-buffered pinned staging on the host
            if (gCompute[main] == 0) {
                gCompute[main] = ComputeBuffers.forRowSlices(m, ctx);
            }
            gCompute[main] += largestStreamed;
            pinned = 2 * largestStreamed;
        }
        long hostCompute = ComputeBuffers.hostBase(m, ctx) + (cpuComputes ? ComputeBuffers.forLayers(m, ctx, !outputOnGpu) : 0);
        HostBudget.Residency residency = req.noMmap() ? HostBudget.Residency.ANONYMOUS
                : req.mlock() ? HostBudget.Residency.LOCKED : HostBudget.Residency.PAGE_CACHE;
        HostBudget host = new HostBudget(inv.cpu(), hostW, residency, hostKv, hostCompute, pinned);
        List<DeviceBudget> budgets = new ArrayList<>(nGpu);
        for (int g = 0; g < nGpu; g++) {
            budgets.add(new DeviceBudget(gpus.get(g), gW[g], gKv[g], gCompute[g], req.marginBytes(g)));
        }

        List<Traffic> traffic = traffic(m, inv, req, homes, rowShares, layerGpu, kvLayer);
        return new Plan(m, inv, req, new Layout(ngl, nCpuMoe, split, ctx), homes, rowShares, layerGpu, outputGpu,
                budgets, host, traffic, List.of(), false);
    }

    /** Bytes each offloaded unit (layers from the first GPU layer, then the output group) brings to its GPU. */
    static long[] unitBytes(ModelProfile m, Inventory inv, PlacementRequest req, Layout layout) {
        List<TensorProfile> ts = m.tensors();
        int[] forced = forcedHomes(ts, inv, req);
        long[] kvLayer = new long[m.nLayer()];
        for (int il = 0; il < m.nLayer(); il++) {
            kvLayer[il] = KvCache.layerBytes(m.layers().get(il), layout.context());
        }
        return unitBytes(m, inv, req, layout, forced, kvLayer);
    }

    private static long[] unitBytes(ModelProfile m, Inventory inv, PlacementRequest req, Layout layout, int[] forced,
                                    long[] kvLayer) {
        int nL = m.nLayer();
        int ngl = inv.gpus().isEmpty() ? 0 : Math.min(layout.gpuLayers(), nL + 1);
        int start = Math.max(nL - ngl, 0);
        boolean outputOnGpu = ngl > nL;
        int nCpuMoe = Math.min(Math.max(layout.nCpuMoe(), 0), nL);
        List<TensorProfile> ts = m.tensors();
        // offloaded units: layers start..nL-1, then the output group; weighted by the bytes they bring to a GPU
        int nUnits = (nL - start) + (outputOnGpu ? 1 : 0);
        long[] unitBytes = new long[nUnits];
        for (int il = start; il < nL; il++) {
            unitBytes[il - start] = kvLayer[il];
        }
        for (int i = 0; i < ts.size(); i++) {
            TensorProfile t = ts.get(i);
            if (forced[i] != NOT_FORCED) {
                continue;
            }
            if (t.inLayer() && t.layer() >= start && !(t.role() == TensorRole.FFN_EXPERT && t.layer() < nCpuMoe)) {
                unitBytes[t.layer() - start] += t.bytes();
            } else if (t.layer() == TensorProfile.OUTPUT_LAYER && outputOnGpu) {
                unitBytes[nUnits - 1] += t.bytes();
            }
        }
        return unitBytes;
    }

    /** -ot rules come first: the first matching rule wins, as in llama.cpp. NOT_FORCED, -1 (CPU) or a GPU. */
    private static int[] forcedHomes(List<TensorProfile> ts, Inventory inv, PlacementRequest req) {
        int[] forced = new int[ts.size()];
        for (int i = 0; i < ts.size(); i++) {
            forced[i] = NOT_FORCED;
            for (TensorOverride o : req.overrides()) {
                if (o.matches(ts.get(i).name())) {
                    Device d = inv.byId(o.buffer());
                    forced[i] = d == null || !d.isGpu() ? -1 : inv.gpus().indexOf(d);
                    break;
                }
            }
        }
        return forced;
    }

    /** Adds the notes a user needs to read the plan: streaming for prefill, what -ot matched. */
    private static Plan describe(Plan p) {
        List<String> notes = new ArrayList<>();
        HostBudget h = p.host();
        if (h.pinned() > 0) {
            notes.add(String.format(Locale.ROOT, "prefill streams host-resident layer weights through %s (room for the"
                    + " largest, %,d MiB, in its compute buffer; %,d MiB of pinned host staging); decode computes them"
                    + " on the CPU", p.gpu(p.request().mainGpu()).id(), mib(h.pinned() / 2), mib(h.pinned())));
            int from = p.streamExpertsFromTokens();
            if (p.model().isMoe()) {
                notes.add(from == Integer.MAX_VALUE ? "host-resident experts always run on the CPU (streaming them never"
                        + " pays on this machine by the cost model)" : String.format(Locale.ROOT, "host-resident experts"
                        + " are streamed to the GPU for micro-batches of %d+ tokens (cost model; --bandwidth cpu=...,"
                        + " pcie=... refine it), below that they run on the CPU", from));
            }
        }
        if (!p.request().overrides().isEmpty()) {
            int n = 0;
            for (TensorProfile t : p.model().tensors()) {
                for (TensorOverride o : p.request().overrides()) {
                    if (o.matches(t.name())) {
                        n++;
                        break;
                    }
                }
            }
            notes.add("-ot matched " + n + " tensor" + (n == 1 ? "" : "s"));
        }
        return p.withNotes(notes, p.fitted());
    }

    private static boolean tiedSourceOnCpu(List<TensorProfile> ts, List<Home> homes, String source) {
        for (int i = 0; i < ts.size(); i++) {
            if (ts.get(i).name().equals(source)) {
                return i < homes.size() && homes.get(i).isCpu();
            }
        }
        return false;
    }

    /**
     * Layer split by bytes: a unit goes to the GPU whose share of the cumulative byte range contains
     * the unit's midpoint, so each GPU's bytes differ from its proportion by less than one unit.
     */
    static void assignByBytes(long[] unitBytes, double[] split, int[] out) {
        double total = 0;
        for (long b : unitBytes) {
            total += b;
        }
        double[] cumulative = new double[split.length];
        double acc = 0;
        for (int g = 0; g < split.length; g++) {
            acc += split[g];
            cumulative[g] = acc;
        }
        int last = 0;
        for (int g = 0; g < split.length; g++) {
            if (split[g] > 0) {
                last = g;
            }
        }
        double before = 0;
        for (int u = 0; u < unitBytes.length; u++) {
            double mid = total == 0 ? (u + 0.5) / unitBytes.length : (before + unitBytes[u] / 2.0) / total;
            int g = 0;
            while (g < split.length && (mid >= cumulative[g] || split[g] == 0)) {
                g++;
            }
            out[u] = Math.min(g, last);
            before += unitBytes[u];
        }
    }

    /** Rows per GPU rounded to whole quant blocks of rows ({@link RowSlices}); returns bytes per GPU. */
    static long[] rowSplit(TensorProfile t, double[] split) {
        long rowBytes = t.bytes() / t.rows();
        long[] b = RowSlices.boundaries(t.rows(), rowGranule(t), split);
        long[] out = new long[split.length];
        for (int g = 0; g < split.length; g++) {
            out[g] = (b[g + 1] - b[g]) * rowBytes;
        }
        return out;
    }

    /** Row-split boundaries fall on multiples of the type's block size (32 rows for plain types). */
    public static long rowGranule(TensorProfile t) {
        return RowSlices.granule(t.type());
    }

    private static List<Traffic> traffic(ModelProfile m, Inventory inv, PlacementRequest req, List<Home> homes,
                                         long[][] rowShares, int[] layerGpu, long[] kvLayer) {
        int nGpu = inv.gpus().size();
        long[] w = new long[nGpu + 1];      // index 0: CPU, g+1: GPU g
        long[] row = new long[nGpu + 1];
        long[] kv = new long[nGpu + 1];
        List<TensorProfile> ts = m.tensors();
        for (int i = 0; i < ts.size(); i++) {
            TensorProfile t = ts.get(i);
            double fraction = switch (t.role()) {
                case TOKEN_EMBD -> 1.0 / Math.max(1, t.rows());
                case FFN_EXPERT -> m.nExpert() > 0 ? (double) m.nExpertUsed() / m.nExpert() : 1.0;
                default -> 1.0;
            };
            Home h = homes.get(i);
            if (h.rowSplit()) {
                for (int g = 0; g < nGpu; g++) {
                    long b = Math.round(rowShares[i][g] * fraction);
                    w[g + 1] += b;
                    row[g + 1] += b;
                }
            } else {
                w[h.gpu() + 1] += Math.round(t.bytes() * fraction);
            }
        }
        for (int il = 0; il < kvLayer.length; il++) {
            kv[layerGpu[il] + 1] += kvLayer[il];
        }
        List<Traffic> out = new ArrayList<>();
        for (int d = 0; d <= nGpu; d++) {
            Device dev = inv.devices().get(d);
            Double given = req.bandwidths().get(dev.id().toLowerCase(Locale.ROOT));
            double bw;
            String source;
            if (given != null) {
                bw = given;
                source = "--bandwidth";
            } else if (!dev.isGpu()) {
                bw = KnownBandwidth.CPU_ASSUMED;
                source = "assumed (dual-channel DDR5); set --bandwidth cpu=...";
            } else {
                bw = KnownBandwidth.of(dev);
                source = bw > 0 ? "published figure for " + dev.name() : "unknown; set --bandwidth " + dev.id().toLowerCase(Locale.ROOT) + "=...";
            }
            out.add(new Traffic(dev.id(), w[d], row[d], kv[d], bw, source));
        }
        return out;
    }

    private static TrestleException doesNotFit(Plan p, List<String> fixes, boolean afterFit) {
        StringBuilder msg = new StringBuilder();
        msg.append(afterFit ? "no placement fits, even after --fit moved experts and layers to the CPU"
                + " and shrank the context to " + p.layout().context().nCtx() + ":"
                : "the plan does not fit (" + p.flags() + "):");
        for (DeviceBudget b : p.gpuBudgets()) {
            if (!b.fits()) {
                msg.append(String.format(Locale.ROOT,
                        "%n  %s (%s) needs %,d MiB (weights %,d + KV %,d + compute %,d + margin %,d) but has %,d MiB free:"
                                + " short by %,d MiB",
                        b.device().id(), b.device().name(), mib(b.total()), mib(b.weights()), mib(b.kv()),
                        mib(b.compute()), mib(b.margin()), b.free() / (1 << 20), mib(b.shortfall())));
            }
        }
        HostBudget h = p.host();
        if (!h.fits()) {
            msg.append(String.format(Locale.ROOT,
                    "%n  host RAM needs %,d MiB (weights %,d%s + KV %,d + compute %,d + pinned %,d) but %,d MiB are available:"
                            + " short by %,d MiB",
                    mib(h.total()), mib(h.weights()), h.residency() == HostBudget.Residency.PAGE_CACHE
                            ? " in page cache" : "", mib(h.kv()), mib(h.compute()), mib(h.pinned()),
                    h.free() / (1 << 20), mib(h.shortfall())));
        }
        String fix = fixes.isEmpty() ? "use a smaller quantization of the model or a machine with more memory"
                : String.join("; or ", fixes);
        return new TrestleException(msg.toString(), fix, EXIT_DOES_NOT_FIT, null);
    }

    static long mib(long bytes) {
        return (bytes + (1 << 20) - 1) >> 20;
    }
}
