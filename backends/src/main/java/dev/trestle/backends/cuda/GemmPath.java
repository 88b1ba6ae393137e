package dev.trestle.backends.cuda;

/**
 * Which tensor-core GEMM multiplies a prefill batch's dequantized F16 weight tile: Trestle's own wmma kernel or
 * cuBLAS. Both take the same F16 tile and F16 activations and accumulate in F32, so the choice is about speed:
 * cuBLAS's tuned kernels pay off once the batch is wide enough to amortize its per-call overhead; below that, or
 * without the library, the own kernel runs.
 */
public enum GemmPath {
    /** {@code gemm_f16}: wmma 16x16x16 tiles. */
    WMMA,
    /** {@code cublasGemmEx} with {@code CUBLAS_COMPUTE_32F}. */
    CUBLAS;

    /** Activation rows from which cuBLAS takes over. */
    public static final int CUBLAS_MIN_TOKENS = 64;
    /** Weight elements (rows x cols) from which cuBLAS takes over; small matrices stay on the own kernel. */
    public static final long CUBLAS_MIN_WEIGHTS = 1L << 20;

    /** The path for {@code n} activation rows times a {@code rows x cols} weight. */
    public static GemmPath choose(int n, int rows, int cols, boolean cublasPresent) {
        return cublasPresent && n >= CUBLAS_MIN_TOKENS && (long) rows * cols >= CUBLAS_MIN_WEIGHTS ? CUBLAS : WMMA;
    }

    /** False with {@code -Dtrestle.cuda.cublas=false} or TRESTLE_CUDA_NO_CUBLAS set (to compare the two paths). */
    public static boolean cublasWanted() {
        String env = System.getenv("TRESTLE_CUDA_NO_CUBLAS");
        return !"false".equalsIgnoreCase(System.getProperty("trestle.cuda.cublas", "true"))
                && (env == null || env.isEmpty() || env.equals("0"));
    }
}
