// Element-wise and per-row ops with the CPU backend's formulas: add/mul with row broadcast, scale, SiLU,
// GELU (ggml's F16-table variant), SwiGLU/GeGLU fused gate*up, soft-capping, softmax, top-k, RoPE.
#include "common.cuh"

#define EW_INDEX long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x; if (i >= n) return;

// out[i] = x[i] + y[i % yn]  (yn = n for same-shape, row length for a broadcast bias)
extern "C" __global__ void add_f32(const float *x, const float *y, float *out, long long n, long long yn) {
    EW_INDEX
    out[i] = x[i] + y[i % yn];
}

extern "C" __global__ void mul_f32(const float *x, const float *y, float *out, long long n, long long yn) {
    EW_INDEX
    out[i] = x[i] * y[i % yn];
}

extern "C" __global__ void scale_f32(const float *x, float *out, long long n, float s) {
    EW_INDEX
    out[i] = x[i] * s;
}

__device__ __forceinline__ float silu(float x) {
    return x / (1.0f + expf(-x));
}

#define SQRT_2_OVER_PI 0.79788456080286535587989211986876f
#define GELU_COEF_A 0.044715f

// ggml CPU GELU: clamp outside [-10, 10], else the tanh form on the F16-rounded input, rounded to F16.
__device__ __forceinline__ float gelu(float x) {
    if (x <= -10.0f) {
        return 0.0f;
    }
    if (x >= 10.0f) {
        return x;
    }
    float h = round_half(x);
    return round_half(0.5f * h * (1.0f + tanhf(SQRT_2_OVER_PI * h * (1.0f + GELU_COEF_A * h * h))));
}

extern "C" __global__ void silu_f32(const float *x, float *out, long long n) {
    EW_INDEX
    out[i] = silu(x[i]);
}

extern "C" __global__ void gelu_f32(const float *x, float *out, long long n) {
    EW_INDEX
    out[i] = gelu(x[i]);
}

// Gate and up are rows of `cols` with their own strides (they may be halves of one fused gate_up output).
extern "C" __global__ void swiglu_f32(const float *gate, const float *up, float *out, long long n, int cols,
                                      int gateStride, int upStride) {
    EW_INDEX
    long long r = i / cols, c = i % cols;
    out[i] = silu(gate[r * gateStride + c]) * up[r * upStride + c];
}

extern "C" __global__ void geglu_f32(const float *gate, const float *up, float *out, long long n, int cols,
                                     int gateStride, int upStride) {
    EW_INDEX
    long long r = i / cols, c = i % cols;
    out[i] = gelu(gate[r * gateStride + c]) * up[r * upStride + c];
}

extern "C" __global__ void softcap_f32(const float *x, float *out, long long n, float cap) {
    EW_INDEX
    out[i] = cap * tanhf(x[i] / cap);
}

// Row softmax in place, one block per row: exp(x - max), then times 1 / sum.
extern "C" __global__ void softmax_f32(float *x, int n) {
    __shared__ float scratch[32];
    float *row = x + (long long) blockIdx.x * n;
    float m = -INFINITY;
    for (int i = threadIdx.x; i < n; i += blockDim.x) {
        m = fmaxf(m, row[i]);
    }
    m = block_max(m, scratch);
    float sum = 0.0f;
    for (int i = threadIdx.x; i < n; i += blockDim.x) {
        float e = expf(row[i] - m);
        row[i] = e;
        sum += e;
    }
    float inv = 1.0f / block_sum(sum, scratch);
    for (int i = threadIdx.x; i < n; i += blockDim.x) {
        row[i] *= inv;
    }
}

// Indices of the k largest of each row, largest first, lower index first on ties (router top-k).
// One 32-thread block per row; n up to 1024 (expert counts).
extern "C" __global__ void top_k_f32(const float *x, int n, int k, int *idx) {
    __shared__ unsigned char taken[1024];
    const float *row = x + (long long) blockIdx.x * n;
    int *o = idx + (long long) blockIdx.x * k;
    for (int i = threadIdx.x; i < n; i += WARP) {
        taken[i] = 0;
    }
    __syncwarp();
    for (int j = 0; j < k; j++) {
        float best = -INFINITY;
        int bi = 0x7fffffff;
        for (int i = threadIdx.x; i < n; i += WARP) {
            float v = row[i];
            if (!taken[i] && (v > best || (v == best && i < bi) || bi == 0x7fffffff)) {
                best = v;
                bi = i;
            }
        }
        for (int off = WARP / 2; off > 0; off >>= 1) {
            float ob = __shfl_xor_sync(0xffffffff, best, off);
            int oi = __shfl_xor_sync(0xffffffff, bi, off);
            if (oi != 0x7fffffff && (bi == 0x7fffffff || ob > best || (ob == best && oi < bi))) {
                best = ob;
                bi = oi;
            }
        }
        if (threadIdx.x == 0) {
            o[j] = bi;
            taken[bi] = 1;
        }
        __syncwarp();
    }
}

// RoPE in place over rows of nHead heads (row stride `rowStride` floats), one thread per rotated pair.
// theta for pair p is pos * base^(-2p/nDims) built by repeated float multiplication as ggml does, then
// frequency factors, linear scaling and the YaRN ramp. grid (ceil(nHead * nDims/2 / 128), tokens).
__device__ float rope_corr_dim(int nDims, int nCtxOrig, float nRot, float base) {
    return nDims * (float) log((double) (nCtxOrig / (nRot * 2 * 3.14159265358979323846f)))
           / (2 * (float) log((double) base));
}

extern "C" __global__ void rope_f32(float *x, const int *pos, const float *freqFactors, int nHead, int headDim,
                                    int rowStride, int nDims, int neox, float freqBase, float freqScale,
                                    float extFactor, float attnFactor, float betaFast, float betaSlow,
                                    int nCtxOrig) {
    int half = nDims / 2;
    int k = blockIdx.x * blockDim.x + threadIdx.x;
    if (k >= nHead * half) {
        return;
    }
    int h = k / half, p = k % half;
    int t = blockIdx.y;
    float thetaScale = (float) pow((double) freqBase, (double) (-2.0f / nDims));
    float theta = (float) pos[t];
    for (int j = 0; j < p; j++) {
        theta *= thetaScale;
    }
    float ff = freqFactors != nullptr ? freqFactors[p] : 1.0f;
    float thetaExtrap = theta / ff;
    float thetaInterp = freqScale * thetaExtrap;
    float th = thetaInterp;
    float mscale = attnFactor;
    if (extFactor != 0.0f) {
        float low = fmaxf(0.0f, floorf(rope_corr_dim(nDims, nCtxOrig, betaFast, freqBase)));
        float high = fminf((float) (nDims - 1), ceilf(rope_corr_dim(nDims, nCtxOrig, betaSlow, freqBase)));
        float y = (p - low) / fmaxf(0.001f, high - low);
        float rampMix = (1.0f - fminf(1.0f, fmaxf(0.0f, y))) * extFactor;
        th = thetaInterp * (1 - rampMix) + thetaExtrap * rampMix;
        mscale *= 1.0f + 0.1f * (float) log((double) (1.0f / freqScale));
    }
    float c = (float) cos((double) th) * mscale;
    float s = (float) sin((double) th) * mscale;
    float *base = x + (long long) t * rowStride + (long long) h * headDim;
    int a = neox ? p : 2 * p;
    int b = neox ? p + half : 2 * p + 1;
    float x0 = base[a], x1 = base[b];
    base[a] = x0 * c - x1 * s;
    base[b] = x0 * s + x1 * c;
}

// Copies n floats (async D2D is used for plain copies; this one gathers rows: out[j] = x[rows[j]]).
extern "C" __global__ void gather_rows_f32(const float *x, const int *rows, float *out, int cols) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < cols) {
        out[(long long) blockIdx.y * cols + i] = x[(long long) rows[blockIdx.y] * cols + i];
    }
}

// MoE: out[t] = sum over slots s of weights[t, s] * y[t * nUsed + s]  (y rows of n floats), in slot order.
extern "C" __global__ void moe_combine_f32(const float *y, const float *weights, float *out, int n, int nUsed) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) {
        return;
    }
    long long t = blockIdx.y;
    float acc = 0.0f;
    for (int s = 0; s < nUsed; s++) {
        acc += weights[t * nUsed + s] * y[(t * nUsed + s) * n + i];
    }
    out[t * n + i] = acc;
}

// Router gate: out = 1 / (1 + exp(-x)).
extern "C" __global__ void sigmoid_f32(const float *x, float *out, long long n) {
    EW_INDEX
    out[i] = 1.0f / (1.0f + expf(-x[i]));
}

// Routing weights of each token's selected experts: the router probabilities, optionally normalized to sum 1
// (the sum floored at 2^-14, as llama.cpp's clamp) and scaled. One thread per token.
extern "C" __global__ void moe_weights_f32(const float *probs, const int *selected, float *weights, int nTokens,
                                           int nExp, int k, int normalize, float scale) {
    int t = blockIdx.x * blockDim.x + threadIdx.x;
    if (t >= nTokens) {
        return;
    }
    float sum = 0.0f;
    for (int j = 0; j < k; j++) {
        float w = probs[(long long) t * nExp + selected[t * k + j]];
        weights[t * k + j] = w;
        sum += w;
    }
    if (normalize) {
        sum = fmaxf(sum, 6.103515625e-5f);
        for (int j = 0; j < k; j++) {
            weights[t * k + j] /= sum;
        }
    }
    if (scale != 0.0f && scale != 1.0f) {
        for (int j = 0; j < k; j++) {
            weights[t * k + j] *= scale;
        }
    }
}

// Per-expert .scale of expert matmul outputs: row r (of `cols`) was computed by expert ids[r].
extern "C" __global__ void scale_by_expert_f32(float *x, const int *ids, const float *expertScale, int cols,
                                               long long n) {
    EW_INDEX
    x[i] *= expertScale[ids[i / cols]];
}

// Shared-expert gate (qwen2moe): shared[t] *= sigmoid(cur[t] . w). One block per token.
extern "C" __global__ void shexp_gate_f32(const float *cur, const float *w, float *shared, int n) {
    __shared__ float scratch[32];
    const float *x = cur + (long long) blockIdx.x * n;
    float *o = shared + (long long) blockIdx.x * n;
    float dot = 0.0f;
    for (int i = threadIdx.x; i < n; i += blockDim.x) {
        dot += x[i] * w[i];
    }
    dot = block_sum(dot, scratch);
    float g = 1.0f / (1.0f + expf(-dot));
    for (int i = threadIdx.x; i < n; i += blockDim.x) {
        o[i] *= g;
    }
}
