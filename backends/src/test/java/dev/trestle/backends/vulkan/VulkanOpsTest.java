package dev.trestle.backends.vulkan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.trestle.backends.cpu.ActivationRows;
import dev.trestle.backends.cpu.Attention;
import dev.trestle.backends.cpu.CpuMatrix;
import dev.trestle.backends.cpu.CpuOps;
import dev.trestle.backends.cpu.CpuThreadPool;
import dev.trestle.backends.cpu.Half;
import dev.trestle.backends.cpu.MatmulJob;
import dev.trestle.backends.cpu.Rope;
import dev.trestle.backends.cpu.RowQuantizer;
import dev.trestle.backends.spi.OpKind;
import dev.trestle.backends.type.GgmlType;
import dev.trestle.common.TrestleException;
import dev.trestle.testdata.VulkanTestDevice;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every op and weight type on Vulkan against the CPU backend (test-backend-ops style: normalized mean squared
 * error per case), on odd sizes: rows that are not multiples of the workgroup, token counts that leave a partial
 * tile, plain-type rows that end mid-chunk.
 */
class VulkanOpsTest {
    private static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static VulkanDevice dev;
    private static VulkanOps ops;
    private static CpuThreadPool pool;
    private static Arena arena;

    @BeforeAll
    static void open() {
        VulkanTestDevice.require();
        dev = VulkanDevice.open(0);
        ops = new VulkanOps(dev);
        pool = new CpuThreadPool(1);
        arena = Arena.ofShared();
    }

    @AfterAll
    static void close() {
        if (dev != null) {
            dev.close();
            pool.close();
            arena.close();
            VulkanTestDevice.assertValidationClean();
        }
    }

    static double nmse(float[] expected, float[] actual) {
        double err = 0;
        double ref = 0;
        for (int i = 0; i < expected.length; i++) {
            double d = expected[i] - actual[i];
            err += d * d;
            ref += (double) expected[i] * expected[i];
        }
        return err / Math.max(ref, 1e-30);
    }

    /** Random stored rows with finite, moderate block scales. */
    static MemorySegment randomRows(GgmlType type, int rows, int cols, Random rnd) {
        long rowBytes = type.bytesFor(cols);
        MemorySegment m = arena.allocate(rowBytes * rows, 16);
        for (long i = 0; i < m.byteSize(); i++) {
            m.set(ValueLayout.JAVA_BYTE, i, (byte) rnd.nextInt(256));
        }
        switch (type) {
            case F32 -> {
                for (long i = 0; i < m.byteSize() / 4; i++) {
                    m.set(FLOAT, 4 * i, (float) rnd.nextGaussian());
                }
            }
            case F16 -> {
                for (long i = 0; i < m.byteSize() / 2; i++) {
                    m.set(SHORT, 2 * i, Half.fromFloat((float) rnd.nextGaussian()));
                }
            }
            case BF16 -> {
                for (long i = 0; i < m.byteSize() / 2; i++) {
                    m.set(SHORT, 2 * i, Half.floatToBf16((float) rnd.nextGaussian()));
                }
            }
            default -> {
                int[] fields = switch (type) {
                    case Q4_0, Q5_0, Q8_0 -> new int[] {0};
                    case Q4_1, Q5_1, Q4_K, Q5_K -> new int[] {0, 2};
                    case Q6_K -> new int[] {208};
                    default -> throw new IllegalArgumentException(type.name());
                };
                long blocks = m.byteSize() / type.bytesPerBlock();
                for (long b = 0; b < blocks; b++) {
                    for (int f : fields) {
                        m.set(SHORT, b * type.bytesPerBlock() + f,
                                Half.fromFloat((float) (0.002 + 0.01 * rnd.nextDouble())));
                    }
                }
            }
        }
        return m;
    }

    static float[] gaussian(int n, Random rnd) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) rnd.nextGaussian();
        }
        return a;
    }

    static GpuBuffer upload(float[] a) {
        GpuBuffer b = dev.allocate(4L * a.length);
        b.write(0, a, 0, a.length);
        return b;
    }

    static GpuBuffer upload(int[] a) {
        GpuBuffer b = dev.allocate(4L * a.length);
        b.write(0, a, 0, a.length);
        return b;
    }

    static Stream<Arguments> matmulCases() {
        Stream.Builder<Arguments> s = Stream.builder();
        for (GgmlType t : GpuMatrix.TYPES) {
            int cols = t.blockSize() == 1 ? 83 : t.blockSize() == 32 ? 96 : 512;
            s.add(Arguments.of(t, cols, 37, 1));
            s.add(Arguments.of(t, cols, 37, 11));
        }
        return s.build();
    }

    @ParameterizedTest(name = "MUL_MAT(type={0},k={1},m={2},n={3})")
    @MethodSource("matmulCases")
    void matmulMatchesCpu(GgmlType type, int cols, int rows, int nTok) {
        Random rnd = new Random(cols * 31L + rows + nTok + type.ordinal());
        int experts = 2;
        MemorySegment w = randomRows(type, rows * experts, cols, rnd);
        float[] x = gaussian(nTok * cols, rnd);
        CpuMatrix cpu = new CpuMatrix("w", type, w, new long[] {cols, rows, experts});
        for (int e = 0; e < experts; e++) {
            // CPU backend, with its activation conversion
            ActivationRows act = new ActivationRows(cpu.dotType(), nTok, cols);
            act.load(x, 0, cols, nTok, cols);
            float[] want = new float[nTok * rows];
            cpu.matmul(new MatmulJob(pool), act, nTok, want, rows, e);
            // exact: dequantized weights times F32 activations, in double
            float[] exact = new float[nTok * rows];
            float[] row = new float[cols];
            for (int r = 0; r < rows; r++) {
                cpu.getRow(e * rows + r, row, 0);
                for (int t = 0; t < nTok; t++) {
                    double d = 0;
                    for (int i = 0; i < cols; i++) {
                        d += (double) row[i] * x[t * cols + i];
                    }
                    exact[t * rows + r] = (float) d;
                }
            }
            // the device's variant (subgroup reduction where supported) and the portable one
            for (VulkanOps variant : new VulkanOps[] {ops, new VulkanOps(dev, true)}) {
                try (GpuMatrix g = new GpuMatrix(dev, "w", type, w, cols, rows, experts);
                     GpuBuffer xb = upload(x); GpuBuffer ob = dev.allocate(4L * nTok * rows)) {
                    variant.matmul(g, e, xb, 0, cols, nTok, ob, 0, rows);
                    float[] got = ob.readFloats(0, nTok * rows);
                    String v = variant.usesSubgroups() ? "subgroup" : "portable";
                    assertTrue(nmse(exact, got) < 1e-9, v + " vs exact: nmse " + nmse(exact, got));
                    assertTrue(nmse(want, got) < 5e-4, v + " vs CPU backend: nmse " + nmse(want, got));
                }
            }
        }
    }

    /** Rows that exercise every rounding corner of the activation formats. */
    static float[] quantizeInput(GgmlType format, int rows, int cols, Random rnd) {
        float[] x = new float[rows * cols];
        for (int r = 0; r < rows; r++) {
            for (int i = 0; i < cols; i++) {
                int at = r * cols + i;
                x[at] = switch (r) {
                    // exact ties after scaling: amax 127 (Q8_0/Q8_1: id = 1) or max -127 (Q8_K: iscale = 1)
                    case 0 -> i == 0 ? (format == GgmlType.Q8_K ? -127f : 127f) : (rnd.nextInt(254) - 127) + 0.5f;
                    // tiny rows: F16 block scales are subnormal
                    case 1 -> (float) (rnd.nextGaussian() * 1e-4);
                    // F16/BF16 ties (to even, up and down) and F16 subnormal ties
                    case 2 -> switch (i % 6) {
                        case 0 -> 1f + 0x1p-11f;
                        case 1 -> 1f + 3 * 0x1p-11f;
                        case 2 -> 1f + 0x1p-8f;
                        case 3 -> -(1f + 3 * 0x1p-8f);
                        case 4 -> 3 * 0x1p-25f;
                        default -> i % 12 == 5 ? 0x1p-25f : 70000f;
                    };
                    case 3 -> 0f; // all-zero blocks
                    default -> (float) (rnd.nextGaussian() * Math.pow(10, rnd.nextInt(7) - 3));
                };
            }
        }
        return x;
    }

    @ParameterizedTest(name = "QUANTIZE({0},k={1})")
    @MethodSource("quantizeCases")
    void quantizeIsBitEqualToTheCpu(GgmlType format, int cols) {
        int rows = 6;
        Random rnd = new Random(cols * 7L + format.ordinal());
        float[] x = quantizeInput(format, rows, cols, rnd);
        ActivationRows cpu = new ActivationRows(format, rows, cols);
        cpu.load(x, 0, cols, rows, cols);
        int words = VulkanOps.dotRowWords(format, cols);
        int[] got = new int[rows * words];
        // an offset and a row stride, as the layers pass them
        float[] padded = new float[3 + rows * (cols + 5)];
        for (int r = 0; r < rows; r++) {
            System.arraycopy(x, r * cols, padded, 3 + r * (cols + 5), cols);
        }
        try (GpuBuffer xb = upload(padded); GpuBuffer qb = dev.allocate(4L * got.length)) {
            ops.quantize(format, xb, 3, cols + 5, cols, rows, qb);
            qb.read(0, MemorySegment.ofArray(got));
        }
        for (int r = 0; r < rows; r++) {
            int o = r * words;
            for (int i = 0; i < cols; i++) {
                int e = r * cols + i;
                String at = format + " row " + r + " element " + i + " (x=" + x[e] + ")";
                switch (format) {
                    case F16, BF16 -> {
                        int h = (got[o + i / 2] >>> (16 * (i & 1))) & 0xffff;
                        assertEquals(cpu.half()[e] & 0xffff, h, at);
                    }
                    case Q8_0, Q8_1 -> {
                        int b = i / 32;
                        int w = o + b * (format == GgmlType.Q8_0 ? 9 : 10);
                        assertEquals(cpu.qs()[e], (byte) (got[w + (i % 32) / 4] >> (8 * (i % 4))), at);
                        assertEquals(Float.floatToRawIntBits(cpu.scales()[e / 32]), got[w + 8], at + " scale");
                        if (format == GgmlType.Q8_1) {
                            assertEquals(Float.floatToRawIntBits(cpu.sums()[e / 32]), got[w + 9], at + " sum");
                        }
                    }
                    case Q8_K -> {
                        int w = o + (i / 256) * 81;
                        assertEquals(cpu.qs()[e], (byte) (got[w + (i % 256) / 4] >> (8 * (i % 4))), at);
                        assertEquals(Float.floatToRawIntBits(cpu.scales()[e / 256]), got[w + 64], at + " scale");
                        assertEquals(cpu.bsums()[e / 16], got[w + 65 + (i % 256) / 16], at + " bsum");
                    }
                    default -> throw new IllegalStateException(format.name());
                }
            }
        }
    }

    static Stream<Arguments> quantizeCases() {
        return Stream.of(Arguments.of(GgmlType.Q8_0, 96), Arguments.of(GgmlType.Q8_1, 96),
                Arguments.of(GgmlType.Q8_K, 512), Arguments.of(GgmlType.F16, 83), Arguments.of(GgmlType.BF16, 83));
    }

    static Stream<Arguments> matmulDotCases() {
        Stream.Builder<Arguments> s = Stream.builder();
        for (GgmlType t : GpuMatrix.TYPES) {
            if (VulkanOps.dotFormat(t) != null) {
                int cols = t.blockSize() == 1 ? 83 : t.blockSize() == 32 ? 96 : 512;
                s.add(Arguments.of(t, cols, 37, 11));
            }
        }
        return s.build();
    }

    /**
     * The decode matmul on GPU-converted activations: equal to the CPU backend's product up to float summation
     * order, plain and gathered, in the device's variant and the portable one.
     */
    @ParameterizedTest(name = "MUL_MAT_DOT(type={0},k={1},m={2},n={3})")
    @MethodSource("matmulDotCases")
    void matmulDotMatchesTheCpuKernels(GgmlType type, int cols, int rows, int nTok) {
        Random rnd = new Random(cols * 17L + rows + nTok + type.ordinal());
        int experts = 2;
        MemorySegment w = randomRows(type, rows * experts, cols, rnd);
        float[] x = gaussian(nTok * cols, rnd);
        CpuMatrix cpu = new CpuMatrix("w", type, w, new long[] {cols, rows, experts});
        GgmlType format = VulkanOps.dotFormat(type);
        assertEquals(cpu.dotType(), format);
        // the device's variant takes the integer dot product exactly when the device enables it
        assertEquals(dev.integerDotEnabled(), ops.usesIntegerDot());
        System.out.printf("VULKAN DOT %s: device variant %s%n", type, ops.usesIntegerDot() ? "int-dot" : "int32");
        assertTrue(!new VulkanOps(dev, true).usesIntegerDot());
        ActivationRows act = new ActivationRows(format, nTok, cols);
        act.load(x, 0, cols, nTok, cols);
        // gathered: slot s reads token perm[s] and writes row s
        int[] pairs = new int[2 * nTok];
        for (int s = 0; s < nTok; s++) {
            pairs[2 * s] = (s * 5 + 3) % nTok;
            pairs[2 * s + 1] = s;
        }
        for (int e = 0; e < experts; e++) {
            float[] want = new float[nTok * rows];
            cpu.matmul(new MatmulJob(pool), act, nTok, want, rows, e);
            // exact: dequantized weights times the converted activations, in double
            float[] exact = new float[nTok * rows];
            float[] row = new float[cols];
            for (int r = 0; r < rows; r++) {
                cpu.getRow(e * rows + r, row, 0);
                for (int t = 0; t < nTok; t++) {
                    double d = 0;
                    for (int i = 0; i < cols; i++) {
                        d += (double) row[i] * act.value(t * cols + i);
                    }
                    exact[t * rows + r] = (float) d;
                }
            }
            float[] wantGathered = new float[nTok * rows];
            for (int s = 0; s < nTok; s++) {
                System.arraycopy(want, pairs[2 * s] * rows, wantGathered, s * rows, rows);
            }
            for (VulkanOps variant : new VulkanOps[] {ops, new VulkanOps(dev, true)}) {
                String v = (variant.usesIntegerDot() ? "int-dot" : "int32") + (variant.usesSubgroups() ? "+subgroup" : "");
                try (GpuMatrix g = new GpuMatrix(dev, "w", type, w, cols, rows, experts);
                     GpuBuffer xb = upload(x); GpuBuffer qb = dev.allocate(4L * nTok * VulkanOps.dotRowWords(format, cols));
                     GpuBuffer ob = dev.allocate(4L * nTok * rows); GpuBuffer rb = upload(pairs)) {
                    variant.quantize(format, xb, 0, cols, cols, nTok, qb);
                    variant.matmulDot(g, e, qb, nTok, ob, 0, rows, null, 0);
                    float[] got = ob.readFloats(0, nTok * rows);
                    // Q8_1's min term uses d * sum(q) rounded to F16, as the CPU does, so it strays from exact
                    double exactBound = format == GgmlType.Q8_1 ? 1e-8 : 1e-12;
                    assertTrue(nmse(exact, got) < exactBound, v + " vs exact: nmse " + nmse(exact, got));
                    assertTrue(nmse(want, got) < 1e-12, v + " vs CPU backend: nmse " + nmse(want, got));
                    variant.matmulDot(g, e, qb, nTok, ob, 0, rows, rb, 0);
                    float[] gathered = ob.readFloats(0, nTok * rows);
                    assertTrue(nmse(wantGathered, gathered) < 1e-12, v + " gathered: nmse " + nmse(wantGathered, gathered));
                }
            }
        }
    }

    @Test
    void backendReportsWhatItRunsAndRefusesTheRest() {
        for (GgmlType t : GgmlType.values()) {
            assertEquals(GpuMatrix.TYPES.contains(t), VulkanBackend.supportsOp(OpKind.MUL_MAT, t));
        }
        MemorySegment iq4 = arena.allocate(GgmlType.IQ4_NL.bytesFor(32) * 2, 16);
        TrestleException e = assertThrows(TrestleException.class,
                () -> new GpuMatrix(dev, "blk.0.ffn_up.weight", GgmlType.IQ4_NL, iq4, 32, 2, 1));
        assertTrue(e.getMessage().contains("blk.0.ffn_up.weight") && e.getMessage().contains("iq4_nl"), e.getMessage());
    }

    static Stream<Arguments> tiledCases() {
        Stream.Builder<Arguments> s = Stream.builder();
        for (GgmlType t : GpuMatrix.TYPES) {
            // rows and tokens leave partial 64-tiles; plain columns end mid-chunk and mid-step
            int cols = t.blockSize() == 1 ? 83 : t.blockSize() == 32 ? 160 : 512;
            s.add(Arguments.of(t, cols, 101, 70));
        }
        s.add(Arguments.of(GgmlType.Q4_K, 256, 37, VulkanOps.TILED_MIN_ROWS));
        s.add(Arguments.of(GgmlType.F16, 40, 64, 64));
        return s.build();
    }

    /** The tiled batch matmul against exact products and the CPU backend, in the device's and portable variants. */
    @ParameterizedTest(name = "MUL_MAT_TILED(type={0},k={1},m={2},n={3})")
    @MethodSource("tiledCases")
    void tiledMatmulMatchesCpu(GgmlType type, int cols, int rows, int nTok) {
        Random rnd = new Random(cols * 17L + rows + nTok + type.ordinal());
        int experts = 2;
        MemorySegment w = randomRows(type, rows * experts, cols, rnd);
        float[] x = gaussian(nTok * cols, rnd);
        CpuMatrix cpu = new CpuMatrix("w", type, w, new long[] {cols, rows, experts});
        int e = 1; // the second expert: a nonzero weight base
        ActivationRows act = new ActivationRows(cpu.dotType(), nTok, cols);
        act.load(x, 0, cols, nTok, cols);
        float[] want = new float[nTok * rows];
        cpu.matmul(new MatmulJob(pool), act, nTok, want, rows, e);
        float[] exact = new float[nTok * rows];
        float[] row = new float[cols];
        for (int r = 0; r < rows; r++) {
            cpu.getRow(e * rows + r, row, 0);
            for (int t = 0; t < nTok; t++) {
                double d = 0;
                for (int i = 0; i < cols; i++) {
                    d += (double) row[i] * x[t * cols + i];
                }
                exact[t * rows + r] = (float) d;
            }
        }
        // the device's variant (BK 32 on lavapipe), the portable one, and the step of devices with 16 KiB
        VulkanOps[] variants = {ops, new VulkanOps(dev, true), new VulkanOps(dev, true, 16)};
        for (int vi = 0; vi < variants.length; vi++) {
            VulkanOps variant = variants[vi];
            try (GpuMatrix g = new GpuMatrix(dev, "w", type, w, cols, rows, experts);
                 GpuBuffer xb = upload(x); GpuBuffer ob = dev.allocate(4L * nTok * rows)) {
                variant.matmulTiled(g, e, xb, 0, cols, nTok, ob, 0, rows, null, 0);
                float[] got = ob.readFloats(0, nTok * rows);
                String v = (variant.usesFloat16() ? "fp16" : "portable") + (vi == 2 ? " BK 16" : "");
                assertTrue(nmse(exact, got) < 1e-9, v + " vs exact: nmse " + nmse(exact, got));
                assertTrue(nmse(want, got) < 5e-4, v + " vs CPU backend: nmse " + nmse(want, got));
            }
        }
    }

    @Test
    void tiledGatheredMatmulWritesRoutedRows() {
        Random rnd = new Random(11);
        int cols = 96;
        int rows = 70;
        int nSlots = 21;
        GgmlType type = GgmlType.Q5_1;
        MemorySegment w = randomRows(type, rows * 2, cols, rnd);
        float[] x = gaussian(nSlots * cols, rnd);
        int[] slots = new int[2 * (nSlots + 1)]; // one leading pair skipped through rowsBase
        for (int s = 0; s < nSlots; s++) {
            slots[2 * (s + 1)] = (s * 5) % nSlots;           // activation row
            slots[2 * (s + 1) + 1] = s + 1;                  // output row; row 0 is never written
        }
        CpuMatrix cpu = new CpuMatrix("w", type, w, new long[] {cols, rows, 2});
        try (GpuMatrix g = new GpuMatrix(dev, "w", type, w, cols, rows, 2); GpuBuffer xb = upload(x);
             GpuBuffer rb = upload(slots); GpuBuffer ob = upload(new float[(nSlots + 1) * rows])) {
            ops.matmul(g, 1, xb, 0, cols, nSlots, ob, 0, rows, rb, 1); // 16+ slots: the tiled kernel
            float[] got = ob.readFloats(0, (nSlots + 1) * rows);
            float[] wr = new float[cols];
            for (int s = 1; s <= nSlots; s++) {
                for (int r = 0; r < rows; r++) {
                    cpu.getRow(rows + r, wr, 0);
                    double d = 0;
                    for (int i = 0; i < cols; i++) {
                        d += (double) wr[i] * x[slots[2 * s] * cols + i];
                    }
                    assertEquals(d, got[slots[2 * s + 1] * rows + r], 1e-4 * Math.max(1, Math.abs(d)));
                }
            }
            for (int r = 0; r < rows; r++) {
                assertEquals(0f, got[r], "row not routed stays untouched");
            }
        }
    }

    @Test
    void tiledStepFitsTheSharedMemory() {
        assertEquals(16, VulkanOps.tiledK(16384), "the guaranteed 16 KiB");
        assertEquals(32, VulkanOps.tiledK(32768), "lavapipe's 32 KiB");
        assertEquals(dev.info().float16() && dev.info().storage16(), dev.float16());
        assertEquals(dev.float16(), ops.usesFloat16());
    }

    /** A recording re-run sees the buffers' current contents; a host read inside a capture runs it and yields null. */
    @Test
    void recordedCommandsRunAgainOnNewInputs() {
        Random rnd = new Random(5);
        int cols = 40;
        int rows = 9;
        MemorySegment w = randomRows(GgmlType.Q8_0, rows, 64, rnd);
        CpuMatrix cpu = new CpuMatrix("w", GgmlType.Q8_0, w, new long[] {64, rows, 1});
        try (GpuMatrix g = new GpuMatrix(dev, "w", GgmlType.Q8_0, w, 64, rows, 1); GpuBuffer xb = dev.allocate(4L * 64);
             GpuBuffer ob = dev.allocate(4L * rows); GpuBuffer yb = dev.allocate(4L * cols)) {
            dev.beginRecording();
            ops.matmul(g, 0, xb, 0, 64, 1, ob, 0, rows);
            ops.scale(ob, 0, rows, 2f);
            RecordedCommands rec = dev.endRecording();
            assertTrue(rec != null && rec.dispatches() == 2, "captured both dispatches");
            float[] row = new float[64];
            for (int round = 0; round < 3; round++) {
                float[] x = gaussian(64, rnd);
                xb.write(0, x, 0, 64);
                long before = dev.dispatches();
                dev.submit(rec);
                assertEquals(before + 2, dev.dispatches());
                float[] got = ob.readFloats(0, rows);
                for (int r = 0; r < rows; r++) {
                    cpu.getRow(r, row, 0);
                    double d = 0;
                    for (int i = 0; i < 64; i++) {
                        d += (double) row[i] * x[i];
                    }
                    assertEquals(2 * d, got[r], 1e-4 * Math.max(1, Math.abs(d)), "round " + round + " row " + r);
                }
            }
            rec.close();
            // a read inside the capture: the captured work runs first, in order, and nothing is kept
            float[] y = gaussian(cols, rnd);
            yb.write(0, y, 0, cols);
            dev.beginRecording();
            ops.scale(yb, 0, cols, 3f);
            float[] mid = yb.readFloats(0, cols);
            ops.scale(yb, 0, cols, 0.5f);
            assertEquals(null, dev.endRecording());
            float[] end = yb.readFloats(0, cols);
            for (int i = 0; i < cols; i++) {
                assertEquals(3f * y[i], mid[i], 0f);
                assertEquals(1.5f * y[i], end[i], 1e-6f);
            }
        }
    }

    static Stream<Arguments> routeCases() {
        return Stream.of(Arguments.of(false, true, 0f, 130, 4), Arguments.of(true, false, 2.5f, 37, 8),
                Arguments.of(false, false, 1f, 8, 2), Arguments.of(true, true, 0f, 64, 1));
    }

    /** GPU routing against the CPU path's steps (CpuOps.softmax or sigmoid, CpuOps.topK, normalization, scale). */
    @ParameterizedTest(name = "MOE_ROUTE(sigmoid={0},norm={1},scale={2},n_expert={3},k={4})")
    @MethodSource("routeCases")
    void moeRouteMatchesCpu(boolean sigmoid, boolean normalize, float scale, int nExp, int k) {
        Random rnd = new Random(nExp * 7L + k);
        int nTok = 5;
        float[] logits = gaussian(nTok * nExp, rnd);
        logits[nExp + 3] = logits[nExp + 5] = 9f; // a tie in the top pair of token 1: the lower id comes first
        float[] prob = logits.clone();
        int[] wantIds = new int[nTok * k];
        float[] wantW = new float[nTok * k];
        for (int t = 0; t < nTok; t++) {
            if (sigmoid) {
                for (int i = 0; i < nExp; i++) {
                    prob[t * nExp + i] = (float) (1.0 / (1.0 + Math.exp(-prob[t * nExp + i])));
                }
            } else {
                CpuOps.softmax(prob, t * nExp, nExp);
            }
            CpuOps.topK(prob, t * nExp, nExp, k, wantIds, t * k);
            float sum = 0f;
            for (int j = 0; j < k; j++) {
                wantW[t * k + j] = prob[t * nExp + wantIds[t * k + j]];
                sum += wantW[t * k + j];
            }
            for (int j = 0; j < k; j++) {
                if (normalize) {
                    wantW[t * k + j] /= Math.max(sum, 6.103515625e-5f);
                }
                if (scale != 0f && scale != 1f) {
                    wantW[t * k + j] *= scale;
                }
            }
        }
        try (GpuBuffer lb = upload(logits); GpuBuffer ib = dev.allocate(4L * nTok * k);
             GpuBuffer wb = dev.allocate(4L * nTok * k)) {
            ops.moeRoute(lb, nExp, k, nTok, sigmoid, normalize, scale, ib, wb);
            int[] ids = new int[nTok * k];
            ib.read(0, ids, 0, ids.length);
            assertEquals(java.util.Arrays.toString(wantIds), java.util.Arrays.toString(ids));
            if (k > 1) {
                assertEquals(3, ids[k]);
                assertEquals(5, ids[k + 1]);
            }
            float[] w = wb.readFloats(0, nTok * k);
            float[] p = lb.readFloats(0, nTok * nExp);
            for (int i = 0; i < w.length; i++) {
                assertEquals(wantW[i], w[i], 1e-5f * Math.max(1f, Math.abs(wantW[i])), "weight " + i);
            }
            assertTrue(nmse(prob, p) < 1e-10, "probabilities: nmse " + nmse(prob, p));
        }
    }

    @Test
    void gatheredMatmulWritesRoutedRows() {
        Random rnd = new Random(7);
        int cols = 64;
        int rows = 19;
        GgmlType type = GgmlType.Q8_0;
        MemorySegment w = randomRows(type, rows * 3, cols, rnd);
        float[] x = gaussian(5 * cols, rnd);
        int[] slots = {4, 0, 1, 3, 2, 5}; // (activation row, output row) pairs
        CpuMatrix cpu = new CpuMatrix("w", type, w, new long[] {cols, rows, 3});
        try (GpuMatrix g = new GpuMatrix(dev, "w", type, w, cols, rows, 3); GpuBuffer xb = upload(x);
             GpuBuffer rb = upload(slots); GpuBuffer ob = upload(new float[6 * rows])) {
            ops.matmul(g, 2, xb, 0, cols, 3, ob, 0, rows, rb);
            float[] got = ob.readFloats(0, 6 * rows);
            float[] wr = new float[cols];
            for (int s = 0; s < 3; s++) {
                for (int r = 0; r < rows; r++) {
                    cpu.getRow(2 * rows + r, wr, 0);
                    double d = 0;
                    for (int i = 0; i < cols; i++) {
                        d += (double) wr[i] * x[slots[2 * s] * cols + i];
                    }
                    assertEquals(d, got[slots[2 * s + 1] * rows + r], 1e-4 * Math.max(1, Math.abs(d)));
                }
            }
            assertEquals(0f, got[1 * rows], "row not routed stays untouched");
        }
    }

    @ParameterizedTest(name = "GET_ROWS(type={0})")
    @MethodSource("types")
    void getRowsMatchesCpu(GgmlType type) {
        Random rnd = new Random(type.ordinal());
        int cols = type.blockSize() == 1 ? 45 : type.blockSize() == 32 ? 64 : 256;
        int rows = 13;
        MemorySegment w = randomRows(type, rows, cols, rnd);
        CpuMatrix cpu = new CpuMatrix("w", type, w, new long[] {cols, rows});
        int[] ids = {12, 0, 7, 7, 3};
        float[] want = new float[ids.length * cols];
        for (int t = 0; t < ids.length; t++) {
            cpu.getRow(ids[t], want, t * cols);
        }
        try (GpuMatrix g = new GpuMatrix(dev, "w", type, w, cols, rows, 1); GpuBuffer ib = upload(ids);
             GpuBuffer ob = dev.allocate(4L * want.length)) {
            ops.getRows(g, ib, ids.length, ob, 0, cols);
            float[] got = ob.readFloats(0, want.length);
            assertTrue(nmse(want, got) < 1e-12, "nmse " + nmse(want, got));
        }
    }

    static Stream<GgmlType> types() {
        return GpuMatrix.TYPES.stream();
    }

    @Test
    void rmsNormMatchesCpu() {
        Random rnd = new Random(1);
        int n = 83;
        int rows = 3;
        float[] x = gaussian(n * rows, rnd);
        float[] g = gaussian(n, rnd);
        float[] want = x.clone();
        for (int r = 0; r < rows; r++) {
            CpuOps.rmsNorm(want, r * n, n, 1e-5f, g);
        }
        try (GpuBuffer xb = upload(x); GpuBuffer gb = upload(g)) {
            ops.rmsNorm(xb, 0, n, n, rows, 1e-5f, gb, 0);
            float[] got = xb.readFloats(0, x.length);
            assertTrue(nmse(want, got) < 1e-10, "nmse " + nmse(want, got));
        }
    }

    @Test
    void softmaxMatchesCpu() {
        Random rnd = new Random(2);
        int n = 131;
        float[] x = gaussian(2 * n, rnd);
        float[] want = x.clone();
        CpuOps.softmax(want, 0, n);
        CpuOps.softmax(want, n, n);
        try (GpuBuffer xb = upload(x)) {
            ops.softmax(xb, 0, n, n, 2);
            float[] got = xb.readFloats(0, x.length);
            assertTrue(nmse(want, got) < 1e-10, "nmse " + nmse(want, got));
        }
    }

    static Stream<Arguments> ropeCases() {
        return Stream.of(Arguments.of(true, false, false), Arguments.of(false, false, false),
                Arguments.of(true, true, false), Arguments.of(true, false, true));
    }

    @ParameterizedTest(name = "ROPE(neox={0},factors={1},yarn={2})")
    @MethodSource("ropeCases")
    void ropeMatchesCpu(boolean neox, boolean withFactors, boolean yarn) {
        Random rnd = new Random(3);
        int hd = 24;
        int nDims = 16; // partial rotation: the last 8 dims pass through
        int nHead = 3;
        int nTok = 5;
        Rope rope = new Rope(nDims, neox, 10000f, yarn ? 0.25f : 1f, yarn ? 1f : 0f, 1f, 32f, 1f, 4096);
        float[] factors = withFactors ? new float[] {1f, 1.5f, 2f, 4f, 8f, 1f, 1f, 3f} : null;
        int[] pos = {0, 1, 17, 300, 4095};
        float[] x = gaussian(nTok * nHead * hd, rnd);
        float[] want = x.clone();
        float[] cache = new float[nDims];
        for (int t = 0; t < nTok; t++) {
            rope.cache(pos[t], factors, cache);
            rope.apply(want, t * nHead * hd, nHead, hd, cache);
        }
        try (GpuBuffer xb = upload(x); GpuBuffer pb = upload(pos);
             GpuBuffer fb = withFactors ? upload(factors) : null) {
            ops.rope(xb, 0, nHead * hd, nTok, nHead, hd, pb, rope, fb);
            float[] got = xb.readFloats(0, x.length);
            assertTrue(nmse(want, got) < 1e-10, "nmse " + nmse(want, got));
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("elementwiseOps")
    void elementwiseMatchesCpu(VulkanOps.Elementwise op) {
        Random rnd = new Random(op.ordinal());
        int n = 77;
        int rows = 3;
        float[] x = gaussian(n * rows, rnd);
        for (int i = 0; i < x.length; i += 7) {
            x[i] *= 6; // reach GELU's clamps and softcap's knee
        }
        float[] y = gaussian(n * rows, rnd);
        float[] want = x.clone();
        float s = 2.5f;
        switch (op) {
            case ADD -> CpuOps.add(want, 0, y, 0, want.length);
            case MUL -> CpuOps.mul(want, 0, y, 0, want.length);
            case SCALE -> CpuOps.scale(want, 0, want.length, s);
            case SOFTCAP -> CpuOps.softcap(want, 0, want.length, s);
            case SWIGLU -> CpuOps.swiglu(want, 0, y, 0, want.length);
            case GEGLU -> CpuOps.geglu(want, 0, y, 0, want.length);
            case COPY -> System.arraycopy(y, 0, want, 0, want.length);
        }
        try (GpuBuffer xb = upload(x); GpuBuffer yb = upload(y)) {
            ops.elementwise(op, xb, 0, n, yb, 0, n, n, rows, s);
            float[] got = xb.readFloats(0, x.length);
            assertTrue(nmse(want, got) < (op == VulkanOps.Elementwise.GEGLU ? 1e-6 : 1e-11),
                    "nmse " + nmse(want, got));
        }
    }

    static Stream<VulkanOps.Elementwise> elementwiseOps() {
        return Stream.of(VulkanOps.Elementwise.values());
    }

    static Stream<Arguments> attentionCases() {
        Stream.Builder<Arguments> s = Stream.builder();
        for (GgmlType t : VulkanOps.CACHE_TYPES) {
            s.add(Arguments.of(t, GgmlType.F16, 0f, 0));
            s.add(Arguments.of(GgmlType.F16, t, 0f, 0));
        }
        s.add(Arguments.of(GgmlType.F16, GgmlType.F16, 30f, 0));
        s.add(Arguments.of(GgmlType.F32, GgmlType.F32, 0f, 3));
        return s.build();
    }

    @ParameterizedTest(name = "ATTN(k={0},v={1},softcap={2},swa={3})")
    @MethodSource("attentionCases")
    void attentionAndSetRowsMatchCpu(GgmlType kType, GgmlType vType, float softcap, int swa) {
        Random rnd = new Random(11);
        int nHead = 6;
        int nHeadKv = 2;
        int hd = kType.isQuantized() || vType.isQuantized() ? 32 : 10;
        int kvd = nHeadKv * hd;
        int qd = nHead * hd;
        int nCells = 23;
        // cells: sequence 0 holds positions 0..9 scattered, sequence 1 holds 0..5, the rest free
        int[] cellSeq = new int[nCells];
        int[] cellPos = new int[nCells];
        java.util.Arrays.fill(cellSeq, -1);
        int[] order = {5, 1, 9, 0, 2, 8, 3, 7, 6, 4};
        for (int i = 0; i < 10; i++) {
            cellSeq[2 * i + 1] = 0;
            cellPos[2 * i + 1] = order[i];
        }
        for (int i = 0; i < 3; i++) {
            cellSeq[2 * i] = 1;
            cellPos[2 * i] = i;
        }
        float[] k = gaussian(nCells * kvd, rnd);
        float[] v = gaussian(nCells * kvd, rnd);
        int[] tokSeq = {0, 0, 1};
        int[] tokPos = {9, 4, 2};
        float[] q = gaussian(tokSeq.length * qd, rnd);
        // soft-capping models pre-scale Q (gemma2), so the score scale is then 1 and ggml's plain and flash
        // orderings of scale and cap agree
        float scale = softcap != 0f ? 1f : (float) (1 / Math.sqrt(hd));
        // CPU: cache rows in the cache type, plain (non-flash) attention over the visible cells
        long kRow = kType.bytesFor(kvd);
        long vRow = vType.bytesFor(kvd);
        MemorySegment kc = arena.allocate(kRow * nCells, 16);
        MemorySegment vc = arena.allocate(vRow * nCells, 16);
        for (int c = 0; c < nCells; c++) {
            RowQuantizer.store(kType, k, c * kvd, kvd, kc, c * kRow);
            RowQuantizer.store(vType, v, c * kvd, kvd, vc, c * vRow);
        }
        // CPU reference: the exact (plain) attention over the stored rows; the flash path's F16 accumulation is
        // a CPU-specific rounding the GPU does not mirror
        Attention.KvView view = new Attention.KvView(kType, kc, kRow, vType, vc, vRow);
        Attention att = new Attention(new Attention.Shape(nHead, nHeadKv, hd, scale, softcap,
                vType.isQuantized()), kType, vType, 1, nCells);
        float[] want = new float[tokSeq.length * qd];
        int[] visible = new int[nCells];
        for (int t = 0; t < tokSeq.length; t++) {
            int nv = 0;
            for (int c = 0; c < nCells; c++) {
                if (cellSeq[c] == tokSeq[t] && cellPos[c] <= tokPos[t] && (swa <= 0 || tokPos[t] - cellPos[c] < swa)) {
                    visible[nv++] = c;
                }
            }
            for (int h = 0; h < nHead; h++) {
                att.attendHead(0, q, t * qd + h * hd, h, view, visible, nv, want, t * qd + h * hd);
            }
        }
        int[] cells = new int[nCells];
        for (int c = 0; c < nCells; c++) {
            cells[c] = c;
        }
        int[] meta = new int[2 * nCells + 2 * tokSeq.length];
        System.arraycopy(cellSeq, 0, meta, 0, nCells);
        System.arraycopy(cellPos, 0, meta, nCells, nCells);
        System.arraycopy(tokSeq, 0, meta, 2 * nCells, tokSeq.length);
        System.arraycopy(tokPos, 0, meta, 2 * nCells + tokSeq.length, tokSeq.length);
        int kWords = VulkanOps.rowWords(kType, kvd);
        int vWords = VulkanOps.rowWords(vType, kvd);
        try (GpuBuffer kb = dev.allocate(4L * kWords * nCells); GpuBuffer vb = dev.allocate(4L * vWords * nCells);
             GpuBuffer ks = upload(k); GpuBuffer vs = upload(v); GpuBuffer cb = upload(cells);
             GpuBuffer mb = upload(meta); GpuBuffer qb = upload(q);
             GpuBuffer sc = dev.allocate(4L * tokSeq.length * nHead * nCells);
             GpuBuffer ob = dev.allocate(4L * want.length)) {
            // the cache is written by set_rows on the device, as the engine does
            ops.setRows(kb, kType, kvd, ks, 0, kvd, cb, nCells);
            ops.setRows(vb, vType, kvd, vs, 0, kvd, cb, nCells);
            VulkanOps.AttentionShape shape = new VulkanOps.AttentionShape(nHead, nHeadKv, hd, scale, softcap, swa);
            ops.attention(shape, kType, vType, qb, kb, vb, mb, nCells, tokSeq.length, 0, 2, sc, ob);
            ops.attention(shape, kType, vType, qb, kb, vb, mb, nCells, tokSeq.length, 2, 1, sc, ob);
            float[] got = ob.readFloats(0, want.length);
            // the CPU converts Q to K's dot format (Q8_0/BF16) and the flash path rounds; the GPU dots in F32
            boolean exactTypes = (kType == GgmlType.F32 || kType == GgmlType.F16) && !vType.isQuantized();
            assertTrue(nmse(want, got) < (exactTypes ? 1e-6 : 5e-5), "nmse " + nmse(want, got));
            // the stored cache rows equal the CPU's conversion, byte for byte
            MemorySegment kBack = arena.allocate(4L * kWords * nCells, 16);
            MemorySegment vBack = arena.allocate(4L * vWords * nCells, 16);
            kb.read(0, kBack);
            vb.read(0, vBack);
            for (int c = 0; c < nCells; c++) {
                assertEquals(-1L, kc.asSlice(c * kRow, kRow).mismatch(kBack.asSlice(4L * c * kWords, kRow)),
                        "K cache row " + c);
                assertEquals(-1L, vc.asSlice(c * vRow, vRow).mismatch(vBack.asSlice(4L * c * vWords, vRow)),
                        "V cache row " + c);
            }
        }
    }
}
