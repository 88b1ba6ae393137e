// GGML block formats as traits: element dequantization (get_rows, prefill tiles, KV reads) and the integer
// dot of one weight block with Q8_0/Q8_1/Q8_K activations, with the CPU backend's arithmetic: integer sums
// inside a block, then one float multiply by the scales (llama.cpp's vec_dot_*_q8_*).
#pragma once
#include "common.cuh"

__constant__ i8 KV_IQ4NL[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};
__constant__ i8 KV_MXFP4[16] = {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12};

// E8M0 exponent to float, halved (the MXFP4 table above holds doubled values).
__device__ __forceinline__ float e8m0_half(u8 x) {
    u32 bits = x < 2 ? (0x00200000u << x) : ((u32) (x - 1) << 23);
    return __uint_as_float(bits);
}

// Activations in a dot format: int8 quants, one float scale per block, and the per-block extra
// (Q8_1: s = d * sum(q) as float; Q8_K: 16 int16 partial sums per 256 block).
struct Act {
    const i8 *qs;
    const float *d;
    const float *s;
    const i16 *bsums;
};

// ---------------------------------------------------------------- 32-element blocks (Q8_0 / Q8_1 dots)

struct Q4_0 {
    static constexpr int QK = 32, BYTES = 18;
    static constexpr bool MIN = false;
    __device__ static float scale(const u8 *b) { return ld_f16(b); }
    __device__ static float minv(const u8 *) { return 0.0f; }
    __device__ static int q(const u8 *b, int i) {
        u8 v = b[2 + (i & 15)];
        return (i < 16 ? (v & 15) : (v >> 4)) - 8;
    }
};

struct Q4_1 {
    static constexpr int QK = 32, BYTES = 20;
    static constexpr bool MIN = true;
    __device__ static float scale(const u8 *b) { return ld_f16(b); }
    __device__ static float minv(const u8 *b) { return ld_f16(b + 2); }
    __device__ static int q(const u8 *b, int i) {
        u8 v = b[4 + (i & 15)];
        return i < 16 ? (v & 15) : (v >> 4);
    }
};

struct Q5_0 {
    static constexpr int QK = 32, BYTES = 22;
    static constexpr bool MIN = false;
    __device__ static float scale(const u8 *b) { return ld_f16(b); }
    __device__ static float minv(const u8 *) { return 0.0f; }
    __device__ static int q(const u8 *b, int i) {
        u32 qh = ld_u32(b + 2);
        u8 v = b[6 + (i & 15)];
        int lo = i < 16 ? (v & 15) : (v >> 4);
        return (lo | (((qh >> i) & 1) << 4)) - 16;
    }
};

struct Q5_1 {
    static constexpr int QK = 32, BYTES = 24;
    static constexpr bool MIN = true;
    __device__ static float scale(const u8 *b) { return ld_f16(b); }
    __device__ static float minv(const u8 *b) { return ld_f16(b + 2); }
    __device__ static int q(const u8 *b, int i) {
        u32 qh = ld_u32(b + 4);
        u8 v = b[8 + (i & 15)];
        int lo = i < 16 ? (v & 15) : (v >> 4);
        return lo | (((qh >> i) & 1) << 4);
    }
};

struct Q8_0 {
    static constexpr int QK = 32, BYTES = 34;
    static constexpr bool MIN = false;
    __device__ static float scale(const u8 *b) { return ld_f16(b); }
    __device__ static float minv(const u8 *) { return 0.0f; }
    __device__ static int q(const u8 *b, int i) { return (i8) b[2 + i]; }
};

struct IQ4_NL {
    static constexpr int QK = 32, BYTES = 18;
    static constexpr bool MIN = false;
    __device__ static float scale(const u8 *b) { return ld_f16(b); }
    __device__ static float minv(const u8 *) { return 0.0f; }
    __device__ static int q(const u8 *b, int i) {
        u8 v = b[2 + (i & 15)];
        return KV_IQ4NL[i < 16 ? (v & 15) : (v >> 4)];
    }
};

struct MXFP4 {
    static constexpr int QK = 32, BYTES = 17;
    static constexpr bool MIN = false;
    __device__ static float scale(const u8 *b) { return e8m0_half(b[0]); }
    __device__ static float minv(const u8 *) { return 0.0f; }
    __device__ static int q(const u8 *b, int i) {
        u8 v = b[1 + (i & 15)];
        return KV_MXFP4[i < 16 ? (v & 15) : (v >> 4)];
    }
};

template <typename T>
__device__ __forceinline__ float dq32(const u8 *b, int i) {
    return T::scale(b) * T::q(b, i) + T::minv(b);
}

// One 32-element weight block against activation block `ab` (Q8_0, or Q8_1 when T::MIN).
template <typename T>
__device__ __forceinline__ float dot32(const u8 *b, const Act &a, int ab) {
    const i8 *aq = a.qs + ab * 32;
    int sumi = 0;
#pragma unroll 8
    for (int i = 0; i < 32; i++) {
        sumi += T::q(b, i) * aq[i];
    }
    float r = (T::scale(b) * a.d[ab]) * sumi;
    if (T::MIN) {
        r += T::minv(b) * a.s[ab];
    }
    return r;
}

// ---------------------------------------------------------------- 256-element super-blocks (Q8_K dots)
// Each type gives its integer quant q(b, i), the integer scale and min of 16-element group g, and the
// float factors d and dmin; value = d * sc(g) * q - dmin * mn(g).

__device__ __forceinline__ int k4_scale(const u8 *s, int j) {
    return j < 4 ? (s[j] & 63) : ((s[j + 4] & 15) | ((s[j - 4] >> 6) << 4));
}

__device__ __forceinline__ int k4_min(const u8 *s, int j) {
    return j < 4 ? (s[j + 4] & 63) : ((s[j + 4] >> 4) | ((s[j] >> 6) << 4));
}

struct Q2_K {
    static constexpr int QK = 256, BYTES = 84;
    static constexpr bool MIN = true;
    __device__ static float d(const u8 *b) { return ld_f16(b + 80); }
    __device__ static float dmin(const u8 *b) { return ld_f16(b + 82); }
    __device__ static int q(const u8 *b, int i) {
        int n = i >> 7, j = (i & 127) >> 5, l = i & 31;
        return (b[16 + 32 * n + l] >> (2 * j)) & 3;
    }
    __device__ static int sc(const u8 *b, int g) { return b[g] & 15; }
    __device__ static int mn(const u8 *b, int g) { return b[g] >> 4; }
};

struct Q3_K {
    static constexpr int QK = 256, BYTES = 110;
    static constexpr bool MIN = false;
    __device__ static float d(const u8 *b) { return ld_f16(b + 108); }
    __device__ static float dmin(const u8 *) { return 0.0f; }
    __device__ static int q(const u8 *b, int i) {
        int h = i >> 7, j = (i & 127) >> 5, l = i & 31;
        int v = (b[32 + 32 * h + l] >> (2 * j)) & 3;
        return v - ((b[l] & (1 << (4 * h + j))) ? 0 : 4);
    }
    // 16 6-bit scales: low 4 bits in bytes 0..7 (nibbles), high 2 bits in bytes 8..11.
    __device__ static int sc(const u8 *b, int g) {
        const u8 *s = b + 96;
        int lo = g < 8 ? (s[g] & 15) : (s[g - 8] >> 4);
        int hi = (s[8 + (g & 3)] >> (2 * (g >> 2))) & 3;
        return (lo | (hi << 4)) - 32;
    }
    __device__ static int mn(const u8 *, int) { return 0; }
};

struct Q4_K {
    static constexpr int QK = 256, BYTES = 144;
    static constexpr bool MIN = true;
    __device__ static float d(const u8 *b) { return ld_f16(b); }
    __device__ static float dmin(const u8 *b) { return ld_f16(b + 2); }
    __device__ static int q(const u8 *b, int i) {
        int j = i >> 6, r = i & 63;
        u8 v = b[16 + 32 * j + (r & 31)];
        return r < 32 ? (v & 15) : (v >> 4);
    }
    __device__ static int sc(const u8 *b, int g) { return k4_scale(b + 4, g >> 1); }
    __device__ static int mn(const u8 *b, int g) { return k4_min(b + 4, g >> 1); }
};

struct Q5_K {
    static constexpr int QK = 256, BYTES = 176;
    static constexpr bool MIN = true;
    __device__ static float d(const u8 *b) { return ld_f16(b); }
    __device__ static float dmin(const u8 *b) { return ld_f16(b + 2); }
    __device__ static int q(const u8 *b, int i) {
        int j = i >> 6, r = i & 63, l = r & 31;
        u8 v = b[48 + 32 * j + l];
        int lo = r < 32 ? (v & 15) : (v >> 4);
        int hi = (b[16 + l] >> (2 * j + (r >> 5))) & 1;
        return lo | (hi << 4);
    }
    __device__ static int sc(const u8 *b, int g) { return k4_scale(b + 4, g >> 1); }
    __device__ static int mn(const u8 *b, int g) { return k4_min(b + 4, g >> 1); }
};

struct Q6_K {
    static constexpr int QK = 256, BYTES = 210;
    static constexpr bool MIN = false;
    __device__ static float d(const u8 *b) { return ld_f16(b + 208); }
    __device__ static float dmin(const u8 *) { return 0.0f; }
    __device__ static int q(const u8 *b, int i) {
        int n = i >> 7, quarter = (i & 127) >> 5, l = i & 31;
        u8 lb = b[64 * n + 32 * (quarter & 1) + l];
        int lo = quarter < 2 ? (lb & 15) : (lb >> 4);
        int hi = (b[128 + 32 * n + l] >> (2 * quarter)) & 3;
        return (lo | (hi << 4)) - 32;
    }
    // group g = 16 elements: half n, quarter, l/16 -> scale index 8n + l/16 + 2*quarter
    __device__ static int sc(const u8 *b, int g) {
        int n = g >> 3, quarter = (g & 7) >> 1, half16 = g & 1;
        return (i8) b[192 + 8 * n + half16 + 2 * quarter];
    }
    __device__ static int mn(const u8 *, int) { return 0; }
};

struct IQ4_XS {
    static constexpr int QK = 256, BYTES = 136;
    static constexpr bool MIN = false;
    __device__ static float d(const u8 *b) { return ld_f16(b); }
    __device__ static float dmin(const u8 *) { return 0.0f; }
    __device__ static int q(const u8 *b, int i) {
        int ib = i >> 5, j = i & 31;
        u8 v = b[8 + 16 * ib + (j & 15)];
        return KV_IQ4NL[j < 16 ? (v & 15) : (v >> 4)];
    }
    __device__ static int sc(const u8 *b, int g) {
        int ib = g >> 1;
        int lo = (b[4 + ib / 2] >> (4 * (ib & 1))) & 15;
        int hi = (ld_u16(b + 2) >> (2 * ib)) & 3;
        return (lo | (hi << 4)) - 32;
    }
    __device__ static int mn(const u8 *, int) { return 0; }
};

template <typename T>
__device__ __forceinline__ float dqk(const u8 *b, int i) {
    int g = i >> 4;
    return T::d(b) * T::sc(b, g) * T::q(b, i) - T::dmin(b) * T::mn(b, g);
}

// One super-block against Q8_K activation block `ab`: d*dy*sum(sc*sum(q*a)) - dmin*dy*sum(mn*bsum).
template <typename T>
__device__ __forceinline__ float dotk(const u8 *b, const Act &a, int ab) {
    const i8 *aq = a.qs + ab * 256;
    const i16 *bs = a.bsums + ab * 16;
    int sumi = 0;
    int summ = 0;
    for (int g = 0; g < 16; g++) {
        int s = 0;
#pragma unroll
        for (int l = 0; l < 16; l++) {
            s += T::q(b, 16 * g + l) * aq[16 * g + l];
        }
        sumi += T::sc(b, g) * s;
        if (T::MIN) {
            summ += T::mn(b, g) * bs[g];
        }
    }
    float dy = a.d[ab];
    float r = T::d(b) * dy * sumi;
    if (T::MIN) {
        r -= T::dmin(b) * dy * summ;
    }
    return r;
}

// Uniform entry points over both families.
template <typename T, bool K = (T::QK == 256)> struct Quant;

template <typename T> struct Quant<T, false> {
    __device__ static float dq(const u8 *row, int i) { return dq32<T>(row + (i >> 5) * T::BYTES, i & 31); }
    __device__ static float dot(const u8 *blk, const Act &a, int ab) { return dot32<T>(blk, a, ab); }
};

template <typename T> struct Quant<T, true> {
    __device__ static float dq(const u8 *row, int i) { return dqk<T>(row + (i >> 8) * T::BYTES, i & 255); }
    __device__ static float dot(const u8 *blk, const Act &a, int ab) { return dotk<T>(blk, a, ab); }
};

// Float storage types as element readers (get_rows, KV reads, dequantized tiles).
struct F32 {
    static constexpr int QK = 1, BYTES = 4;
    __device__ static float dq(const u8 *row, int i) { return reinterpret_cast<const float *>(row)[i]; }
};
struct F16 {
    static constexpr int QK = 1, BYTES = 2;
    __device__ static float dq(const u8 *row, int i) { return h2f(reinterpret_cast<const u16 *>(row)[i]); }
};
struct BF16 {
    static constexpr int QK = 1, BYTES = 2;
    __device__ static float dq(const u8 *row, int i) { return bf2f(reinterpret_cast<const u16 *>(row)[i]); }
};

// The list every per-type kernel is instantiated for: X(name, type).
#define TRESTLE_QUANT_TYPES(X) \
    X(q4_0, Q4_0) X(q4_1, Q4_1) X(q5_0, Q5_0) X(q5_1, Q5_1) X(q8_0, Q8_0) X(iq4_nl, IQ4_NL) X(mxfp4, MXFP4) \
    X(q2_k, Q2_K) X(q3_k, Q3_K) X(q4_k, Q4_K) X(q5_k, Q5_K) X(q6_k, Q6_K) X(iq4_xs, IQ4_XS)
