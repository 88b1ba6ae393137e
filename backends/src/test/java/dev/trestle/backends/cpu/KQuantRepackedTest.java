package dev.trestle.backends.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.trestle.backends.cpu.kernel.Q4_KRepacked;
import dev.trestle.backends.cpu.kernel.Q5_KRepacked;
import dev.trestle.backends.cpu.kernel.Q6_KDenseRepacked;
import dev.trestle.backends.cpu.kernel.Q6_KRepacked;
import dev.trestle.backends.cpu.kernel.RepackedKernel;
import dev.trestle.backends.cpu.kernel.RowKernel;
import dev.trestle.backends.cpu.kernel.RowKernels;
import dev.trestle.backends.type.GgmlType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The repacked K-quant kernels against their scalar references over the stored rows (bit for bit) and against
 * the plain kernels (within float reordering), for several group counts, token counts and gathered rows.
 */
class KQuantRepackedTest {
    private static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    interface Reference {
        float dot(MemorySegment w, long wOff, ActivationRows a, int aOff, int n);
    }

    static Stream<Arguments> cases() {
        return types().flatMap(t -> Stream.of(
                Arguments.of(t, 1, 256), Arguments.of(t, 3, 768), Arguments.of(t, 2, 512)));
    }

    private static RepackedKernel kernel(GgmlType t) {
        return switch (t) {
            case Q4_K -> new Q4_KRepacked();
            case Q5_K -> new Q5_KRepacked();
            default -> Q6_KDenseRepacked.usable() ? new Q6_KDenseRepacked() : new Q6_KRepacked();
        };
    }

    @org.junit.jupiter.api.Test
    void registryRepacksTheKQuants() {
        if (Boolean.parseBoolean(System.getProperty("trestle.cpu.repack", "true"))) {
            assertTrue(RowKernels.repackedFor(GgmlType.Q4_K) instanceof Q4_KRepacked);
            assertTrue(Q6_KDenseRepacked.usable() ? RowKernels.repackedFor(GgmlType.Q6_K) instanceof Q6_KDenseRepacked
                    : RowKernels.repackedFor(GgmlType.Q6_K) instanceof Q6_KRepacked);
            assertTrue(RowKernels.repackedFor(GgmlType.Q5_K) instanceof Q5_KRepacked);
        }
    }

    private static Reference reference(GgmlType t) {
        return switch (t) {
            case Q4_K -> Q4_KRepacked::dotReference;
            case Q5_K -> Q5_KRepacked::dotReference;
            default -> Q6_KRepacked::dotReference;
        };
    }

    /** Repacks all groups of {@code w} ({@code groups * G} rows) into one segment, group after group. */
    private static MemorySegment repackAll(RepackedKernel k, MemorySegment w, int groups, int cols, Arena arena) {
        long rowBytes = k.weightType().bytesFor(cols);
        MemorySegment dst = arena.allocate(k.groupBytes(cols) * groups + 1, 16).asSlice(1); // odd address on purpose
        for (int g = 0; g < groups; g++) {
            k.repack(w, (long) g * k.groupRows() * rowBytes, rowBytes, cols, dst, g * k.groupBytes(cols));
        }
        return dst;
    }

    @ParameterizedTest(name = "{0} groups={1} cols={2}")
    @MethodSource("cases")
    void multiplyEqualsScalarReferenceAndPlainKernel(GgmlType type, int groups, int cols) {
        RepackedKernel k = kernel(type);
        RowKernel plain = RowKernels.forType(type, "test");
        Reference ref = reference(type);
        int g = k.groupRows();
        int rows = groups * g;
        long rowBytes = type.bytesFor(cols);
        Random rnd = new Random(type.id() * 31L + cols);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment w = KernelTest.randomRows(type, rows, cols, rnd, arena);
            MemorySegment packed = repackAll(k, w, groups, cols, arena);
            int actCount = 9;
            float[] x = new float[actCount * cols];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) rnd.nextGaussian() * (i % 97 == 0 ? 20 : 1);
            }
            ActivationRows a = new ActivationRows(GgmlType.Q8_K, actCount, cols);
            a.load(x, 0, cols, actCount, cols);
            float[] deq = new float[rows * cols];
            for (int r = 0; r < rows; r++) {
                plain.dequantize(w, r * rowBytes, deq, r * cols, cols);
            }
            for (int tokens : new int[] {1, 2, 3, 5, 7}) {
                for (boolean gathered : new boolean[] {false, true}) {
                    int[] actRows = gathered ? new int[tokens] : null;
                    int[] outRows = gathered ? new int[tokens] : null;
                    int outSlots = gathered ? tokens + 2 : tokens;
                    for (int t = 0; t < tokens && gathered; t++) {
                        actRows[t] = (3 * t + 2) % actCount;
                        outRows[t] = outSlots - 1 - t;
                    }
                    int stride = rows + 5;
                    int rowOff = 3;
                    float[] out = new float[outSlots * stride];
                    java.util.Arrays.fill(out, Float.NaN);
                    for (int grp = 0; grp < groups; grp++) {
                        k.multiply(packed, grp * k.groupBytes(cols), cols, a, actRows, outRows, tokens, out, stride,
                                rowOff + grp * g);
                    }
                    boolean[] written = new boolean[out.length];
                    for (int t = 0; t < tokens; t++) {
                        int ar = gathered ? actRows[t] : t;
                        int or = gathered ? outRows[t] : t;
                        for (int r = 0; r < rows; r++) {
                            int at = or * stride + rowOff + r;
                            written[at] = true;
                            float exact = ref.dot(w, r * rowBytes, a, ar * cols, cols);
                            String where = type + " tokens=" + tokens + " gathered=" + gathered + " t=" + t + " row=" + r;
                            assertEquals(exact, out[at], 0f, where);
                            float p = plain.dot(w, r * rowBytes, a, ar * cols, cols);
                            double mag = 0;
                            for (int i = 0; i < cols; i++) {
                                mag += Math.abs(deq[r * cols + i] * a.value(ar * cols + i));
                            }
                            // both sum the same exact integers per super-block; only the float order differs
                            assertEquals(p, out[at], 1e-5 * mag + 1e-6, where + " vs plain kernel");
                        }
                    }
                    for (int i = 0; i < out.length; i++) {
                        assertTrue(written[i] || Float.isNaN(out[i]), "wrote outside its rows at " + i);
                    }
                }
            }
        }
    }

    /**
     * Quants at the extremes of the short-lane bound (all-zero or all-one quant bytes against quants of +-127):
     * the exact integer sums must not wrap.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("types")
    void extremeQuantsDoNotOverflowShortLanes(GgmlType type) {
        RepackedKernel k = kernel(type);
        Reference ref = reference(type);
        int cols = 512;
        int g = k.groupRows();
        long rowBytes = type.bytesFor(cols);
        try (Arena arena = Arena.ofConfined()) {
            for (int fill : new int[] {0x00, 0xff}) {
                MemorySegment w = arena.allocate(rowBytes * g, 16);
                w.fill((byte) fill);
                for (long bo = 0; bo < w.byteSize(); bo += type.bytesPerBlock()) {
                    if (type != GgmlType.Q6_K) {
                        w.set(SHORT, bo, Half.fromFloat(0.01f));
                        w.set(SHORT, bo + 2, Half.fromFloat(0.02f));
                        // all scales and mins 63, so that all-zero quants are weighed too
                        w.asSlice(bo + 4, 12).fill((byte) 0xff);
                    } else {
                        w.set(SHORT, bo + 208, Half.fromFloat(0.01f));
                        for (int i = 0; i < 16; i++) {
                            w.set(ValueLayout.JAVA_BYTE, bo + 192 + i, (byte) (i % 2 == 0 ? 127 : -128));
                        }
                    }
                }
                MemorySegment packed = repackAll(k, w, 1, cols, arena);
                for (float sign : new float[] {1f, -1f}) {
                    float[] x = new float[cols];
                    java.util.Arrays.fill(x, sign);
                    ActivationRows a = new ActivationRows(GgmlType.Q8_K, 1, cols);
                    a.load(x, 0, cols, 1, cols);
                    float[] out = new float[g];
                    k.multiply(packed, 0, cols, a, null, null, 1, out, g, 0);
                    float[] deq = new float[cols];
                    RowKernels.forType(type, "test").dequantize(w, 0, deq, 0, cols);
                    double exact = 0;
                    for (int i = 0; i < cols; i++) {
                        exact += (double) deq[i] * a.value(i);
                    }
                    for (int r = 0; r < g; r++) {
                        assertEquals(ref.dot(w, r * rowBytes, a, 0, cols), out[r], 0f, type + " fill " + fill);
                        assertEquals(exact, out[r], 1e-5 * Math.abs(exact) + 1e-6, type + " fill " + fill + " vs double");
                    }
                }
            }
        }
    }

    static Stream<GgmlType> types() {
        return Stream.of(GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K);
    }
}
