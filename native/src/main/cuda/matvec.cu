// Decode path: activations quantized to the CPU backend's dot formats (Q8_0, Q8_1, Q8_K), then one warp per
// weight row reads the quantized blocks in place and dots them with the integer arithmetic of quant.cuh.
// The same kernels serve mul_mat_id (MoE): a row of `ids` picks the expert matrix per (token, slot).
#include "quant.cuh"

// ---------------------------------------------------------------- activation quantization

// Q8_0 (and Q8_1 when s != null) over contiguous rows: one warp per 32-element block, lane = element.
// d = f16(amax / 127), q = rint(x * 127 / amax) (round half to even, as the x86 CPU path), s = f16(d * sum q).
extern "C" __global__ void quantize_q8_0(const float *x, i8 *qs, float *d, float *s, long long nBlocks) {
    long long b = (long long) blockIdx.x * (blockDim.x / WARP) + threadIdx.x / WARP;
    if (b >= nBlocks) {
        return;
    }
    int lane = threadIdx.x % WARP;
    float v = x[b * 32 + lane];
    float amax = warp_max(fabsf(v));
    float dd = amax / 127.0f;
    float id = amax != 0.0f ? 127.0f / amax : 0.0f;
    int q = __float2int_rn(v * id);
    qs[b * 32 + lane] = (i8) q;
    if (lane == 0) {
        d[b] = round_half(dd);
    }
    if (s != nullptr) {
        float sum = warp_sum((float) q);
        if (lane == 0) {
            s[b] = round_half(dd * sum);
        }
    }
}

// Q8_K: one 256-thread block per 256-element block. The scale comes from the element of largest magnitude
// (first one on ties), d = 1 / (-127 / x_max), q = min(127, rint(-127 / x_max * x)), plus 16 partial sums.
extern "C" __global__ void quantize_q8_k(const float *x, i8 *qs, float *d, i16 *bsums) {
    __shared__ float sAbs[256];
    __shared__ int sIdx[256];
    __shared__ int sQ[256];
    long long b = blockIdx.x;
    int t = threadIdx.x;
    float v = x[b * 256 + t];
    sAbs[t] = fabsf(v);
    sIdx[t] = t;
    __syncthreads();
    for (int stride = 128; stride > 0; stride >>= 1) {
        if (t < stride) {
            float a0 = sAbs[t], a1 = sAbs[t + stride];
            int i0 = sIdx[t], i1 = sIdx[t + stride];
            if (a1 > a0 || (a1 == a0 && i1 < i0)) {
                sAbs[t] = a1;
                sIdx[t] = i1;
            }
        }
        __syncthreads();
    }
    float amax = sAbs[0];
    if (amax == 0.0f) {
        qs[b * 256 + t] = 0;
        if (t < 16) {
            bsums[b * 16 + t] = 0;
        }
        if (t == 0) {
            d[b] = 0.0f;
        }
        return;
    }
    float xmax = x[b * 256 + sIdx[0]];
    float iscale = -127.0f / xmax;
    int q = min(127, __float2int_rn(iscale * v));
    qs[b * 256 + t] = (i8) q;
    sQ[t] = q;
    __syncthreads();
    if (t < 16) {
        int sum = 0;
        for (int i = 0; i < 16; i++) {
            sum += sQ[16 * t + i];
        }
        bsums[b * 16 + t] = (i16) sum;
    }
    if (t == 0) {
        d[b] = 1.0f / iscale;
    }
}

// ---------------------------------------------------------------- quantized matvec

#define MMV_ROWS 4   // warps (= weight rows) per thread block

// out[p * outStride + r] = W[e] row r . act row a, for p = blockIdx.y; with ids, e = ids[p] and a = p / actDiv
// (actDiv = slots per token when the slots share the token's activations), else e = 0 and a = p.
template <typename T, int QKA>
__device__ void mmv_quant(const u8 *W, long long rowBytes, long long expertBytes, const i8 *aqs, const float *ad,
                          const float *as, const i16 *abs, float *out, int rows, int cols, int outStride,
                          const int *ids, int actDiv) {
    int r = blockIdx.x * MMV_ROWS + threadIdx.x / WARP;
    if (r >= rows) {
        return;
    }
    int p = blockIdx.y;
    int a = p;
    const u8 *w = W;
    if (ids != nullptr) {
        w += (long long) ids[p] * expertBytes;
        a = p / actDiv;
    }
    w += r * rowBytes;
    Act act;
    act.qs = aqs + (long long) a * cols;
    act.d = ad + (long long) a * (cols / QKA);
    act.s = as != nullptr ? as + (long long) a * (cols / QKA) : nullptr;
    act.bsums = abs != nullptr ? abs + (long long) a * (cols / 16) : nullptr;
    int nb = cols / T::QK;
    float sum = 0.0f;
    for (int b = threadIdx.x % WARP; b < nb; b += WARP) {
        sum += Quant<T>::dot(w + (long long) b * T::BYTES, act, b);
    }
    sum = warp_sum(sum);
    if (threadIdx.x % WARP == 0) {
        out[(long long) p * outStride + r] = sum;
    }
}

#define MMV_QUANT(name, T)                                                                                      \
    extern "C" __global__ void __launch_bounds__(MMV_ROWS * WARP) mmv_##name(                                  \
            const u8 *W, long long rowBytes, long long expertBytes, const i8 *aqs, const float *ad,             \
            const float *as, const i16 *abs, float *out, int rows, int cols, int outStride, const int *ids,     \
            int actDiv) {                                                                                       \
        mmv_quant<T, T::QK == 256 ? 256 : 32>(W, rowBytes, expertBytes, aqs, ad, as, abs, out, rows, cols,      \
                                              outStride, ids, actDiv);                                          \
    }
TRESTLE_QUANT_TYPES(MMV_QUANT)

// ---------------------------------------------------------------- float matvec
// F16 and BF16 weights dot activations rounded to the weight's type (the CPU's vec_dot_type), summed in F32.

template <typename T, int ROUND>
__device__ void mmv_float(const u8 *W, long long rowBytes, long long expertBytes, const float *x, float *out,
                          int rows, int cols, int outStride, const int *ids, int actDiv) {
    int r = blockIdx.x * MMV_ROWS + threadIdx.x / WARP;
    if (r >= rows) {
        return;
    }
    int p = blockIdx.y;
    int a = p;
    const u8 *w = W;
    if (ids != nullptr) {
        w += (long long) ids[p] * expertBytes;
        a = p / actDiv;
    }
    w += r * rowBytes;
    const float *xa = x + (long long) a * cols;
    float sum = 0.0f;
    for (int i = threadIdx.x % WARP; i < cols; i += WARP) {
        float v = xa[i];
        if (ROUND == 1) {
            v = round_half(v);
        } else if (ROUND == 2) {
            v = bf2f(f2bf(v));
        }
        sum += T::dq(w, i) * v;
    }
    sum = warp_sum(sum);
    if (threadIdx.x % WARP == 0) {
        out[(long long) p * outStride + r] = sum;
    }
}

#define MMV_FLOAT(name, T, ROUND)                                                                               \
    extern "C" __global__ void __launch_bounds__(MMV_ROWS * WARP) mmv_##name(                                  \
            const u8 *W, long long rowBytes, long long expertBytes, const float *x, float *out, int rows,       \
            int cols, int outStride, const int *ids, int actDiv) {                                              \
        mmv_float<T, ROUND>(W, rowBytes, expertBytes, x, out, rows, cols, outStride, ids, actDiv);             \
    }
MMV_FLOAT(f32, F32, 0)
MMV_FLOAT(f16, F16, 1)
MMV_FLOAT(bf16, BF16, 2)
