package dev.trestle.backends.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.trestle.backends.type.GgmlType;
import java.lang.foreign.Arena;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** {@link CpuMatrix#matmulAll}: one dispatch over several matrices gives each exactly its own matmul's output. */
class MatmulAllTest {
    private static CpuMatrix matrix(GgmlType t, int rows, int cols, Random rnd, Arena arena) {
        return new CpuMatrix("w" + rows, t, KernelTest.randomRows(t, rows, cols, rnd, arena), new long[] {cols, rows});
    }

    private static void check(CpuThreadPool pool, Random rnd, int tokens, CpuMatrix m0, CpuMatrix m1, CpuMatrix m2) {
        int cols = m0.cols();
        float[] x = new float[tokens * cols];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) rnd.nextGaussian();
        }
        ActivationRows a = new ActivationRows(m0.dotType(), tokens, cols);
        a.load(x, 0, cols, tokens, cols);
        CpuMatrix[] ms = m2 == null ? new CpuMatrix[] {m0, m1} : new CpuMatrix[] {m0, m1, m2};
        float[][] fused = new float[3][];
        float[][] single = new float[3][];
        MatmulJob job = new MatmulJob(pool);
        for (int i = 0; i < ms.length; i++) {
            fused[i] = new float[tokens * ms[i].rows()];
            single[i] = new float[tokens * ms[i].rows()];
            ms[i].matmul(job, a, tokens, single[i], ms[i].rows(), 0);
        }
        CpuMatrix.matmulAll(job, a, tokens, m0, fused[0], m1, fused[1], m2, fused[2]);
        for (int i = 0; i < ms.length; i++) {
            assertArrayEquals(single[i], fused[i], 0f, "matrix " + i + " (" + ms[i].type() + " x " + ms[i].rows()
                    + " rows), " + tokens + " tokens, " + pool.threads() + " threads");
        }
    }

    @Test
    void fusedDispatchEqualsSeparateMatmulsBitForBit() {
        Random rnd = new Random(17);
        try (Arena arena = Arena.ofShared()) {
            for (int threads : new int[] {1, 2, 3}) {
                try (CpuThreadPool pool = new CpuThreadPool(threads)) {
                    for (int tokens : new int[] {1, 3, 37}) {
                        // q/k/v shaped: one tall matrix, two short ones with odd row counts, mixed types that share
                        // the Q8_0 activation format
                        check(pool, rnd, tokens, matrix(GgmlType.Q4_0, 97, 128, rnd, arena),
                                matrix(GgmlType.Q8_0, 33, 128, rnd, arena), matrix(GgmlType.Q4_0, 5, 128, rnd, arena));
                        // Q4_K_M's mix: Q4_K with a Q6_K neighbour (both Q8_K activations), a gate/up pair
                        check(pool, rnd, tokens, matrix(GgmlType.Q4_K, 70, 256, rnd, arena),
                                matrix(GgmlType.Q6_K, 64, 256, rnd, arena), null);
                        // fewer rows than one alignment unit: runs on the caller
                        check(pool, rnd, tokens, matrix(GgmlType.F16, 3, 64, rnd, arena),
                                matrix(GgmlType.F16, 2, 64, rnd, arena), matrix(GgmlType.F16, 1, 64, rnd, arena));
                    }
                }
            }
        }
    }

    @Test
    void rejectsMatricesThatTakeOtherActivations() {
        Random rnd = new Random(5);
        try (Arena arena = Arena.ofShared(); CpuThreadPool pool = new CpuThreadPool(2)) {
            CpuMatrix q4 = matrix(GgmlType.Q4_0, 8, 256, rnd, arena);
            CpuMatrix q4k = matrix(GgmlType.Q4_K, 8, 256, rnd, arena);
            ActivationRows a = new ActivationRows(q4.dotType(), 1, 256);
            a.load(new float[256], 0, 256, 1, 256);
            assertThrows(IllegalArgumentException.class, () -> CpuMatrix.matmulAll(new MatmulJob(pool), a, 1,
                    q4, new float[8], q4k, new float[8], null, null));
        }
    }
}
