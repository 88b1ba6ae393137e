package dev.trestle.backends.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.trestle.backends.cpu.kernel.PairedRepackedKernel;
import dev.trestle.backends.cpu.kernel.Q4_0Repacked;
import dev.trestle.backends.cpu.kernel.Q4_KRepacked;
import dev.trestle.backends.cpu.kernel.Q5_KRepacked;
import dev.trestle.backends.cpu.kernel.Q6_KDenseRepacked;
import dev.trestle.backends.cpu.kernel.Q8_0Repacked;
import dev.trestle.backends.cpu.kernel.RepackedKernel;
import dev.trestle.backends.cpu.kernel.TripledRepackedKernel;
import dev.trestle.backends.cpu.x86.CpuFeatures;
import dev.trestle.backends.cpu.x86.VnniMatmul;
import dev.trestle.backends.type.GgmlType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Locale;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The emitted AVX-512 VNNI prefill kernels against the Vector API kernels of the same layouts. */
class VnniMatmulTest {
    private static boolean linuxX86() {
        String arch = System.getProperty("os.arch");
        return System.getProperty("os.name").toLowerCase(Locale.ROOT).contains("linux")
                && (arch.equals("amd64") || arch.equals("x86_64"));
    }

    @Test
    void hostFeaturesAreReadWithEmittedCpuid() {
        assumeTrue(linuxX86(), "machine code is only emitted on Linux x86-64");
        CpuFeatures f = CpuFeatures.host();
        assertNotNull(f, "cpuid/xgetbv could not be emitted and called");
        assertTrue(f.vendor().matches("[\\x20-\\x7e]{12}"), "vendor string: " + f.vendor());
        assertTrue(!f.avx512Vnni() || f.avx512(), "VNNI is reported only on top of AVX-512");
        if (f.avx512Vnni() && Boolean.parseBoolean(System.getProperty("trestle.cpu.vnni", "true"))) {
            assertNotNull(VnniMatmul.forType(GgmlType.Q4_0));
            assertNotNull(VnniMatmul.forType(GgmlType.Q8_0));
            assertNotNull(VnniMatmul.forType(GgmlType.Q4_K));
            assertNotNull(VnniMatmul.forType(GgmlType.Q5_K));
            assertNotNull(VnniMatmul.forType(GgmlType.Q6_K));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"Q4_0", "Q8_0", "Q4_K", "Q5_K", "Q6_K"})
    void emittedKernelsEqualTheVectorApiKernelsBitForBit(String name) {
        GgmlType type = GgmlType.valueOf(name);
        VnniMatmul vnni = VnniMatmul.forType(type);
        assumeTrue(vnni != null, "this CPU or OS has no AVX-512 VNNI kernels (the Vector API kernels run instead)");
        RepackedKernel kernel = switch (type) {
            case Q4_0 -> new Q4_0Repacked();
            case Q8_0 -> new Q8_0Repacked();
            case Q4_K -> new Q4_KRepacked();
            case Q5_K -> new Q5_KRepacked();
            default -> new Q6_KDenseRepacked(); // the Q6_K layout the kernel reads (unpacked per call)
        };
        Multiply reference = switch (kernel) {
            case TripledRepackedKernel k -> k::multiplyVectorApi;
            case PairedRepackedKernel k -> k::multiplyVectorApi;
            default -> throw new IllegalStateException();
        };
        // Q6_K goes through the layout's dispatch, which unpacks the group for the kernel (two or more tokens)
        Multiply emitted = type == GgmlType.Q6_K ? kernel::multiply : vnni::multiply;
        int minTokens = type == GgmlType.Q6_K ? 2 : 1;
        Random rnd = new Random(23);
        int maxTokens = 13;
        int[] widths = type.blockSize() == 256 ? new int[] {256, 512, 2048} : new int[] {32, 96, 2048};
        try (Arena arena = Arena.ofConfined()) {
            for (int cols : widths) {
                int groups = 3;
                int rows = groups * kernel.groupRows();
                long rowBytes = type.bytesFor(cols);
                MemorySegment src = KernelTest.randomRows(type, rows, cols, rnd, arena);
                long groupBytes = kernel.groupBytes(cols);
                MemorySegment packed = arena.allocate(groups * groupBytes, 64);
                for (int g = 0; g < groups; g++) {
                    kernel.repack(src, g * kernel.groupRows() * rowBytes, rowBytes, cols, packed, g * groupBytes);
                }
                float[] x = new float[maxTokens * cols];
                for (int i = 0; i < x.length; i++) {
                    // every 5th element large: blocks whose quants reach +-127 next to small ones
                    x[i] = (float) rnd.nextGaussian() * (i % 5 == 0 ? 40f : 1f);
                }
                ActivationRows a = new ActivationRows(kernel.dotType(), maxTokens, cols);
                a.load(x, 0, cols, maxTokens, cols);
                for (int tokens = minTokens; tokens <= maxTokens; tokens++) {
                    int[] actRows = new int[tokens];
                    int[] outRows = new int[tokens];
                    for (int i = 0; i < tokens; i++) {
                        actRows[i] = (i * 5 + 2) % maxTokens;
                        outRows[i] = tokens - 1 - i;
                    }
                    for (boolean gathered : new boolean[] {false, true}) {
                        int[] ar = gathered ? actRows : null;
                        int[] or = gathered ? outRows : null;
                        float[] want = new float[tokens * rows];
                        float[] got = new float[tokens * rows];
                        for (int g = 0; g < groups; g++) {
                            long off = g * groupBytes;
                            int rowOff = g * kernel.groupRows();
                            reference.multiply(packed, off, cols, a, ar, or, tokens, want, rows, rowOff);
                            emitted.multiply(packed, off, cols, a, ar, or, tokens, got, rows, rowOff);
                        }
                        assertArrayEquals(want, got, type + " cols " + cols + " tokens " + tokens
                                + (gathered ? " gathered" : ""));
                    }
                }
            }
        }
    }

    /** A repacked kernel's multiply: the Vector API path or the emitted one. */
    private interface Multiply {
        void multiply(MemorySegment w, long groupOff, int cols, ActivationRows a, int[] actRows, int[] outRows,
                      int tokens, float[] out, int outStride, int rowOff);
    }

    @Test
    void indicesAreCheckedBeforeTheMachineCodeRuns() {
        VnniMatmul vnni = VnniMatmul.forType(GgmlType.Q4_0);
        assumeTrue(vnni != null, "this CPU or OS has no AVX-512 VNNI kernels");
        int cols = 64;
        var kernel = new Q4_0Repacked();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment packed = arena.allocate(kernel.groupBytes(cols), 64);
            ActivationRows a = new ActivationRows(GgmlType.Q8_0, 2, cols);
            a.load(new float[2 * cols], 0, cols, 2, cols);
            float[] out = new float[2 * 32];
            assertThrows(IndexOutOfBoundsException.class,
                    () -> vnni.multiply(packed, 0, cols, a, new int[] {0, 2}, null, 2, out, 32, 0));
            assertThrows(IndexOutOfBoundsException.class,
                    () -> vnni.multiply(packed, 0, cols, a, null, null, 2, out, 32, 1));
            assertThrows(IndexOutOfBoundsException.class,
                    () -> vnni.multiply(packed, 64, cols, a, null, null, 2, out, 32, 0));
            assertThrows(IndexOutOfBoundsException.class,
                    () -> vnni.multiply(MemorySegment.ofArray(new byte[(int) kernel.groupBytes(cols)]), 0, cols, a,
                            null, null, 2, out, 32, 0));
            vnni.multiply(packed, 0, cols, a, null, null, 2, out, 32, 0); // in bounds: runs
        }
    }
}
