// Prefill path: C = X . W^T on tensor cores (wmma 16x16x16, F16 inputs, F32 accumulation). W is a tile of
// weight rows already dequantized to F16 by dequant_f16_*; X is the activation batch converted to F16.
// Each warp owns one 16x16 output tile; a block of 4 warps covers 64 weight rows. Shapes are padded by the
// caller: tokens and rows to 16, K to 16.
#include <mma.h>
#include "common.cuh"

using namespace nvcuda;

extern "C" __global__ void convert_f32_f16(const float *x, u16 *out, long long n) {
    long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) {
        out[i] = f2h(x[i]);
    }
}

// X: tokens x K (row-major, F16), W: rows x K (row-major, F16) = K x rows column-major.
// C[t * ldc + r] (F32). grid (rows / 64, tokens / 16), block 128.
extern "C" __global__ void __launch_bounds__(128) gemm_f16(const u16 *X, const u16 *W, float *C, int K, int rows,
                                                           int ldc) {
    int warp = threadIdx.x / WARP;
    int r0 = (blockIdx.x * 4 + warp) * 16;
    int t0 = blockIdx.y * 16;
    if (r0 >= rows) {
        return;
    }
    wmma::fragment<wmma::matrix_a, 16, 16, 16, __half, wmma::row_major> a;
    wmma::fragment<wmma::matrix_b, 16, 16, 16, __half, wmma::col_major> b;
    wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc;
    wmma::fill_fragment(acc, 0.0f);
    const __half *xa = reinterpret_cast<const __half *>(X) + (long long) t0 * K;
    const __half *wb = reinterpret_cast<const __half *>(W) + (long long) r0 * K;
    for (int k = 0; k < K; k += 16) {
        wmma::load_matrix_sync(a, xa + k, K);
        wmma::load_matrix_sync(b, wb + k, K);
        wmma::mma_sync(acc, a, b, acc);
    }
    wmma::store_matrix_sync(C + (long long) t0 * ldc + r0, acc, ldc, wmma::mem_row_major);
}
