package dev.trestle.backends.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.trestle.backends.cpu.ActivationRows;
import dev.trestle.backends.cpu.Attention;
import dev.trestle.backends.cpu.CpuOps;
import dev.trestle.backends.cpu.Half;
import dev.trestle.backends.cpu.Rope;
import dev.trestle.backends.cpu.RowQuantizer;
import dev.trestle.backends.cpu.kernel.RowKernel;
import dev.trestle.backends.cpu.kernel.RowKernels;
import dev.trestle.backends.type.GgmlType;
import dev.trestle.nativ.cuda.CudaDriver;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * CUDA kernels against the CPU backend (test-backend-ops style), on a real GPU: every weight type through the
 * matvec (decode) and GEMM (prefill) paths, expert matvec, embedding rows, norms, RoPE, GLU, softmax, top-k,
 * KV cache writes in every cache type, and flash/plain attention. Runs where the NVIDIA driver and a GPU are
 * present (scripts/gpu-check.sh); skipped elsewhere.
 */
@EnabledIf("dev.trestle.backends.cuda.CudaOpsTest#gpuPresent")
class CudaOpsTest {
    private static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static CudaBackend backend;

    static boolean gpuPresent() {
        return CudaDriver.unavailableReason() == null && CudaDriver.load().deviceGetCount() > 0;
    }

    @BeforeAll
    static void open() {
        backend = CudaBackend.open(Integer.getInteger("trestle.cuda.device", 0));
    }

    @AfterAll
    static void close() {
        if (backend != null) {
            backend.close();
        }
    }

    // ---------------------------------------------------------------- helpers

    static double nmse(float[] ref, float[] got) {
        double num = 0, den = 0;
        for (int i = 0; i < ref.length; i++) {
            double d = ref[i] - got[i];
            num += d * d;
            den += (double) ref[i] * ref[i];
        }
        return den == 0 ? num : num / den;
    }

    static void assertClose(float[] ref, float[] got, double maxNmse, String what) {
        double e = nmse(ref, got);
        assertTrue(e <= maxNmse, what + ": nmse " + e + " > " + maxNmse);
    }

    static float[] gaussian(Random rnd, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) rnd.nextGaussian();
        }
        return x;
    }

    /** Random but finite stored rows: random bytes with sane scale fields. */
    static MemorySegment randomRows(GgmlType type, int rows, int cols, Random rnd, Arena arena) {
        long rowBytes = type.bytesFor(cols);
        MemorySegment m = arena.allocate(rowBytes * rows, 16);
        for (long i = 0; i < m.byteSize(); i++) {
            m.set(ValueLayout.JAVA_BYTE, i, (byte) rnd.nextInt(256));
        }
        long blocks = rowBytes * rows / type.bytesPerBlock();
        int[] halves = switch (type) {
            case Q4_0, Q5_0, Q8_0, IQ4_NL, IQ4_XS, F16 -> new int[] {0};
            case Q4_1, Q5_1, Q4_K, Q5_K -> new int[] {0, 2};
            case Q2_K -> new int[] {80, 82};
            case Q3_K -> new int[] {108};
            case Q6_K -> new int[] {208};
            default -> new int[0];
        };
        for (long b = 0; b < blocks; b++) {
            long bo = b * type.bytesPerBlock();
            switch (type) {
                case F32 -> m.set(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), bo,
                        (float) rnd.nextGaussian());
                case BF16 -> m.set(SHORT, bo, Half.floatToBf16((float) rnd.nextGaussian()));
                case MXFP4 -> m.set(ValueLayout.JAVA_BYTE, bo, (byte) (120 + rnd.nextInt(10)));
                default -> {
                    for (int f : halves) {
                        float v = type == GgmlType.F16 ? (float) rnd.nextGaussian() : 0.001f + 0.05f * rnd.nextFloat();
                        m.set(SHORT, bo + f, Half.fromFloat(v));
                    }
                }
            }
        }
        return m;
    }

    /** CPU reference: out[t * rows + r] = W row r . x row t, with the CPU kernel and its activation format. */
    static float[] cpuMatmul(GgmlType type, MemorySegment w, int rows, int cols, float[] x, int n) {
        RowKernel k = RowKernels.forType(type, "ref");
        ActivationRows a = new ActivationRows(k.dotType(), n, cols);
        a.load(x, 0, cols, n, cols);
        float[] out = new float[n * rows];
        long rb = type.bytesFor(cols);
        for (int t = 0; t < n; t++) {
            for (int r = 0; r < rows; r++) {
                out[t * rows + r] = k.dot(w, r * rb, a, t * cols, cols);
            }
        }
        return out;
    }

    static CudaBuffer upload(float[] a) {
        CudaBuffer b = backend.context().allocate(4L * a.length);
        b.write(0, a, 0, a.length);
        return b;
    }

    static CudaBuffer upload(int[] a) {
        CudaBuffer b = backend.context().allocate(4L * a.length);
        b.write(0, a, 0, a.length);
        return b;
    }

    static float[] read(CudaBuffer b, int n) {
        float[] out = new float[n];
        b.read(0, out, 0, n);
        return out;
    }

    static Stream<Arguments> weightTypes() {
        return CudaKernelNames.WEIGHT_TYPES.stream().map(Arguments::of);
    }

    // ---------------------------------------------------------------- matmul

    @ParameterizedTest(name = "{0}")
    @MethodSource("weightTypes")
    void matvecMatchesCpuKernels(GgmlType type) {
        int rows = 96, cols = 512, n = 3;
        Random rnd = new Random(type.id());
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment w = randomRows(type, rows, cols, rnd, arena);
            float[] x = gaussian(rnd, n * cols);
            float[] ref = cpuMatmul(type, w, rows, cols, x, n);
            try (CudaMatrix m = new CudaMatrix(backend.context(), "w", type, w, cols, rows, 1);
                 CudaBuffer xb = upload(x); CudaBuffer out = backend.context().allocate(4L * n * rows)) {
                backend.ops().matmul(m, xb, 0, n, out, 0, rows);
                // same integer block dots as the CPU: only the float summation order differs
                assertClose(ref, read(out, n * rows), 1e-9, type + " matvec");
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("weightTypes")
    void gemmPathMatchesCpuWithinF16Rounding(GgmlType type) {
        int rows = 128, cols = 512, n = 40;
        Random rnd = new Random(100 + type.id());
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment w = randomRows(type, rows, cols, rnd, arena);
            float[] x = gaussian(rnd, n * cols);
            float[] ref = cpuMatmul(type, w, rows, cols, x, n);
            int nPad = LaunchConfig.roundUp(n, 16);
            try (CudaMatrix m = new CudaMatrix(backend.context(), "w", type, w, cols, rows, 1);
                 CudaBuffer xb = upload(x); CudaBuffer out = backend.context().allocate(4L * nPad * rows)) {
                backend.ops().matmul(m, xb, 0, n, out, 0, rows);
                // F16 weights and activations on tensor cores vs Q8 activations on the CPU
                assertClose(ref, read(out, n * rows), type == GgmlType.F32 || type == GgmlType.BF16 ? 1e-4 : 2e-4,
                        type + " gemm");
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("weightTypes")
    void wideBatchesTakeTheGemmPathSizeSaysAndMatchCpu(GgmlType type) {
        int rows = 1024, cols = 1024, n = GemmPath.CUBLAS_MIN_TOKENS;
        Random rnd = new Random(200 + type.id());
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment w = randomRows(type, rows, cols, rnd, arena);
            float[] x = gaussian(rnd, n * cols);
            float[] ref = cpuMatmul(type, w, rows, cols, x, n);
            long[] before = backend.ops().gemmCalls();
            try (CudaMatrix m = new CudaMatrix(backend.context(), "w", type, w, cols, rows, 1);
                 CudaBuffer xb = upload(x); CudaBuffer out = backend.context().allocate(4L * n * rows)) {
                backend.ops().matmul(m, xb, 0, n, out, 0, rows);
                assertClose(ref, read(out, n * rows), type == GgmlType.F32 || type == GgmlType.BF16 ? 1e-4 : 2e-4,
                        type + " gemm via " + GemmPath.choose(n, rows, cols, backend.ops().hasCublas()));
            }
            long[] after = backend.ops().gemmCalls();
            int path = backend.ops().hasCublas() ? 0 : 1;
            assertTrue(after[path] > before[path], "the " + (path == 0 ? "cuBLAS" : "wmma") + " path ran");
            System.out.println("GEMM PATH " + type + ": " + (path == 0 ? "cuBLAS" : "wmma (no cuBLAS: "
                    + dev.trestle.nativ.cuda.Cublas.absentReason() + ")"));
        }
    }

    @Test
    void peerLinksCopyOnEveryRouteAndOrderTheStreams() {
        // a second context of the same GPU: the SAME_CONTEXT route, and the HOST route forced
        try (CudaBackend other = CudaBackend.open(Integer.getInteger("trestle.cuda.device", 0))) {
            float[] a = gaussian(new Random(5), 3000);
            for (boolean host : new boolean[] {false, true}) {
                try (CudaBuffer src = upload(a); CudaBuffer dst = other.context().allocate(4L * 4000);
                     CudaBuffer back = backend.context().allocate(4L * 4000);
                     PeerLink there = PeerLink.open(backend.context(), other.context(), 4L * 4000, host);
                     PeerLink home = PeerLink.open(other.context(), backend.context(), 4L * 4000, host)) {
                    assertEquals(host ? PeerLink.Route.HOST : PeerLink.Route.SAME_CONTEXT, there.route());
                    // the kernel queued before the copy doubles the source; the copy must see it
                    backend.ops().scale(src, 0, a.length, 2f);
                    there.copy(src, 0, dst, 4L * 100, 4L * a.length);
                    other.ops().scale(dst, 100, a.length, 0.5f);
                    home.copy(dst, 4L * 100, back, 0, 4L * a.length);
                    float[] got = new float[a.length];
                    back.read(0, got, 0, a.length);
                    for (int i = 0; i < a.length; i++) {
                        assertEquals(a[i], got[i], 0f, "element " + i + " via " + there.route());
                    }
                }
            }
        }
    }

    @Test
    void queuedWritesReuseTheRingOnlyAfterTheirCopiesRan() {
        // 600 writes of 64 KiB (37.5 MiB) cycle the two 4 MiB halves many times, each followed by a kernel on
        // the region it wrote; then one write larger than a half grows the ring
        int n = 16_384;
        int writes = 600;
        Random rnd = new Random(11);
        float[] row = new float[n];
        float[] expect = new float[n * writes];
        try (CudaBuffer dst = backend.context().allocate(4L * n * writes)) {
            for (int w = 0; w < writes; w++) {
                for (int i = 0; i < n; i++) {
                    row[i] = (float) rnd.nextGaussian();
                    expect[w * n + i] = 2 * row[i];
                }
                dst.write((long) w * n, row, 0, n);   // the array is refilled at once: the write must have copied it
                backend.ops().scale(dst, (long) w * n, n, 2f);
            }
            float[] big = gaussian(rnd, 3_000_000);
            try (CudaBuffer large = backend.context().allocate(4L * big.length)) {
                large.write(0, big, 0, big.length);
                assertArrayEquals(big, read(large, big.length));
            }
            assertArrayEquals(expect, read(dst, n * writes));
        }
    }

    @Test
    void stagedUploadCopiesChunksInTurnAndKernelsSeeTheBytes() {
        float[] a = gaussian(new Random(9), 10_000);
        try (Arena arena = Arena.ofConfined(); StagedUpload up = new StagedUpload(backend.context(), 4096);
             CudaBuffer dst = backend.context().allocate(4L * 10_100)) {
            MemorySegment host = arena.allocate(4L * a.length, 16);
            MemorySegment.copy(a, 0, host, ValueLayout.JAVA_FLOAT, 0, a.length);
            // 40,000 bytes: nine full chunks and a partial one, the two pinned buffers reused in turn
            up.copy(host, dst, 4L * 100);
            backend.ops().scale(dst, 100, a.length, 2f);
            up.copy(host.asSlice(0, 4L * 100), dst, 0);
            float[] got = read(dst, 10_100);
            for (int i = 0; i < 100; i++) {
                assertEquals(a[i], got[i], 0f, "element " + i);
            }
            for (int i = 0; i < a.length; i++) {
                assertEquals(2 * a[i], got[100 + i], 0f, "element " + (100 + i));
            }
        }
    }

    @Test
    void expertMatvecPicksTheExpertAndSharedActivations() {
        GgmlType type = GgmlType.Q4_K;
        int rows = 32, cols = 256, experts = 4, nTok = 2, used = 2;
        Random rnd = new Random(7);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment w = randomRows(type, rows * experts, cols, rnd, arena);
            float[] x = gaussian(rnd, nTok * cols);
            int[] ids = {3, 1, 0, 3};
            float[] ref = new float[nTok * used * rows];
            long eb = type.bytesFor(cols) * rows;
            for (int p = 0; p < nTok * used; p++) {
                float[] one = cpuMatmul(type, w.asSlice(ids[p] * eb, eb), rows, cols,
                        java.util.Arrays.copyOfRange(x, (p / used) * cols, (p / used + 1) * cols), 1);
                System.arraycopy(one, 0, ref, p * rows, rows);
            }
            try (CudaMatrix m = new CudaMatrix(backend.context(), "exps", type, w, cols, rows, experts);
                 CudaBuffer xb = upload(x); CudaBuffer idb = upload(ids);
                 CudaBuffer out = backend.context().allocate(4L * ref.length)) {
                backend.ops().matmulId(m, xb, 0, nTok, idb, nTok * used, used, out, 0, rows);
                assertClose(ref, read(out, ref.length), 1e-9, "mul_mat_id");
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("weightTypes")
    void getRowsDequantizesLikeTheCpu(GgmlType type) {
        int rows = 16, cols = 256;
        Random rnd = new Random(200 + type.id());
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment w = randomRows(type, rows, cols, rnd, arena);
            int[] ids = {5, 0, 15};
            float[] ref = new float[ids.length * cols];
            RowKernel k = RowKernels.forType(type, "ref");
            for (int j = 0; j < ids.length; j++) {
                k.dequantize(w, ids[j] * type.bytesFor(cols), ref, j * cols, cols);
            }
            try (CudaMatrix m = new CudaMatrix(backend.context(), "emb", type, w, cols, rows, 1);
                 CudaBuffer idb = upload(ids); CudaBuffer out = backend.context().allocate(4L * ref.length)) {
                backend.ops().getRows(m, idb, ids.length, out, 0);
                assertArrayEquals(ref, read(out, ref.length), type + " get_rows");
            }
        }
    }

    // ---------------------------------------------------------------- row ops

    @Test
    void normsGluSoftmaxTopKMatchCpu() {
        Random rnd = new Random(3);
        int n = 1000, rows = 3;
        float[] x = gaussian(rnd, n * rows);
        float[] w = gaussian(rnd, n);
        float[] ref = x.clone();
        for (int r = 0; r < rows; r++) {
            CpuOps.rmsNorm(ref, r * n, n, 1e-6f, w);
        }
        try (CudaBuffer xb = upload(x); CudaBuffer wb = upload(w); CudaBuffer out = backend.context().allocate(4L * n * rows)) {
            backend.ops().rmsNorm(xb, 0, n, rows, 1e-6f, wb, out, 0);
            assertClose(ref, read(out, n * rows), 1e-12, "rms_norm");
        }
        float[] gate = gaussian(rnd, n);
        float[] up = gaussian(rnd, n);
        float[] sw = gate.clone();
        CpuOps.swiglu(sw, 0, up, 0, n);
        float[] ge = gate.clone();
        CpuOps.geglu(ge, 0, up, 0, n);
        try (CudaBuffer g = upload(gate); CudaBuffer u = upload(up); CudaBuffer out = backend.context().allocate(4L * n)) {
            backend.ops().glu(false, g, 0, n, u, 0, n, out, 0, 1, n);
            assertClose(sw, read(out, n), 1e-12, "swiglu");
            backend.ops().glu(true, g, 0, n, u, 0, n, out, 0, 1, n);
            assertClose(ge, read(out, n), 1e-10, "geglu");
        }
        int ne = 64, k = 8;
        float[] logits = gaussian(rnd, ne * rows);
        float[] sm = logits.clone();
        int[] topRef = new int[k * rows];
        for (int r = 0; r < rows; r++) {
            CpuOps.softmax(sm, r * ne, ne);
            CpuOps.topK(sm, r * ne, ne, k, topRef, r * k);
        }
        try (CudaBuffer lb = upload(logits); CudaBuffer idx = backend.context().allocate(4L * k * rows)) {
            backend.ops().softmax(lb, 0, ne, rows);
            assertClose(sm, read(lb, ne * rows), 1e-12, "softmax");
            backend.ops().topK(lb, 0, ne, rows, k, idx);
            int[] got = new int[k * rows];
            idx.read(0, got, 0, got.length);
            assertArrayEquals(topRef, got, "top_k");
        }
    }

    @Test
    void ropeMatchesCpuForNormalNeoxAndYarn() {
        Random rnd = new Random(4);
        int nHead = 4, hd = 64, tokens = 3;
        int[] pos = {0, 17, 4000};
        for (Rope r : new Rope[] {new Rope(hd, false, 10000f, 1f, 0f, 1f, 32f, 1f, 4096),
                new Rope(hd, true, 1000000f, 1f, 0f, 1f, 32f, 1f, 4096),
                new Rope(hd / 2, true, 10000f, 0.25f, 1f, 1f, 32f, 1f, 4096)}) {
            float[] x = gaussian(rnd, tokens * nHead * hd);
            float[] ref = x.clone();
            float[] cache = new float[hd];
            for (int t = 0; t < tokens; t++) {
                r.cache(pos[t], null, cache);
                r.apply(ref, t * nHead * hd, nHead, hd, cache);
            }
            try (CudaBuffer xb = upload(x); CudaBuffer pb = upload(pos)) {
                backend.ops().rope(xb, 0, nHead * hd, tokens, nHead, hd, pb, r, null);
                assertClose(ref, read(xb, x.length), 1e-12, "rope " + r);
            }
        }
    }

    @Test
    void moeRoutingWeightsAndCombineMatchTheCpuFormulas() {
        Random rnd = new Random(11);
        int tokens = 3, nExp = 16, k = 4, n = 64;
        float[] logits = gaussian(rnd, tokens * nExp);
        float[] probs = logits.clone();
        int[] sel = new int[tokens * k];
        float[] w = new float[tokens * k];
        for (int t = 0; t < tokens; t++) {
            CpuOps.softmax(probs, t * nExp, nExp);
            CpuOps.topK(probs, t * nExp, nExp, k, sel, t * k);
            float sum = 0f;
            for (int j = 0; j < k; j++) {
                w[t * k + j] = probs[t * nExp + sel[t * k + j]];
                sum += w[t * k + j];
            }
            for (int j = 0; j < k; j++) {
                w[t * k + j] = w[t * k + j] / Math.max(sum, 6.103515625e-5f) * 2.5f;
            }
        }
        float[] y = gaussian(rnd, tokens * k * n);
        float[] expertScale = gaussian(rnd, nExp);
        float[] ref = new float[tokens * n];
        for (int t = 0; t < tokens; t++) {
            for (int j = 0; j < k; j++) {
                for (int i = 0; i < n; i++) {
                    ref[t * n + i] += w[t * k + j] * (y[(t * k + j) * n + i] * expertScale[sel[t * k + j]]);
                }
            }
        }
        try (CudaBuffer lb = upload(logits); CudaBuffer sb = backend.context().allocate(4L * sel.length);
             CudaBuffer wb = backend.context().allocate(4L * w.length); CudaBuffer yb = upload(y);
             CudaBuffer es = upload(expertScale); CudaBuffer out = backend.context().allocate(4L * ref.length)) {
            backend.ops().softmax(lb, 0, nExp, tokens);
            backend.ops().topK(lb, 0, nExp, tokens, k, sb);
            backend.ops().moeWeights(lb, sb, wb, tokens, nExp, k, true, 2.5f);
            int[] gotSel = new int[sel.length];
            sb.read(0, gotSel, 0, gotSel.length);
            assertArrayEquals(sel, gotSel, "selected experts");
            assertClose(w, read(wb, w.length), 1e-12, "routing weights");
            backend.ops().scaleByExpert(yb, sb, es, n, tokens * k);
            backend.ops().moeCombine(yb, wb, out, n, k, tokens);
            assertClose(ref, read(out, ref.length), 1e-12, "expert sum");
        }
    }

    // ---------------------------------------------------------------- KV cache and attention

    static Stream<Arguments> cachePairs() {
        return Stream.of(GgmlType.F16, GgmlType.F32, GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_1,
                GgmlType.Q5_0, GgmlType.Q5_1).flatMap(k -> Stream.of(Arguments.of(k, k, true),
                Arguments.of(k, GgmlType.F16, false), Arguments.of(k, GgmlType.Q4_0, true)));
    }

    @ParameterizedTest(name = "K {0} V {1} flash {2}")
    @MethodSource("cachePairs")
    void cacheWritesAndAttentionMatchCpu(GgmlType kt, GgmlType vt, boolean flash) {
        int nHead = 8, nHeadKv = 2, hd = 64, cells = 40, kvd = nHeadKv * hd, tokens = 2;
        Random rnd = new Random(kt.id() * 31 + vt.id());
        float[] kRows = gaussian(rnd, cells * kvd);
        float[] vRows = gaussian(rnd, cells * kvd);
        float[] q = gaussian(rnd, tokens * nHead * hd);
        int[] cellIds = new int[cells];
        for (int i = 0; i < cells; i++) {
            cellIds[i] = (i * 7) % cells;   // scattered writes
        }
        long kRb = kt.bytesFor(kvd), vRb = vt.bytesFor(kvd);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment kc = arena.allocate(kRb * cells, 16);
            MemorySegment vc = arena.allocate(vRb * cells, 16);
            for (int i = 0; i < cells; i++) {
                RowQuantizer.store(kt, kRows, i * kvd, kvd, kc, cellIds[i] * kRb);
                RowQuantizer.store(vt, vRows, i * kvd, kvd, vc, cellIds[i] * vRb);
            }
            // token 0 sees the first 10 cells, token 1 all 40 (in write order)
            int[] visible = new int[10 + cells];
            for (int i = 0; i < 10; i++) {
                visible[i] = cellIds[i];
            }
            for (int i = 0; i < cells; i++) {
                visible[10 + i] = cellIds[i];
            }
            int[] offsets = {0, 10, 10 + cells};
            float scale = 1f / (float) Math.sqrt(hd);
            Attention.Shape shape = new Attention.Shape(nHead, nHeadKv, hd, scale, 0f, flash);
            Attention cpu = new Attention(shape, kt, vt, 1, cells);
            Attention.KvView view = new Attention.KvView(kt, kc, kRb, vt, vc, vRb);
            float[] ref = new float[tokens * nHead * hd];
            for (int t = 0; t < tokens; t++) {
                int[] vis = java.util.Arrays.copyOfRange(visible, offsets[t], offsets[t + 1]);
                for (int h = 0; h < nHead; h++) {
                    cpu.attendHead(0, q, t * nHead * hd + h * hd, h, view, vis, vis.length, ref, t * nHead * hd + h * hd);
                }
            }
            try (CudaBuffer kb = backend.context().allocate(kRb * cells); CudaBuffer vb = backend.context().allocate(vRb * cells);
                 CudaBuffer kr = upload(kRows); CudaBuffer vr = upload(vRows); CudaBuffer cb = upload(cellIds);
                 CudaBuffer qb = upload(q); CudaBuffer visb = upload(visible); CudaBuffer offb = upload(offsets);
                 CudaBuffer out = backend.context().allocate(4L * ref.length)) {
                backend.ops().setRows(kb, kt, kRb, kr, 0, kvd, cb, cells);
                backend.ops().setRows(vb, vt, vRb, vr, 0, kvd, cb, cells);
                // the cache bytes equal the CPU's quantizer output
                byte[] kGot = new byte[(int) (kRb * cells)];
                float[] tmp = new float[(int) ((kRb * cells + 3) / 4)];
                kb.read(0, tmp, 0, (int) (kRb * cells / 4));
                MemorySegment.copy(tmp, 0, MemorySegment.ofArray(kGot), ValueLayout.JAVA_FLOAT, 0, (int) (kRb * cells / 4));
                byte[] kRef = kc.asSlice(0, kRb * cells / 4 * 4).toArray(ValueLayout.JAVA_BYTE);
                assertArrayEquals(kRef, java.util.Arrays.copyOf(kGot, kRef.length), "set_rows " + kt);
                backend.ops().attention(new CudaOps.AttentionShape(nHead, nHeadKv, hd, scale, 0f, flash), kt, kb, kRb, vt,
                        vb, vRb, qb, 0, nHead * hd, visb, offb, tokens, out, 0, nHead * hd);
                // F32 accumulation on the GPU vs the CPU's F16-rounded flash accumulator; a quantized K meets a
                // float Q on the GPU but a Q8_0-quantized Q on the CPU
                assertClose(ref, read(out, ref.length), kt.isQuantized() ? 1e-4 : 1e-5, "attention " + kt + "/" + vt);
            }
        }
    }
}
