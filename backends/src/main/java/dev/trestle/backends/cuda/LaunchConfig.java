package dev.trestle.backends.cuda;

/**
 * Grid shapes of Trestle's kernels, in one place so the arithmetic is unit-tested without a GPU. Each method
 * states the kernel's own contract from its .cu file.
 */
public final class LaunchConfig {
    /** A CUDA grid. */
    public record Grid(int x, int y, int z) {
        public Grid {
            if (x <= 0 || y <= 0 || z <= 0 || y > 65535 || z > 65535) {
                throw new IllegalArgumentException("grid " + x + "x" + y + "x" + z + " is out of CUDA's limits");
            }
        }
    }

    /** Threads per block of element-wise kernels. */
    public static final int EW_BLOCK = 256;
    /** Warps (= rows) per block of the matvec kernels (MMV_ROWS in matvec.cu). */
    public static final int MMV_ROWS = 4;
    /** Threads per block of the matvec kernels. */
    public static final int MMV_BLOCK = MMV_ROWS * 32;
    /** Heads per block of the attention kernels (one warp each). */
    public static final int ATTN_HEADS = 4;
    /** Token-batch size from which matmuls take the tensor-core GEMM path instead of matvec. */
    public static final int GEMM_MIN_TOKENS = 16;
    /** Threads of a Q8_0/Q8_1 activation-quantizer block (one warp per 32-element block). */
    public static final int Q8_BLOCK = 256;

    private LaunchConfig() {
    }

    /** ceil(n / d). */
    public static long ceilDiv(long n, long d) {
        return (n + d - 1) / d;
    }

    /** Rounds {@code n} up to a multiple of {@code m}. */
    public static int roundUp(int n, int m) {
        return (int) ceilDiv(n, m) * m;
    }

    /** One thread per element, {@link #EW_BLOCK} per block. */
    public static Grid elementwise(long n) {
        return new Grid(Math.toIntExact(Math.max(1, ceilDiv(n, EW_BLOCK))), 1, 1);
    }

    /** One thread per column of each of {@code rows} rows (get_rows, dequant_f16, set_rows float types). */
    public static Grid perRow(int cols, int rows) {
        return new Grid(Math.toIntExact(Math.max(1, ceilDiv(cols, EW_BLOCK))), rows, 1);
    }

    /** set_rows of a 32-element quantized type: one thread per block, 64 per thread block. */
    public static Grid perQuantBlock(int cols, int rows) {
        return new Grid(Math.toIntExact(Math.max(1, ceilDiv(cols / 32, 64))), rows, 1);
    }

    /** Matvec: {@link #MMV_ROWS} weight rows per block, one grid row per activation row (or expert pair). */
    public static Grid matvec(int rows, int activations) {
        return new Grid(Math.toIntExact(ceilDiv(rows, MMV_ROWS)), activations, 1);
    }

    /** quantize_q8_0: 8 blocks of 32 per 256-thread block over {@code n} contiguous elements. */
    public static Grid quantizeQ8_0(long n) {
        if (n % 32 != 0) {
            throw new IllegalArgumentException("Q8_0/Q8_1 activations need a multiple of 32 elements, got " + n);
        }
        return new Grid(Math.toIntExact(Math.max(1, ceilDiv(n / 32, Q8_BLOCK / 32))), 1, 1);
    }

    /** quantize_q8_k: one 256-thread block per 256 elements. */
    public static Grid quantizeQ8_K(long n) {
        if (n % 256 != 0) {
            throw new IllegalArgumentException("Q8_K activations need a multiple of 256 elements, got " + n);
        }
        return new Grid(Math.toIntExact(n / 256), 1, 1);
    }

    /** gemm_f16: 64 weight rows x 16 tokens per 128-thread block; both padded by the caller. */
    public static Grid gemm(int rows, int tokensPadded) {
        if (rows % 16 != 0 || tokensPadded % 16 != 0) {
            throw new IllegalArgumentException("gemm_f16 needs rows and tokens padded to 16: " + rows + ", " + tokensPadded);
        }
        return new Grid(Math.toIntExact(ceilDiv(rows, 64)), tokensPadded / 16, 1);
    }

    /** Attention: {@link #ATTN_HEADS} heads per block, one grid row per query token. */
    public static Grid attention(int nHead, int tokens) {
        return new Grid(Math.toIntExact(ceilDiv(nHead, ATTN_HEADS)), tokens, 1);
    }

    /** RoPE: one thread per rotated pair of every head, 128 per block, one grid row per token. */
    public static Grid rope(int nHead, int nDims, int tokens) {
        return new Grid(Math.toIntExact(Math.max(1, ceilDiv((long) nHead * (nDims / 2), 128))), tokens, 1);
    }

    /** Threads of a row-reduction block (rms_norm, softmax): a multiple of 32, at most 1024, no more than needed. */
    public static int rowBlock(int n) {
        return Math.min(1024, Math.max(32, roundUp(Math.min(n, 256), 32)));
    }

    /**
     * Weight rows per F16 dequantization tile of the GEMM path: a multiple of 64 whose tile stays within
     * {@code scratchBytes}, at least 64, and no more than the matrix has.
     */
    public static int gemmTileRows(int rows, int cols, long scratchBytes) {
        long fit = scratchBytes / (2L * cols);
        int tile = (int) Math.max(64, fit / 64 * 64);
        return Math.min(tile, roundUp(rows, 64));
    }
}
