package dev.trestle.scheduler.plan;

import dev.trestle.backends.type.GgmlType;
import dev.trestle.scheduler.device.Inventory;
import dev.trestle.scheduler.memory.ByteSize;
import dev.trestle.scheduler.memory.ContextSettings;
import dev.trestle.scheduler.memory.FlashAttention;
import dev.trestle.scheduler.memory.KvCache;
import dev.trestle.scheduler.profile.ModelProfile;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Concrete fixes for a layout that does not fit, each checked by planning it: the smallest
 * --n-cpu-moe that fits, the largest -ngl that fits, a cheaper cache type and what it saves, the
 * largest context that fits. Only fixes that change one knob are offered, so each is a single edit.
 */
final class Fixes {
    private Fixes() {
    }

    static List<String> find(ModelProfile m, Inventory inv, PlacementRequest req, Layout l) {
        List<String> fixes = new ArrayList<>();
        Plan failing = Planner.build(m, inv, req, l);
        boolean gpuShort = failing.gpuBudgets().stream().anyMatch(b -> !b.fits());
        boolean hostShort = !failing.host().fits();
        int nL = m.nLayer();
        int start = Math.max(nL - l.gpuLayers(), 0);

        if (gpuShort && m.isMoe()) {
            for (int n = Math.max(l.nCpuMoe(), start) + 1; n <= nL; n++) {
                if (Planner.build(m, inv, req, l.withNCpuMoe(n)).fits()) {
                    fixes.add(n == nL ? "--cpu-moe (all experts in host RAM)"
                            : (l.nCpuMoe() > 0 ? "raise --n-cpu-moe to " : "add --n-cpu-moe ") + n);
                    break;
                }
            }
        }
        if (gpuShort) {
            for (int g = l.gpuLayers() - 1; g >= 0; g--) {
                if (Planner.build(m, inv, req, l.withGpuLayers(g)).fits()) {
                    fixes.add("lower -ngl to " + g);
                    break;
                }
            }
        }
        if (hostShort && !inv.gpus().isEmpty()) {
            for (int n = l.nCpuMoe() - 1; n >= 0 && m.isMoe(); n--) {
                if (Planner.build(m, inv, req, l.withNCpuMoe(n)).fits()) {
                    fixes.add("lower --n-cpu-moe to " + n);
                    break;
                }
            }
            for (int g = l.gpuLayers() + 1; g <= nL + 1; g++) {
                if (Planner.build(m, inv, req, l.withGpuLayers(g)).fits()) {
                    fixes.add("raise -ngl to " + g);
                    break;
                }
            }
        }
        cacheTypeFix(m, inv, req, l, failing).ifPresent(fixes::add);
        contextFix(m, inv, req, l).ifPresent(fixes::add);
        if (fixes.stream().allMatch(f -> f.contains("not enough alone"))) {
            long need = failing.vramUsed() + failing.host().total();
            long have = failing.host().free();
            for (var b : failing.gpuBudgets()) {
                have += Math.max(0, b.free() - b.margin());
            }
            if (need > have) {
                fixes.add(String.format(Locale.ROOT, "this machine is %.1f GiB short overall: use a smaller quantization"
                        + " of the model (e.g. Q3_K_M or IQ3_XS) or add memory", (need - have) / (double) ByteSize.GIB));
            }
        }
        if (hostShort && (req.mlock() || req.noMmap())) {
            fixes.add("note: host weights are " + (req.noMmap() ? "copied (--no-mmap)" : "locked (--mlock)")
                    + "; they count against RAM either way");
        }
        return fixes;
    }

    private static Optional<String> cacheTypeFix(ModelProfile m, Inventory inv, PlacementRequest req, Layout l,
                                                           Plan failing) {
        ContextSettings c = l.context();
        GgmlType[][] options = {
            {GgmlType.Q8_0, GgmlType.Q8_0}, {GgmlType.Q8_0, GgmlType.Q4_0}, {GgmlType.Q4_0, GgmlType.Q4_0},
        };
        long current = failing.kvTotal();
        String best = null;
        for (GgmlType[] o : options) {
            ContextSettings cs;
            try {
                cs = c.withCacheTypes(o[0], o[1], c.flashAttn() == FlashAttention.OFF ? FlashAttention.ON : c.flashAttn());
                Plan p = Planner.build(m, inv, req, l.withContext(cs));
                long saved = current - p.kvTotal();
                if (saved <= 0) {
                    continue;
                }
                String text = "-ctk " + o[0].llamaName() + " -ctv " + o[1].llamaName()
                        + (c.flashAttn() == FlashAttention.OFF ? " -fa on" : "") + " saves " + gib(saved);
                if (p.fits()) {
                    return Optional.of(text);
                }
                best = text + " (not enough alone)";
            } catch (RuntimeException e) {
                // this model's head size cannot use that cache type
            }
        }
        return Optional.ofNullable(best);
    }

    private static Optional<String> contextFix(ModelProfile m, Inventory inv, PlacementRequest req, Layout l) {
        int ctx = l.context().nCtx();
        int lo = 0;
        int hi = (ctx - 1) / KvCache.CELL_PAD;  // candidates: multiples of 256 below ctx
        if (hi < 1 || !fitsAt(m, inv, req, l, KvCache.CELL_PAD)) {
            return Optional.empty();
        }
        lo = 1;
        while (lo < hi) {
            int mid = (lo + hi + 1) / 2;
            if (fitsAt(m, inv, req, l, mid * KvCache.CELL_PAD)) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        int best = lo * KvCache.CELL_PAD;
        // a power of two reads better and loses at most a quarter of the context
        int pow = Integer.highestOneBit(best);
        int shown = pow >= best * 3L / 4 ? pow : best;
        return Optional.of("-c " + shown + (shown < req.fitCtx() && req.fitEnabled()
                ? " (below --fit-ctx " + req.fitCtx() + ": pass --fit-ctx " + shown + " to let --fit use it)" : ""));
    }

    private static boolean fitsAt(ModelProfile m, Inventory inv, PlacementRequest req, Layout l, int ctx) {
        return Planner.build(m, inv, req, l.withContext(l.context().withCtx(ctx))).fits();
    }

    private static String gib(long bytes) {
        return bytes >= ByteSize.GIB ? String.format(Locale.ROOT, "%.1f GiB", bytes / (double) ByteSize.GIB)
                : ByteSize.mibCeil(bytes) + " MiB";
    }
}
