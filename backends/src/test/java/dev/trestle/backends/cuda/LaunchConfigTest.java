package dev.trestle.backends.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class LaunchConfigTest {

    @Test
    void gridsCoverEveryElementWithoutEmptyBlocks() {
        assertEquals(new LaunchConfig.Grid(1, 1, 1), LaunchConfig.elementwise(1));
        assertEquals(new LaunchConfig.Grid(1, 1, 1), LaunchConfig.elementwise(256));
        assertEquals(new LaunchConfig.Grid(2, 1, 1), LaunchConfig.elementwise(257));
        assertEquals(new LaunchConfig.Grid(1, 1, 1), LaunchConfig.elementwise(0));
        // 4096 rows of a matvec, 4 per block, 3 activation rows
        assertEquals(new LaunchConfig.Grid(1024, 3, 1), LaunchConfig.matvec(4096, 3));
        assertEquals(new LaunchConfig.Grid(1025, 1, 1), LaunchConfig.matvec(4099, 1));
        // qwen3 vocab head: 151936 rows
        assertEquals(37984, LaunchConfig.matvec(151936, 1).x());
        assertEquals(new LaunchConfig.Grid(16, 5, 1), LaunchConfig.perRow(4096, 5));
        // 4096 / 32 = 128 blocks of 32, 64 threads each
        assertEquals(new LaunchConfig.Grid(2, 7, 1), LaunchConfig.perQuantBlock(4096, 7));
        assertEquals(new LaunchConfig.Grid(8, 2, 1), LaunchConfig.attention(32, 2));
        assertEquals(new LaunchConfig.Grid(9, 2, 1), LaunchConfig.attention(33, 2));
        // 32 heads x 64 pairs = 2048 threads, 128 per block
        assertEquals(new LaunchConfig.Grid(16, 4, 1), LaunchConfig.rope(32, 128, 4));
    }

    @Test
    void activationQuantizerGridsFollowTheirBlockSizes() {
        assertEquals(new LaunchConfig.Grid(16, 1, 1), LaunchConfig.quantizeQ8_0(4096));
        assertEquals(new LaunchConfig.Grid(1, 1, 1), LaunchConfig.quantizeQ8_0(32));
        assertEquals(new LaunchConfig.Grid(16, 1, 1), LaunchConfig.quantizeQ8_K(4096));
        assertThrows(IllegalArgumentException.class, () -> LaunchConfig.quantizeQ8_0(48));
        assertThrows(IllegalArgumentException.class, () -> LaunchConfig.quantizeQ8_K(4096 + 32));
    }

    @Test
    void gemmTilesArePaddedAndBounded() {
        assertEquals(new LaunchConfig.Grid(64, 32, 1), LaunchConfig.gemm(4096, 512));
        assertEquals(new LaunchConfig.Grid(1, 1, 1), LaunchConfig.gemm(16, 16));
        assertThrows(IllegalArgumentException.class, () -> LaunchConfig.gemm(4096, 17));
        assertThrows(IllegalArgumentException.class, () -> LaunchConfig.gemm(40, 16));
        // 64 MiB of F16 rows of 4096: 8192 rows, capped by the matrix
        assertEquals(8192, LaunchConfig.gemmTileRows(151936, 4096, 64L << 20));
        assertEquals(1024, LaunchConfig.gemmTileRows(1024, 4096, 64L << 20));
        assertEquals(64, LaunchConfig.gemmTileRows(100_000, 1 << 20, 1L << 20));
        assertEquals(16, LaunchConfig.roundUp(1, 16));
        assertEquals(32, LaunchConfig.roundUp(17, 16));
    }

    @Test
    void rowBlocksAreWarpMultiples() {
        assertEquals(32, LaunchConfig.rowBlock(1));
        assertEquals(64, LaunchConfig.rowBlock(64));
        assertEquals(96, LaunchConfig.rowBlock(70));
        assertEquals(256, LaunchConfig.rowBlock(4096));
        assertThrows(IllegalArgumentException.class, () -> new LaunchConfig.Grid(1, 70000, 1));
    }
}
