// Row norms, one thread block per row. The weight multiply is fused (w may be null), as ggml fuses
// rms_norm + mul on GPUs.
#include "common.cuh"

// out = x / sqrt(mean(x^2) + eps) * w.   grid (rows), block 256 (or fewer for short rows, a multiple of 32).
extern "C" __global__ void rms_norm(const float *x, const float *w, float *out, int n, float eps) {
    __shared__ float scratch[32];
    const float *xr = x + (long long) blockIdx.x * n;
    float *o = out + (long long) blockIdx.x * n;
    float sum = 0.0f;
    for (int i = threadIdx.x; i < n; i += blockDim.x) {
        sum += xr[i] * xr[i];
    }
    sum = block_sum(sum, scratch);
    float scale = rsqrtf(sum / n + eps);
    for (int i = threadIdx.x; i < n; i += blockDim.x) {
        float v = xr[i] * scale;
        o[i] = w != nullptr ? v * w[i] : v;
    }
}

// out = (x - mean) / sqrt(var + eps) * w + b.
extern "C" __global__ void layer_norm(const float *x, const float *w, const float *b, float *out, int n, float eps) {
    __shared__ float scratch[32];
    const float *xr = x + (long long) blockIdx.x * n;
    float *o = out + (long long) blockIdx.x * n;
    float sum = 0.0f;
    for (int i = threadIdx.x; i < n; i += blockDim.x) {
        sum += xr[i];
    }
    float mean = block_sum(sum, scratch) / n;
    float sum2 = 0.0f;
    for (int i = threadIdx.x; i < n; i += blockDim.x) {
        float v = xr[i] - mean;
        sum2 += v * v;
    }
    float scale = rsqrtf(block_sum(sum2, scratch) / n + eps);
    for (int i = threadIdx.x; i < n; i += blockDim.x) {
        float v = (xr[i] - mean) * scale;
        if (w != nullptr) {
            v *= w[i];
        }
        if (b != nullptr) {
            v += b[i];
        }
        o[i] = v;
    }
}
