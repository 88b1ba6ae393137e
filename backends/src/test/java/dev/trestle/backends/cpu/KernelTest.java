package dev.trestle.backends.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.trestle.backends.cpu.kernel.F16Kernel;
import dev.trestle.backends.cpu.kernel.F32Kernel;
import dev.trestle.backends.cpu.kernel.Q4_0Kernel;
import dev.trestle.backends.cpu.kernel.Q4_0Repacked;
import dev.trestle.backends.cpu.kernel.Q4_KKernel;
import dev.trestle.backends.cpu.kernel.Q4_KRepacked;
import dev.trestle.backends.cpu.kernel.Q5_KRepacked;
import dev.trestle.backends.cpu.kernel.Q6_KKernel;
import dev.trestle.backends.cpu.kernel.Q6_KDenseRepacked;
import dev.trestle.backends.cpu.kernel.Q6_KRepacked;
import dev.trestle.backends.cpu.kernel.Q8_0Kernel;
import dev.trestle.backends.cpu.kernel.Q8_0Repacked;
import dev.trestle.backends.cpu.kernel.RepackedKernel;
import dev.trestle.backends.cpu.kernel.RowKernel;
import dev.trestle.backends.cpu.kernel.RowKernels;
import dev.trestle.backends.type.GgmlType;
import dev.trestle.common.TrestleException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every weight type's dot kernel against a scalar reference (dequantized weights times the converted
 * activations, summed in double), on sizes that are not multiples of the vector width or thread count.
 */
class KernelTest {
    private static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** Byte offsets of the F16 scale fields inside one block, per type (random bytes elsewhere). */
    private static int[] halfFields(GgmlType t) {
        return switch (t) {
            case Q4_0, Q5_0, Q8_0, IQ4_NL, IQ4_XS, F16 -> new int[] {0};
            case Q4_1, Q5_1, Q4_K, Q5_K -> new int[] {0, 2};
            case Q2_K -> new int[] {80, 82};
            case Q3_K -> new int[] {108};
            case Q6_K -> new int[] {208};
            default -> new int[0];
        };
    }

    /** Random but finite stored rows of {@code type}. */
    static MemorySegment randomRows(GgmlType type, int rows, int cols, Random rnd, Arena arena) {
        long rowBytes = type.bytesFor(cols);
        MemorySegment m = arena.allocate(rowBytes * rows, 16);
        for (long i = 0; i < m.byteSize(); i++) {
            m.set(ValueLayout.JAVA_BYTE, i, (byte) rnd.nextInt(256));
        }
        long blocks = rowBytes * rows / type.bytesPerBlock();
        for (long b = 0; b < blocks; b++) {
            long bo = b * type.bytesPerBlock();
            switch (type) {
                case F32 -> m.set(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), bo,
                        (float) rnd.nextGaussian());
                case BF16 -> m.set(SHORT, bo, Half.floatToBf16((float) rnd.nextGaussian()));
                case MXFP4 -> m.set(ValueLayout.JAVA_BYTE, bo, (byte) (120 + rnd.nextInt(10)));
                default -> {
                    for (int f : halfFields(type)) {
                        float v = type == GgmlType.F16 ? (float) rnd.nextGaussian() : 0.001f + 0.05f * rnd.nextFloat();
                        m.set(SHORT, bo + f, Half.fromFloat(v));
                    }
                }
            }
        }
        return m;
    }

    static Stream<Arguments> cases() {
        return Stream.of(GgmlType.values()).filter(RowKernels::supports).flatMap(t -> {
            int block = t.blockSize() == 1 ? 1 : t.blockSize();
            int[] lengths = block == 1 ? new int[] {1, 7, 37, 67, 300} : block == 32 ? new int[] {32, 96, 224}
                    : new int[] {256, 768};
            return java.util.Arrays.stream(lengths).mapToObj(n -> Arguments.of(t, n));
        });
    }

    @ParameterizedTest(name = "{0} n={1}")
    @MethodSource("cases")
    void dotMatchesDequantizedReference(GgmlType type, int n) {
        Random rnd = new Random(type.id() * 1000L + n);
        RowKernel k = RowKernels.forType(type, "test");
        int rows = 5;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment w = randomRows(type, rows, n, rnd, arena);
            float[] x = new float[n];
            for (int i = 0; i < n; i++) {
                x[i] = (float) rnd.nextGaussian();
            }
            ActivationRows a = new ActivationRows(k.dotType(), 1, n);
            a.load(x, 0, n, 1, n);
            float[] deq = new float[n];
            long rowBytes = type.bytesFor(n);
            for (int r = 0; r < rows; r++) {
                k.dequantize(w, r * rowBytes, deq, 0, n);
                double ref = 0;
                double mag = 0;
                for (int i = 0; i < n; i++) {
                    ref += (double) deq[i] * a.value(i);
                    mag += Math.abs((double) deq[i] * a.value(i));
                }
                float got = k.dot(w, r * rowBytes, a, 0, n);
                // Q4_1/Q5_1 take the min term from Q8_1's F16-rounded d * sum(q), as ggml does
                double rel = k.dotType() == GgmlType.Q8_1 ? 1e-3 : 1e-5;
                assertEquals(ref, got, rel * mag + 1e-6, type + " row " + r);
            }
        }
    }

    @Test
    void vectorKernelsEqualTheirScalarReferences() {
        Random rnd = new Random(5);
        try (Arena arena = Arena.ofConfined()) {
            for (int n : new int[] {1, 15, 17, 33, 100, 257}) {
                float[] x = new float[n];
                for (int i = 0; i < n; i++) {
                    x[i] = (float) rnd.nextGaussian();
                }
                MemorySegment w32 = randomRows(GgmlType.F32, 1, n, rnd, arena);
                ActivationRows a32 = new ActivationRows(GgmlType.F32, 1, n);
                a32.load(x, 0, n, 1, n);
                assertEquals(F32Kernel.dotScalar(w32, 0, x, 0, n), new F32Kernel().dot(w32, 0, a32, 0, n), 1e-4);
                MemorySegment w16 = randomRows(GgmlType.F16, 1, n, rnd, arena);
                ActivationRows a16 = new ActivationRows(GgmlType.F16, 1, n);
                a16.load(x, 0, n, 1, n);
                assertEquals(F16Kernel.dotScalar(w16, 0, a16.half(), 0, n), new F16Kernel().dot(w16, 0, a16, 0, n), 1e-4);
            }
            for (int n : new int[] {32, 96, 320}) {
                float[] x = new float[n];
                for (int i = 0; i < n; i++) {
                    x[i] = (float) rnd.nextGaussian();
                }
                MemorySegment w8 = randomRows(GgmlType.Q8_0, 1, n, rnd, arena);
                ActivationRows a8 = new ActivationRows(GgmlType.Q8_0, 1, n);
                a8.load(x, 0, n, 1, n);
                assertEquals(Q8_0Kernel.dotScalar(w8, 0, a8, 0, n), new Q8_0Kernel().dot(w8, 0, a8, 0, n), 1e-5);
                assertEquals(Q8_0Kernel.dotScalarExact(w8, 0, a8, 0, n), new Q8_0Kernel().dot(w8, 0, a8, 0, n), 0f,
                        "vector Q8_0 keeps ggml's lane order bit for bit");
                MemorySegment w4 = randomRows(GgmlType.Q4_0, 1, n, rnd, arena);
                assertEquals(Q4_0Kernel.dotScalarExact(w4, 0, a8, 0, n), new Q4_0Kernel().dot(w4, 0, a8, 0, n), 0f,
                        "vector Q4_0 keeps ggml's lane order bit for bit");
            }
            for (int n : new int[] {256, 768}) {
                float[] x = new float[n];
                for (int i = 0; i < n; i++) {
                    x[i] = (float) rnd.nextGaussian();
                }
                ActivationRows ak = new ActivationRows(GgmlType.Q8_K, 1, n);
                ak.load(x, 0, n, 1, n);
                MemorySegment w4k = randomRows(GgmlType.Q4_K, 1, n, rnd, arena);
                float s4 = Q4_KKernel.dotScalar(w4k, 0, ak, 0, n);
                assertEquals(s4, new Q4_KKernel().dot(w4k, 0, ak, 0, n), 1e-5 * Math.max(1, Math.abs(s4)));
                MemorySegment w6k = randomRows(GgmlType.Q6_K, 1, n, rnd, arena);
                float s6 = Q6_KKernel.dotScalar(w6k, 0, ak, 0, n);
                assertEquals(s6, new Q6_KKernel().dot(w6k, 0, ak, 0, n), 1e-5 * Math.max(1, Math.abs(s6)));
            }
        }
    }

    @Test
    void f16WideningIsExactIncludingSubnormals() {
        try (Arena arena = Arena.ofConfined()) {
            int n = 65536;
            MemorySegment w = arena.allocate(2L * n, 16);
            for (int i = 0; i < n; i++) {
                w.set(SHORT, 2L * i, (short) i);
            }
            int len = 64; // several vector widths
            F16Kernel k = new F16Kernel();
            ActivationRows unit = new ActivationRows(GgmlType.F16, len, len);
            float[] eye = new float[len * len];
            for (int j = 0; j < len; j++) {
                eye[j * len + j] = 1f;
            }
            unit.load(eye, 0, len, len, len);
            for (int base = 0; base < n; base += len) {
                for (int j = 0; j < len; j++) {
                    int code = base + j;
                    if (((code >>> 10) & 0x1f) == 31) {
                        continue; // inf/NaN encodings never occur in weights
                    }
                    float got = k.dot(w, 2L * base, unit, j * len, len);
                    assertEquals(Float.float16ToFloat((short) code), got, 0f, "f16 code " + code);
                }
            }
        }
    }

    @Test
    void matmulSplitsRowsAcrossThreadsExactly() {
        Random rnd = new Random(9);
        int rows = 37;
        int cols = 96;
        try (Arena arena = Arena.ofShared(); CpuThreadPool pool = new CpuThreadPool(3)) {
          // 3 tokens: below a 4-token kernel tile; 9: two tiles and a remainder
          for (int tokens : new int[] {3, 9}) {
            for (GgmlType t : new GgmlType[] {GgmlType.F32, GgmlType.F16, GgmlType.Q8_0, GgmlType.Q4_0}) {
                MemorySegment w = randomRows(t, rows, cols, rnd, arena);
                CpuMatrix m = new CpuMatrix("w", t, w, new long[] {cols, rows}, null);
                float[] x = new float[tokens * cols];
                for (int i = 0; i < x.length; i++) {
                    x[i] = (float) rnd.nextGaussian();
                }
                ActivationRows a = new ActivationRows(m.dotType(), tokens, cols);
                a.load(x, 0, cols, tokens, cols);
                float[] out = new float[tokens * rows];
                m.matmul(new MatmulJob(pool), a, tokens, out, rows, 0);
                for (int tok = 0; tok < tokens; tok++) {
                    for (int r = 0; r < rows; r++) {
                        assertEquals(m.kernel().dot(w, r * t.bytesFor(cols), a, tok * cols, cols), out[tok * rows + r],
                                0f, t + " token " + tok + " row " + r);
                    }
                }
            }
          }
        }
    }

    /** The repacked layouts' scalar references (read from the stored rows), per type. */
    private static float repackedScalar(GgmlType t, MemorySegment w, long off, ActivationRows a, int aOff, int n) {
        return switch (t) {
            case Q4_0 -> Q4_0Repacked.dotScalar(w, off, a, aOff, n);
            case Q8_0 -> Q8_0Repacked.dotScalar(w, off, a, aOff, n);
            case Q4_K -> Q4_KRepacked.dotReference(w, off, a, aOff, n);
            case Q5_K -> Q5_KRepacked.dotReference(w, off, a, aOff, n);
            case Q6_K -> Q6_KRepacked.dotReference(w, off, a, aOff, n);
            default -> throw new IllegalArgumentException("no repacked layout for " + t);
        };
    }

    @Test
    void repackedMatmulsEqualTheirScalarReferenceBitForBit() {
        Random rnd = new Random(11);
        int experts = 2;
        try (Arena arena = Arena.ofShared(); CpuThreadPool pool = new CpuThreadPool(3)) {
            MatmulJob job = new MatmulJob(pool);
            List<RepackedKernel> kernels = new ArrayList<>(List.of(new Q4_0Repacked(), new Q8_0Repacked(),
                    new Q4_KRepacked(), new Q5_KRepacked(), new Q6_KRepacked()));
            if (Q6_KDenseRepacked.usable()) {
                kernels.add(new Q6_KDenseRepacked()); // the layout this CPU runs for Q6_K
            }
            for (RepackedKernel k : kernels) {
                GgmlType t = k.weightType();
                int cols = t.blockSize() == 256 ? 512 : 96;
                int g = k.groupRows();
                // several groups and a tail; exactly one group; too few rows for a group (plain kernel only)
                for (int rows : new int[] {3 * g + 5, g, g - 1}) {
                    MemorySegment w = randomRows(t, rows * experts, cols, rnd, arena);
                    CpuMatrix m = new CpuMatrix("w", t, w, new long[] {cols, rows, experts}, k);
                    RowKernel plain = m.kernel();
                    long rowBytes = t.bytesFor(cols);
                    int maxTokens = 37; // beyond one 32-token tile
                    float[] x = new float[maxTokens * cols];
                    for (int i = 0; i < x.length; i++) {
                        x[i] = (float) rnd.nextGaussian() * (i % 7 == 0 ? 8f : 1f);
                    }
                    ActivationRows a = new ActivationRows(k.dotType(), maxTokens, cols);
                    a.load(x, 0, cols, maxTokens, cols);
                    for (int expert = 0; expert < experts; expert++) {
                        long base = (long) expert * rows * rowBytes;
                        for (int tokens : new int[] {1, 3, 4, 9, 37}) {
                            float[] out = new float[tokens * rows];
                            m.matmul(job, a, tokens, out, rows, expert);
                            for (int tok = 0; tok < tokens; tok++) {
                                for (int r = 0; r < rows; r++) {
                                    float want = r < rows / g * g
                                            ? repackedScalar(t, w, base + r * rowBytes, a, tok * cols, cols)
                                            : plain.dot(w, base + r * rowBytes, a, tok * cols, cols);
                                    assertEquals(want, out[tok * rows + r], 0f,
                                            t + " rows " + rows + " expert " + expert + " tokens " + tokens
                                                    + " token " + tok + " row " + r);
                                }
                            }
                        }
                        // tokens routed to one expert: gathered, out of order, into other output rows
                        for (int count : new int[] {1, 2, 5, 8}) {
                            int[] actRows = new int[count];
                            int[] outRows = new int[count];
                            for (int i = 0; i < count; i++) {
                                actRows[i] = (i * 7 + 3) % maxTokens;
                                outRows[i] = count - 1 - i;
                            }
                            float[] out = new float[count * rows];
                            m.matmulRows(job, a, actRows, outRows, count, out, rows, expert);
                            for (int i = 0; i < count; i++) {
                                for (int r = 0; r < rows; r++) {
                                    float want = r < rows / g * g
                                            ? repackedScalar(t, w, base + r * rowBytes, a, actRows[i] * cols, cols)
                                            : plain.vecDot(w, base + r * rowBytes, a, actRows[i] * cols, cols);
                                    assertEquals(want, out[outRows[i] * rows + r], 0f,
                                            t + " gathered rows " + rows + " count " + count + " row " + r);
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    @Test
    void batchedGatherEqualsLoneGatheredMatmulsBitForBit() {
        Random rnd = new Random(17);
        int experts = 3;
        int cols = 512;
        int maxTokens = 11;
        try (Arena arena = Arena.ofShared(); CpuThreadPool pool = new CpuThreadPool(3)) {
            MatmulJob job = new MatmulJob(pool);
            // two repacked layouts and odd row counts (a tail of plain rows), as gate/up/down of several experts
            RepackedKernel k4 = new Q4_KRepacked();
            RepackedKernel k6 = new Q6_KRepacked();
            int rows4 = 5 * k4.groupRows() + 3;
            int rows6 = 2 * k6.groupRows() + 1;
            CpuMatrix m4 = new CpuMatrix("a", GgmlType.Q4_K,
                    randomRows(GgmlType.Q4_K, rows4 * experts, cols, rnd, arena), new long[] {cols, rows4, experts}, k4);
            CpuMatrix m6 = new CpuMatrix("b", GgmlType.Q6_K,
                    randomRows(GgmlType.Q6_K, rows6 * experts, cols, rnd, arena), new long[] {cols, rows6, experts}, k6);
            float[] x = new float[maxTokens * cols];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) rnd.nextGaussian();
            }
            ActivationRows a = new ActivationRows(k4.dotType(), maxTokens, cols);
            a.load(x, 0, cols, maxTokens, cols);
            int[][] actRows = new int[experts][];
            int[][] outRows = new int[experts][];
            int[] counts = {1, 4, 7};
            for (int e = 0; e < experts; e++) {
                actRows[e] = new int[counts[e]];
                outRows[e] = new int[counts[e]];
                for (int i = 0; i < counts[e]; i++) {
                    actRows[e][i] = (i * 5 + e) % maxTokens;
                    outRows[e][i] = e * 7 + i; // distinct output rows per expert
                }
            }
            int outRowsTotal = experts * 7;
            float[] want4 = new float[outRowsTotal * rows4];
            float[] want6 = new float[outRowsTotal * rows6];
            for (int e = 0; e < experts; e++) {
                m4.matmulRows(job, a, actRows[e], outRows[e], counts[e], want4, rows4, e);
                m6.matmulRows(job, a, actRows[e], outRows[e], counts[e], want6, rows6, e);
            }
            float[] got4 = new float[want4.length];
            float[] got6 = new float[want6.length];
            job.beginGather();
            for (int e = 0; e < experts; e++) {
                job.addGather(m4, a, actRows[e], outRows[e], counts[e], got4, rows4, e);
                job.addGather(m6, a, actRows[e], outRows[e], counts[e], got6, rows6, e);
            }
            job.addGather(m4, a, actRows[0], outRows[0], 0, got4, rows4, 0); // an empty entry adds nothing
            job.runGathered();
            assertArrayEquals(want4, got4, 0f);
            assertArrayEquals(want6, got6, 0f);
            // the batch is consumed: running again does nothing
            java.util.Arrays.fill(got4, 0f);
            job.runGathered();
            assertEquals(0f, got4[outRows[1][0] * rows4], 0f);
        }
    }

    /**
     * Q4_0's repacked kernel finishes each block's dot modulo 2^16 (exact while it fits a short): blocks at the
     * bounds, every code 0 or 15 against every quant +-127 (dots of -+32512 and +-28448), and mixed ones.
     */
    @Test
    void q4_0RepackedIsExactAtTheBlockDotBounds() {
        RepackedKernel k = new Q4_0Repacked();
        int rows = k.groupRows();
        int cols = 128;
        long rb = GgmlType.Q4_0.bytesFor(cols);
        try (Arena arena = Arena.ofConfined(); CpuThreadPool pool = new CpuThreadPool(1)) {
            MemorySegment w = arena.allocate(rb * rows, 16);
            for (int r = 0; r < rows; r++) {
                for (int b = 0; b < cols / 32; b++) {
                    long bo = r * rb + 18L * b;
                    w.set(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), bo, (short) 0x3c00);
                    for (int j = 0; j < 16; j++) {
                        // rows alternate all-0 and all-15 codes; from row 4 on, some blocks mix them
                        int lo = r % 2 == 0 ? 0 : 15;
                        int hi = r >= 4 && (b + j) % 3 == 0 ? 15 - lo : lo;
                        w.set(ValueLayout.JAVA_BYTE, bo + 2 + j, (byte) (lo | hi << 4));
                    }
                }
            }
            CpuMatrix m = new CpuMatrix("w", GgmlType.Q4_0, w, new long[] {cols, rows}, k);
            int tokens = 4; // a three-token step and a single one
            float[] x = new float[tokens * cols];
            for (int i = 0; i < x.length; i++) {
                int t = i / cols;
                x[i] = t == 0 ? 1f : t == 1 ? -1f : (i % 2 == 0) == (t == 2) ? 1f : -1f; // all quants +-127
            }
            ActivationRows a = new ActivationRows(GgmlType.Q8_0, tokens, cols);
            a.load(x, 0, cols, tokens, cols);
            float[] out = new float[tokens * rows];
            m.matmul(new MatmulJob(pool), a, tokens, out, rows, 0);
            for (int t = 0; t < tokens; t++) {
                for (int r = 0; r < rows; r++) {
                    assertEquals(Q4_0Repacked.dotScalar(w, r * rb, a, t * cols, cols), out[t * rows + r], 0f,
                            "token " + t + " row " + r);
                }
            }
            // and the value: code 0 (weight -8) against -127 in all 128 elements, four blocks of 32512
            assertEquals(4 * 32512 * a.scales()[cols / 32], out[rows], 1e-3f);
        }
    }

    @Test
    void chunkBodiesRepackOnFirstUseWhenNoMatmulPrepared() {
        Random rnd = new Random(13);
        RepackedKernel k = new Q4_0Repacked();
        int rows = 2 * k.groupRows() + 3;
        int cols = 64;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment w = randomRows(GgmlType.Q4_0, rows, cols, rnd, arena);
            CpuMatrix m = new CpuMatrix("w", GgmlType.Q4_0, w, new long[] {cols, rows}, k);
            float[] x = new float[cols];
            for (int i = 0; i < cols; i++) {
                x[i] = (float) rnd.nextGaussian();
            }
            ActivationRows a = new ActivationRows(GgmlType.Q8_0, 1, cols);
            a.load(x, 0, cols, 1, cols);
            float[] out = new float[rows];
            // a range that starts inside the first group: its head rows take the plain kernel
            m.denseRows(5, rows, a, 1, out, rows, 0);
            long rb = GgmlType.Q4_0.bytesFor(cols);
            for (int r = 5; r < rows; r++) {
                boolean grouped = r >= k.groupRows() && r < 2 * k.groupRows();
                float want = grouped ? Q4_0Repacked.dotScalar(w, r * rb, a, 0, cols)
                        : m.kernel().dot(w, r * rb, a, 0, cols);
                assertEquals(want, out[r], 0f, "row " + r);
            }
        }
    }

    @Test
    void repackedScalarReferencesMatchTheDequantizedDot() {
        Random rnd = new Random(12);
        int n = 256;
        try (Arena arena = Arena.ofConfined()) {
            float[] x = new float[n];
            for (int i = 0; i < n; i++) {
                x[i] = (float) rnd.nextGaussian();
            }
            ActivationRows a = new ActivationRows(GgmlType.Q8_0, 1, n);
            a.load(x, 0, n, 1, n);
            for (GgmlType t : new GgmlType[] {GgmlType.Q4_0, GgmlType.Q8_0}) {
                MemorySegment w = randomRows(t, 1, n, rnd, arena);
                float[] deq = new float[n];
                RowKernels.forType(t, "w").dequantize(w, 0, deq, 0, n);
                double want = 0;
                for (int i = 0; i < n; i++) {
                    want += (double) deq[i] * a.value(i);
                }
                float got = repackedScalar(t, w, 0, a, 0, n);
                assertEquals(want, got, 1e-5 * Math.max(1, Math.abs(want)), t.toString());
            }
        }
    }

    @Test
    void cacheQuantizersRoundTripWithinTheirStep() {
        Random rnd = new Random(3);
        int n = 64;
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) rnd.nextGaussian();
        }
        try (Arena arena = Arena.ofConfined()) {
            for (GgmlType t : RowQuantizer.CACHE_TYPES) {
                MemorySegment m = arena.allocate(t.bytesFor(n), 16);
                RowQuantizer.store(t, x, 0, n, m, 0);
                float[] back = new float[n];
                RowKernels.forType(t, "cache").dequantize(m, 0, back, 0, n);
                double step = switch (t) {
                    case F32 -> 1e-7;
                    case F16 -> 2e-3;
                    case BF16 -> 2e-2;
                    case Q8_0 -> 0.03;
                    case Q5_0, Q5_1 -> 0.15;
                    default -> 0.35;
                };
                for (int i = 0; i < n; i++) {
                    assertEquals(x[i], back[i], step * 3.5, t + " element " + i);
                }
            }
        }
    }

    @Test
    void unsupportedWeightTypeFailsNamingTensorAndType() {
        TrestleException e = assertThrows(TrestleException.class, () -> RowKernels.forType(GgmlType.IQ2_XXS, "blk.0.attn_q.weight"));
        assertTrue(e.getMessage().contains("blk.0.attn_q.weight") && e.getMessage().contains("iq2_xxs"), e.getMessage());
        assertThrows(TrestleException.class, () -> RowQuantizer.cacheType("q3_k"));
    }

    @Test
    void ropeNeoxAndNormalRotatePairsByTheSameAngles() {
        Rope norm = new Rope(4, false, 10000f, 1f, 0f, 1f, 32f, 1f, 2048);
        Rope neox = new Rope(4, true, 10000f, 1f, 0f, 1f, 32f, 1f, 2048);
        float[] cache = new float[4];
        norm.cache(3, null, cache);
        assertEquals(Math.cos(3), cache[0], 1e-6);
        assertEquals(Math.sin(3), cache[1], 1e-6);
        assertEquals(Math.cos(3 * 0.01), cache[2], 1e-6);
        float[] a = {1, 2, 3, 4, 5};
        float[] b = {1, 3, 2, 4, 5};
        norm.apply(a, 0, 1, 5, cache);
        neox.apply(b, 0, 1, 5, cache);
        assertEquals(a[0], b[0], 1e-6);
        assertEquals(a[1], b[2], 1e-6);
        assertEquals(a[2], b[1], 1e-6);
        assertEquals(a[3], b[3], 1e-6);
        assertEquals(5f, a[4], 0f, "dims past n_rot pass through");
        float[] factors = {1f, 2f};
        neox.cache(3, factors, cache);
        assertEquals(Math.cos(3 * 0.01 / 2), cache[2], 1e-6);
    }

    @Test
    void geluUsesTheF16TableSemantics() {
        assertEquals(0f, CpuOps.gelu(-11f), 0f);
        assertEquals(12f, CpuOps.gelu(12f), 0f);
        float g = CpuOps.gelu(0.7f);
        assertEquals(Half.round(g), g, 0f);
        assertEquals(CpuOps.geluExact(0.7f), g, 1e-3f);
    }
}
