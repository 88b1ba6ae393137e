// Element-wise readers of every storage type: embedding rows (get_rows), F16 tiles of quantized weights for
// the tensor-core GEMM (prefill), and writers of KV cache rows in the cache types (set_rows).
#include "quant.cuh"

template <typename T> struct Elem {
    __device__ static float dq(const u8 *row, int i) { return Quant<T>::dq(row, i); }
};
template <> struct Elem<F32> {
    __device__ static float dq(const u8 *row, int i) { return F32::dq(row, i); }
};
template <> struct Elem<F16> {
    __device__ static float dq(const u8 *row, int i) { return F16::dq(row, i); }
};
template <> struct Elem<BF16> {
    __device__ static float dq(const u8 *row, int i) { return BF16::dq(row, i); }
};

// out[j * cols + i] = W row rowIds[j], element i.  grid (ceil(cols / 256), nRows), block 256.
#define GET_ROWS(name, T)                                                                                       \
    extern "C" __global__ void get_rows_##name(const u8 *W, long long rowBytes, const int *rowIds, float *out, \
                                               int cols) {                                                      \
        int i = blockIdx.x * blockDim.x + threadIdx.x;                                                          \
        if (i >= cols) {                                                                                        \
            return;                                                                                             \
        }                                                                                                       \
        int j = blockIdx.y;                                                                                     \
        out[(long long) j * cols + i] = Elem<T>::dq(W + (long long) rowIds[j] * rowBytes, i);                   \
    }

// out (rows x cols, F16) = rows [row0, row0 + rows) of W, dequantized.  grid (ceil(cols / 256), rows).
#define DEQUANT_F16(name, T)                                                                                    \
    extern "C" __global__ void dequant_f16_##name(const u8 *W, long long rowBytes, long long row0, u16 *out,  \
                                                  int cols) {                                                   \
        int i = blockIdx.x * blockDim.x + threadIdx.x;                                                          \
        if (i >= cols) {                                                                                        \
            return;                                                                                             \
        }                                                                                                       \
        long long r = blockIdx.y;                                                                               \
        out[r * cols + i] = f2h(Elem<T>::dq(W + (row0 + r) * rowBytes, i));                                     \
    }

#define ELEM_TYPES(X) TRESTLE_QUANT_TYPES(X) X(f32, F32) X(f16, F16) X(bf16, BF16)
ELEM_TYPES(GET_ROWS)
ELEM_TYPES(DEQUANT_F16)

// ---------------------------------------------------------------- KV cache writers
// Row j of x (n floats) goes to row cells[j] of dst, in the cache type, with the CPU's rounding
// (ggml's reference quantizers; Q8_0 rounds half to even as the x86 path).

extern "C" __global__ void set_rows_f32(const float *x, u8 *dst, long long dstRowBytes, const int *cells, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) {
        int j = blockIdx.y;
        reinterpret_cast<float *>(dst + (long long) cells[j] * dstRowBytes)[i] = x[(long long) j * n + i];
    }
}

extern "C" __global__ void set_rows_f16(const float *x, u8 *dst, long long dstRowBytes, const int *cells, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) {
        int j = blockIdx.y;
        reinterpret_cast<u16 *>(dst + (long long) cells[j] * dstRowBytes)[i] = f2h(x[(long long) j * n + i]);
    }
}

extern "C" __global__ void set_rows_bf16(const float *x, u8 *dst, long long dstRowBytes, const int *cells, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) {
        int j = blockIdx.y;
        reinterpret_cast<u16 *>(dst + (long long) cells[j] * dstRowBytes)[i] = f2bf(x[(long long) j * n + i]);
    }
}

__device__ __forceinline__ void st_f16(u8 *p, float v) {
    u16 h = f2h(v);
    p[0] = (u8) h;
    p[1] = (u8) (h >> 8);
}

// One thread per 32-element block: grid (ceil(n / 32 / 64), rows), block 64.
template <int KIND>
__device__ void quantize_block(const float *x, u8 *o) {
    if (KIND == 0) {            // Q8_0
        float amax = 0.0f;
        for (int j = 0; j < 32; j++) {
            amax = fmaxf(amax, fabsf(x[j]));
        }
        st_f16(o, amax / 127.0f);
        float id = amax != 0.0f ? 127.0f / amax : 0.0f;
        for (int j = 0; j < 32; j++) {
            o[2 + j] = (u8) (i8) __float2int_rn(x[j] * id);
        }
    } else if (KIND == 1 || KIND == 3) {   // Q4_0, Q5_0: d = signed max / -8 (-16)
        float amax = 0.0f, mx = 0.0f;
        for (int j = 0; j < 32; j++) {
            if (fabsf(x[j]) > amax) {
                amax = fabsf(x[j]);
                mx = x[j];
            }
        }
        float d = mx / (KIND == 1 ? -8.0f : -16.0f);
        float id = d != 0.0f ? 1.0f / d : 0.0f;
        st_f16(o, d);
        if (KIND == 1) {
            for (int j = 0; j < 16; j++) {
                int x0 = min(15, (int) (i8) (int) (x[j] * id + 8.5f));
                int x1 = min(15, (int) (i8) (int) (x[j + 16] * id + 8.5f));
                o[2 + j] = (u8) (x0 | (x1 << 4));
            }
        } else {
            u32 qh = 0;
            for (int j = 0; j < 16; j++) {
                int x0 = min(31, (int) (i8) (int) (x[j] * id + 16.5f));
                int x1 = min(31, (int) (i8) (int) (x[j + 16] * id + 16.5f));
                o[6 + j] = (u8) ((x0 & 15) | ((x1 & 15) << 4));
                qh |= ((u32) ((x0 & 0x10) >> 4)) << j;
                qh |= ((u32) ((x1 & 0x10) >> 4)) << (j + 16);
            }
            o[2] = (u8) qh;
            o[3] = (u8) (qh >> 8);
            o[4] = (u8) (qh >> 16);
            o[5] = (u8) (qh >> 24);
        }
    } else {                    // Q4_1 (2), Q5_1 (4): d = (max - min) / 15 (31), m = min
        float mn = INFINITY, mx = -INFINITY;
        for (int j = 0; j < 32; j++) {
            mn = fminf(mn, x[j]);
            mx = fmaxf(mx, x[j]);
        }
        float d = (mx - mn) / (KIND == 2 ? 15.0f : 31.0f);
        float id = d != 0.0f ? 1.0f / d : 0.0f;
        st_f16(o, d);
        st_f16(o + 2, mn);
        if (KIND == 2) {
            for (int j = 0; j < 16; j++) {
                int x0 = min(15, (int) (i8) (int) ((x[j] - mn) * id + 0.5f));
                int x1 = min(15, (int) (i8) (int) ((x[j + 16] - mn) * id + 0.5f));
                o[4 + j] = (u8) (x0 | (x1 << 4));
            }
        } else {
            u32 qh = 0;
            for (int j = 0; j < 16; j++) {
                int x0 = ((int) ((x[j] - mn) * id + 0.5f)) & 0xff;
                int x1 = ((int) ((x[j + 16] - mn) * id + 0.5f)) & 0xff;
                o[8 + j] = (u8) ((x0 & 15) | ((x1 & 15) << 4));
                qh |= ((u32) ((x0 & 0x10) >> 4)) << j;
                qh |= ((u32) ((x1 & 0x10) >> 4)) << (j + 16);
            }
            o[4] = (u8) qh;
            o[5] = (u8) (qh >> 8);
            o[6] = (u8) (qh >> 16);
            o[7] = (u8) (qh >> 24);
        }
    }
}

#define SET_ROWS_Q(name, KIND, BYTES)                                                                          \
    extern "C" __global__ void set_rows_##name(const float *x, u8 *dst, long long dstRowBytes,                 \
                                               const int *cells, int n) {                                       \
        int b = blockIdx.x * blockDim.x + threadIdx.x;                                                          \
        if (b < n / 32) {                                                                                       \
            int j = blockIdx.y;                                                                                 \
            quantize_block<KIND>(x + (long long) j * n + 32 * b,                                                \
                                 dst + (long long) cells[j] * dstRowBytes + (long long) b * BYTES);             \
        }                                                                                                       \
    }
SET_ROWS_Q(q8_0, 0, 34)
SET_ROWS_Q(q4_0, 1, 18)
SET_ROWS_Q(q4_1, 2, 20)
SET_ROWS_Q(q5_0, 3, 22)
SET_ROWS_Q(q5_1, 4, 24)
