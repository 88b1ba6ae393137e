package dev.trestle.scheduler.plan;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.trestle.backends.type.GgmlType;
import org.junit.jupiter.api.Test;

class RowSlicesTest {
    @Test
    void sixtyFortyOnPlainAndQuantizedRows() {
        // 4096 F16 rows: 0.6 * 4096 = 2457.6 -> 77 granules of 32 = 2464
        assertArrayEquals(new int[] {0, 2464, 4096}, RowSlices.boundaries(4096, GgmlType.F16, new double[] {0.6, 0.4}));
        // Q4_K rows in granules of 256: 0.6 * 4096 / 256 = 9.6 -> 10 granules
        assertArrayEquals(new int[] {0, 2560, 4096}, RowSlices.boundaries(4096, GgmlType.Q4_K, new double[] {0.6, 0.4}));
        // Q8_0: granules of 32
        assertArrayEquals(new int[] {0, 2464, 4096}, RowSlices.boundaries(4096, GgmlType.Q8_0, new double[] {0.6, 0.4}));
        assertEquals(256, RowSlices.granule(GgmlType.Q6_K));
        assertEquals(32, RowSlices.granule(GgmlType.BF16));
    }

    @Test
    void smallMatricesMayLeaveAGpuWithoutRowsAndBoundariesNeverDecrease() {
        // 128 rows of Q4_K: 0.6 * 128 / 256 rounds to 0 granules, so the first GPU holds nothing
        assertArrayEquals(new long[] {0, 0, 128}, RowSlices.boundaries(128, 256, new double[] {0.6, 0.4}));
        // three GPUs, the middle one without a share
        assertArrayEquals(new long[] {0, 512, 512, 1024}, RowSlices.boundaries(1024, 32, new double[] {0.5, 0, 0.5}));
        // rows not a multiple of the granule: the last GPU takes the remainder
        assertArrayEquals(new long[] {0, 64, 100}, RowSlices.boundaries(100, 32, new double[] {0.6, 0.4}));
        // the bytes the planner budgets are the same cut
        assertArrayEquals(new long[] {64 * 10, 36 * 10}, slicesBytes(100, 10));
    }

    private static long[] slicesBytes(long rows, long rowBytes) {
        long[] b = RowSlices.boundaries(rows, 32, new double[] {0.6, 0.4});
        return new long[] {(b[1] - b[0]) * rowBytes, (b[2] - b[1]) * rowBytes};
    }
}
