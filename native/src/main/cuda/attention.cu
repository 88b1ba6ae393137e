// Attention of query rows over KV cache rows in any pair of cache types (F32, F16, BF16, Q8_0, Q4_0, Q4_1,
// Q5_0, Q5_1), with GQA and logit soft-capping. One warp per (query token, head); each lane owns headDim/32
// dimensions of Q and of the output accumulator.
//   flash: one pass with an online softmax (rescale on every new maximum), F32 accumulation.
//   plain: three passes (max, sum, weighted V) so weights are exact softmax values, rounded to F16 when V
//          is F16, as the CPU's mul_mat + soft_max + mul_mat path.
// Visible cells of token t are cells[offsets[t] .. offsets[t + 1]).
#include "quant.cuh"

#define MAX_HD_PER_LANE 8   // head size up to 256

// Cache types by GgmlType wire id; the type is a kernel argument (uniform branch), so every -ctk/-ctv pair
// is served by two kernels instead of 64 instantiations.
#define KV_F32 0
#define KV_F16 1
#define KV_Q4_0 2
#define KV_Q4_1 3
#define KV_Q5_0 6
#define KV_Q5_1 7
#define KV_Q8_0 8
#define KV_BF16 30

__device__ __forceinline__ long long kv_bytes(int type, long long n) {
    switch (type) {
        case KV_F32: return n * 4;
        case KV_F16: case KV_BF16: return n * 2;
        case KV_Q4_0: return n / 32 * 18;
        case KV_Q4_1: return n / 32 * 20;
        case KV_Q5_0: return n / 32 * 22;
        case KV_Q5_1: return n / 32 * 24;
        default: return n / 32 * 34;
    }
}

__device__ __forceinline__ float kv_dq(int type, const u8 *row, int i) {
    switch (type) {
        case KV_F32: return F32::dq(row, i);
        case KV_F16: return F16::dq(row, i);
        case KV_BF16: return BF16::dq(row, i);
        case KV_Q4_0: return Quant<Q4_0>::dq(row, i);
        case KV_Q4_1: return Quant<Q4_1>::dq(row, i);
        case KV_Q5_0: return Quant<Q5_0>::dq(row, i);
        case KV_Q5_1: return Quant<Q5_1>::dq(row, i);
        default: return Quant<Q8_0>::dq(row, i);
    }
}

__device__ __forceinline__ float score(int kType, const float *q, const u8 *krow, int hd, float scale, float cap) {
    int lane = threadIdx.x % WARP;
    float s = 0.0f;
#pragma unroll
    for (int j = 0; j < MAX_HD_PER_LANE; j++) {
        int d = lane + WARP * j;
        if (d < hd) {
            s += q[j] * kv_dq(kType, krow, d);
        }
    }
    s = warp_sum(s) * scale;
    if (cap != 0.0f) {
        s = cap * tanhf(s);
    }
    return s;
}

template <bool PLAIN>
__device__ void attend(int kType, int vType, const float *Q, int qStride, const u8 *K, long long kRowBytes, const u8 *V,
                       long long vRowBytes, const int *cells, const int *offsets, float *out, int outStride,
                       int nHead, int nHeadKv, int hd, float scale, float cap) {
    int head = blockIdx.x * (blockDim.x / WARP) + threadIdx.x / WARP;
    if (head >= nHead) {
        return;
    }
    int lane = threadIdx.x % WARP;
    int t = blockIdx.y;
    int kvHead = head / (nHead / nHeadKv);
    long long kOff = kv_bytes(kType, (long long) kvHead * hd);
    long long vOff = kv_bytes(vType, (long long) kvHead * hd);
    // soft-capping: tanh(s * scale / cap) * cap, with the scale folded in (flash path of ggml)
    float sc = cap != 0.0f && !PLAIN ? scale / cap : scale;
    float q[MAX_HD_PER_LANE];
    float acc[MAX_HD_PER_LANE];
#pragma unroll
    for (int j = 0; j < MAX_HD_PER_LANE; j++) {
        int d = lane + WARP * j;
        float v = d < hd ? Q[(long long) t * qStride + (long long) head * hd + d] : 0.0f;
        // Q meets K in K's dot format, as on the CPU: F16/BF16 rounding, or Q8_0 blocks for a quantized K
        if (kType == KV_F16) {
            v = round_half(v);
        } else if (kType == KV_BF16) {
            v = bf2f(f2bf(v));
        } else if (kType != KV_F32 && WARP * j < hd) {
            // block j = dims 32j .. 32j+31, one per lane (quantized caches have head sizes divisible by 32)
            float amax = warp_max(fabsf(v));
            float id = amax != 0.0f ? 127.0f / amax : 0.0f;
            v = __float2int_rn(v * id) * round_half(amax / 127.0f);
        }
        q[j] = v;
        acc[j] = 0.0f;
    }
    int c0 = offsets[t], c1 = offsets[t + 1];
    if (!PLAIN) {
        float m = -INFINITY, sum = 0.0f;
        for (int c = c0; c < c1; c++) {
            long long cell = cells[c];
            float s = score(kType, q, K + cell * kRowBytes + kOff, hd, sc, cap);
            float ms = 1.0f, vs = 1.0f;
            if (s > m) {
                ms = expf(m - s);
                m = s;
            } else {
                vs = expf(s - m);
            }
            const u8 *vrow = V + cell * vRowBytes + vOff;
#pragma unroll
            for (int j = 0; j < MAX_HD_PER_LANE; j++) {
                int d = lane + WARP * j;
                if (d < hd) {
                    acc[j] = acc[j] * ms + kv_dq(vType, vrow, d) * vs;
                }
            }
            sum = sum * ms + vs;
        }
        float inv = sum == 0.0f ? 0.0f : 1.0f / sum;
#pragma unroll
        for (int j = 0; j < MAX_HD_PER_LANE; j++) {
            int d = lane + WARP * j;
            if (d < hd) {
                out[(long long) t * outStride + (long long) head * hd + d] = acc[j] * inv;
            }
        }
    } else {
        // plain: capped scores are cap * tanh(s / cap) * scale, as separate ggml ops do
        float m = -INFINITY;
        for (int c = c0; c < c1; c++) {
            float s = score(kType, q, K + (long long) cells[c] * kRowBytes + kOff, hd, 1.0f, 0.0f);
            s = cap != 0.0f ? cap * tanhf(s / cap) * scale : s * scale;
            m = fmaxf(m, s);
        }
        float total = 0.0f;
        for (int c = c0; c < c1; c++) {
            float s = score(kType, q, K + (long long) cells[c] * kRowBytes + kOff, hd, 1.0f, 0.0f);
            s = cap != 0.0f ? cap * tanhf(s / cap) * scale : s * scale;
            total += expf(s - m);
        }
        float inv = 1.0f / total;
        for (int c = c0; c < c1; c++) {
            long long cell = cells[c];
            float s = score(kType, q, K + cell * kRowBytes + kOff, hd, 1.0f, 0.0f);
            s = cap != 0.0f ? cap * tanhf(s / cap) * scale : s * scale;
            float w = expf(s - m) * inv;
            if (vType == KV_F16) {
                w = round_half(w);
            }
            const u8 *vrow = V + cell * vRowBytes + vOff;
#pragma unroll
            for (int j = 0; j < MAX_HD_PER_LANE; j++) {
                int d = lane + WARP * j;
                if (d < hd) {
                    acc[j] += w * kv_dq(vType, vrow, d);
                }
            }
        }
#pragma unroll
        for (int j = 0; j < MAX_HD_PER_LANE; j++) {
            int d = lane + WARP * j;
            if (d < hd) {
                out[(long long) t * outStride + (long long) head * hd + d] = c1 > c0 ? acc[j] : 0.0f;
            }
        }
    }
}

#define ATTN_ARGS                                                                                              \
    int kType, int vType, const float *Q, int qStride, const u8 *K, long long kRowBytes, const u8 *V,          \
            long long vRowBytes, const int *cells, const int *offsets, float *out, int outStride, int nHead,   \
            int nHeadKv, int hd, float scale, float cap
#define ATTN_PASS kType, vType, Q, qStride, K, kRowBytes, V, vRowBytes, cells, offsets, out, outStride, nHead, \
            nHeadKv, hd, scale, cap

// grid (ceil(nHead / 4), tokens), block 128: one warp per (token, head).
extern "C" __global__ void __launch_bounds__(128) flash_attn_ext(ATTN_ARGS) {
    attend<false>(ATTN_PASS);
}

// The plain path serves float V caches only (a quantized V needs flash attention, as on the CPU).
extern "C" __global__ void __launch_bounds__(128) attn_plain(ATTN_ARGS) {
    attend<true>(ATTN_PASS);
}
