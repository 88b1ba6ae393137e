// Shared device helpers for Trestle's CUDA kernels. No CUDA headers: fp16/bf16 go through PTX cvt and bit
// operations so the same sources also compile with NVRTC on a machine without the toolkit's headers.
#pragma once

typedef unsigned char u8;
typedef signed char i8;
typedef unsigned short u16;
typedef short i16;
typedef unsigned int u32;
typedef long long i64;

#define WARP 32

__device__ __forceinline__ float h2f(u16 h) {
    float f;
    asm("{ .reg .b16 t; mov.b16 t, %1; cvt.f32.f16 %0, t; }" : "=f"(f) : "h"(h));
    return f;
}

// Round to nearest even, as F16 conversion on the CPU (Float.floatToFloat16).
__device__ __forceinline__ u16 f2h(float f) {
    u16 h;
    asm("{ .reg .b16 t; cvt.rn.f16.f32 t, %1; mov.b16 %0, t; }" : "=h"(h) : "f"(f));
    return h;
}

__device__ __forceinline__ float bf2f(u16 b) {
    return __uint_as_float(((u32) b) << 16);
}

// Round to nearest even; NaN stays a quiet NaN (ggml_compute_fp32_to_bf16).
__device__ __forceinline__ u16 f2bf(float f) {
    u32 u = __float_as_uint(f);
    if ((u & 0x7fffffff) > 0x7f800000) {
        return (u16) ((u >> 16) | 64);
    }
    return (u16) ((u + (0x7fff + ((u >> 16) & 1))) >> 16);
}

__device__ __forceinline__ float round_half(float f) {
    return h2f(f2h(f));
}

__device__ __forceinline__ u16 ld_u16(const u8 *p) {
    return (u16) (p[0] | (p[1] << 8));
}

__device__ __forceinline__ u32 ld_u32(const u8 *p) {
    return (u32) p[0] | ((u32) p[1] << 8) | ((u32) p[2] << 16) | ((u32) p[3] << 24);
}

__device__ __forceinline__ float ld_f16(const u8 *p) {
    return h2f(ld_u16(p));
}

__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
    for (int o = WARP / 2; o > 0; o >>= 1) {
        v += __shfl_xor_sync(0xffffffff, v, o);
    }
    return v;
}

__device__ __forceinline__ float warp_max(float v) {
#pragma unroll
    for (int o = WARP / 2; o > 0; o >>= 1) {
        v = fmaxf(v, __shfl_xor_sync(0xffffffff, v, o));
    }
    return v;
}

// Sum over a block of up to 1024 threads (blockDim.x a multiple of 32); every thread gets the result.
__device__ __forceinline__ float block_sum(float v, float *scratch) {
    v = warp_sum(v);
    int lane = threadIdx.x % WARP;
    int w = threadIdx.x / WARP;
    __syncthreads();
    if (lane == 0) {
        scratch[w] = v;
    }
    __syncthreads();
    int nw = blockDim.x / WARP;
    v = lane < nw ? scratch[lane] : 0.0f;
    return warp_sum(v);
}

__device__ __forceinline__ float block_max(float v, float *scratch) {
    v = warp_max(v);
    int lane = threadIdx.x % WARP;
    int w = threadIdx.x / WARP;
    __syncthreads();
    if (lane == 0) {
        scratch[w] = v;
    }
    __syncthreads();
    int nw = blockDim.x / WARP;
    v = lane < nw ? scratch[lane] : -INFINITY;
    return warp_max(v);
}
