// Decode matmul against activations already converted to the weight type's dot format (quantize.comp):
// out[t][row] = W[row] . x[t] for a tile of up to TILE tokens per workgroup. Quantized weights are unpacked 32
// elements at a time into signed bytes, dotted with the Q8 activations in integers, then scaled in float exactly
// as the CPU kernels scale a block (d_w * d_x, Q8_1's m * s, K-quants' sub-block scales and mins); only the
// float summation order differs from the CPU. F16/BF16 weights meet F16/BF16-rounded activations (products exact
// in F32). USE_DOT4 uses the integer dot product instruction, else 32-bit integer arithmetic (any device).
#if defined(USE_SUBGROUP)
#extension GL_KHR_shader_subgroup_arithmetic : require
#endif
#if defined(USE_DOT4)
#extension GL_EXT_integer_dot_product : require
#endif
layout(local_size_x = 32) in;
layout(std430, binding = 0) readonly buffer WB { uint W[]; };
layout(std430, binding = 1) readonly buffer XB { uint XQ[]; };
layout(std430, binding = 2) writeonly buffer OB { float O[]; };
layout(std430, binding = 3) readonly buffer RB { uint ROWS[]; };
layout(push_constant) uniform P {
    uint cols; uint rows; uint nTok; uint wBase;
    uint rowBytes; uint xRowWords; uint oOff; uint oStride;
    uint gridX; uint gathered; uint rowsBase;
} p;
#include "bytes.glsl"
#include "exact.glsl"
const uint TILE = 8u;
shared float red[TILE * 32u];

// dot of four signed bytes packed in a and b
int dot4(uint a, uint b) {
#if defined(USE_DOT4)
    return dotPacked4x8EXT(int(a), int(b));
#else
    int s = 0;
    for (int k = 0; k < 32; k += 8) {
        s += bitfieldExtract(int(a), k, 8) * bitfieldExtract(int(b), k, 8);
    }
    return s;
#endif
}

// bytes of v minus c (each byte of v at most 0x7f, c at most 0x80): signed results, no borrow across bytes
uint subBytes(uint v, uint c) {
    return ((v | 0x80808080u) - c) ^ 0x80808080u;
}

float halfAt(uint off) { return f16ToF32(u16(off)); }

// a lane takes 32 elements of a weight row at a time; converted activation words per 32 elements (Q8_0, Q8_1;
// Q8_K blocks of 81 words per 256 elements are addressed per block)
const uint UNIT = 32u;
#if defined(WTYPE_Q4_1) || defined(WTYPE_Q5_1)
const uint X_UNIT_WORDS = 10u;
#else
const uint X_UNIT_WORDS = 9u;
#endif

void main() {
    uint row = gl_WorkGroupID.x + gl_WorkGroupID.y * p.gridX;
    uint t0 = gl_WorkGroupID.z * TILE;
    uint tid = gl_LocalInvocationID.x;
    uint nt = min(TILE, p.nTok - t0);
    float acc[TILE];
    for (uint t = 0u; t < TILE; t++) { acc[t] = 0.0; }
    uint xBase[TILE];
    for (uint t = 0u; t < TILE; t++) {
        // gathered: slot s reads activation row ROWS[2s] and writes output row ROWS[2s+1]
        uint xr = t < nt ? (p.gathered != 0u ? ROWS[2u * (p.rowsBase + t0 + t)] : t0 + t) : 0u;
        xBase[t] = xr * p.xRowWords;
    }
    if (row < p.rows) {
        uint rowByte = p.wBase + row * p.rowBytes;
        uint nUnits = (p.cols + UNIT - 1u) / UNIT;
        for (uint u = tid; u < nUnits; u += 32u) {
#if defined(WTYPE_F16) || defined(WTYPE_BF16)
            float wv[32];
            for (uint i = 0u; i < 32u; i++) {
                uint e = u * 32u + i;
#if defined(WTYPE_F16)
                wv[i] = e < p.cols ? halfAt(rowByte + 2u * e) : 0.0;
#else
                wv[i] = e < p.cols ? uintBitsToFloat(u16(rowByte + 2u * e) << 16) : 0.0;
#endif
            }
            for (uint t = 0u; t < nt; t++) {
                uint xo = xBase[t] + u * 16u;
                float s = 0.0;
                for (uint k = 0u; k < 16u; k++) {
                    uint h = XQ[xo + k];
#if defined(WTYPE_F16)
                    s += wv[2u * k] * f16ToF32(h & 0xffffu) + wv[2u * k + 1u] * f16ToF32(h >> 16);
#else
                    s += wv[2u * k] * uintBitsToFloat(h << 16) + wv[2u * k + 1u] * uintBitsToFloat(h & 0xffff0000u);
#endif
                }
                acc[t] += s;
            }
#else
            uint wp[8];
#if defined(WTYPE_Q8_0)
            uint b = rowByte + u * 34u;
            float dw = halfAt(b);
            for (uint k = 0u; k < 8u; k++) { wp[k] = u32(b + 2u + 4u * k); }
#elif defined(WTYPE_Q4_0) || defined(WTYPE_Q4_1)
#if defined(WTYPE_Q4_0)
            uint b = rowByte + u * 18u;
            const uint QS = 2u;
#else
            uint b = rowByte + u * 20u;
            const uint QS = 4u;
            float mw = halfAt(b + 2u);
#endif
            float dw = halfAt(b);
            for (uint k = 0u; k < 4u; k++) {
                uint raw = u32(b + QS + 4u * k);
                wp[k] = raw & 0x0f0f0f0fu;
                wp[k + 4u] = (raw >> 4) & 0x0f0f0f0fu;
#if defined(WTYPE_Q4_0)
                wp[k] = subBytes(wp[k], 0x08080808u);
                wp[k + 4u] = subBytes(wp[k + 4u], 0x08080808u);
#endif
            }
#elif defined(WTYPE_Q5_0) || defined(WTYPE_Q5_1)
#if defined(WTYPE_Q5_0)
            uint b = rowByte + u * 22u;
            const uint QH = 2u;
#else
            uint b = rowByte + u * 24u;
            const uint QH = 4u;
            float mw = halfAt(b + 2u);
#endif
            float dw = halfAt(b);
            uint qh = u32(b + QH);
            for (uint k = 0u; k < 4u; k++) {
                uint raw = u32(b + QH + 4u + 4u * k);
                uint lo = (qh >> (4u * k)) & 0xfu;
                uint hi = (qh >> (16u + 4u * k)) & 0xfu;
                // element bit i of the 4 -> bit 4 of byte i
                uint loBits = ((lo & 1u) | ((lo & 2u) << 7) | ((lo & 4u) << 14) | ((lo & 8u) << 21)) << 4;
                uint hiBits = ((hi & 1u) | ((hi & 2u) << 7) | ((hi & 4u) << 14) | ((hi & 8u) << 21)) << 4;
                wp[k] = (raw & 0x0f0f0f0fu) | loBits;
                wp[k + 4u] = ((raw >> 4) & 0x0f0f0f0fu) | hiBits;
#if defined(WTYPE_Q5_0)
                wp[k] = subBytes(wp[k], 0x10101010u);
                wp[k + 4u] = subBytes(wp[k + 4u], 0x10101010u);
#endif
            }
#elif defined(WTYPE_Q4_K) || defined(WTYPE_Q5_K)
            uint j = u & 7u; // 32-element sub-block of the 256-element super-block
#if defined(WTYPE_Q4_K)
            uint b = rowByte + (u >> 3) * 144u;
            uint qs = b + 16u;
#else
            uint b = rowByte + (u >> 3) * 176u;
            uint qhb = b + 16u;
            uint qs = b + 48u;
#endif
            uint sc;
            uint mn;
            uint s = b + 4u;
            if (j < 4u) {
                sc = u8(s + j) & 63u;
                mn = u8(s + j + 4u) & 63u;
            } else {
                sc = (u8(s + j + 4u) & 0xfu) | ((u8(s + j - 4u) >> 6) << 4);
                mn = (u8(s + j + 4u) >> 4) | ((u8(s + j) >> 6) << 4);
            }
            uint shift = (j & 1u) * 4u;
            for (uint k = 0u; k < 8u; k++) {
                wp[k] = (u32(qs + (j >> 1) * 32u + 4u * k) >> shift) & 0x0f0f0f0fu;
#if defined(WTYPE_Q5_K)
                wp[k] |= ((u32(qhb + 4u * k) >> j) & 0x01010101u) << 4;
#endif
            }
#elif defined(WTYPE_Q6_K)
            uint b = rowByte + (u >> 3) * 210u;
            uint uu = u & 7u;
            uint h = uu >> 2;
            uint quarter = uu & 3u;
            uint ql = b + 64u * h + (quarter & 1u) * 32u;
            uint qhb = b + 128u + 32u * h;
            uint lsh = (quarter >> 1) * 4u;
            for (uint k = 0u; k < 8u; k++) {
                uint v = ((u32(ql + 4u * k) >> lsh) & 0x0f0f0f0fu) | (((u32(qhb + 4u * k) >> (2u * quarter)) & 0x03030303u) << 4);
                wp[k] = subBytes(v, 0x20202020u);
            }
            int sc0 = i8(b + 192u + 8u * h + 2u * quarter);
            int sc1 = i8(b + 192u + 8u * h + 2u * quarter + 1u);
            float dw = halfAt(b + 208u);
#endif
            for (uint t = 0u; t < nt; t++) {
#if defined(WTYPE_Q4_K) || defined(WTYPE_Q5_K) || defined(WTYPE_Q6_K)
                uint blockWord = xBase[t] + (u >> 3) * 81u;
                uint xo = blockWord + (u & 7u) * 8u;
                float dx = uintBitsToFloat(XQ[blockWord + 64u]);
#else
                uint xo = xBase[t] + u * X_UNIT_WORDS;
                float dx = uintBitsToFloat(XQ[xo + 8u]);
#endif
#if defined(WTYPE_Q6_K)
                int s0 = 0;
                int s1 = 0;
                for (uint k = 0u; k < 4u; k++) {
                    s0 += dot4(wp[k], XQ[xo + k]);
                    s1 += dot4(wp[k + 4u], XQ[xo + k + 4u]);
                }
                acc[t] += float(sc0 * s0 + sc1 * s1) * (dw * dx);
#else
                int isum = 0;
                for (uint k = 0u; k < 8u; k++) {
                    isum += dot4(wp[k], XQ[xo + k]);
                }
#if defined(WTYPE_Q4_K) || defined(WTYPE_Q5_K)
                int bs = int(XQ[blockWord + 65u + 2u * j]) + int(XQ[blockWord + 66u + 2u * j]);
                acc[t] += float(int(sc) * isum) * (halfAt(b) * dx) - (halfAt(b + 2u) * dx) * float(int(mn) * bs);
#elif defined(WTYPE_Q4_1) || defined(WTYPE_Q5_1)
                acc[t] += float(isum) * (dw * dx) + mw * uintBitsToFloat(XQ[xo + 9u]);
#else
                acc[t] += float(isum) * (dw * dx);
#endif
#endif
            }
#endif
        }
    }
#if defined(USE_SUBGROUP)
    for (uint t = 0u; t < TILE; t++) {
        float s = subgroupAdd(acc[t]);
        if (subgroupElect()) { red[t * 32u + gl_SubgroupID] = s; }
    }
    barrier();
    if (row < p.rows && tid < nt) {
        float s = 0.0;
        for (uint g = 0u; g < gl_NumSubgroups; g++) { s += red[tid * 32u + g]; }
        uint orow = p.gathered != 0u ? ROWS[2u * (p.rowsBase + t0 + tid) + 1u] : t0 + tid;
        O[p.oOff + orow * p.oStride + row] = s;
    }
#else
    for (uint t = 0u; t < TILE; t++) { red[t * 32u + tid] = acc[t]; }
    barrier();
    for (uint w = 16u; w > 0u; w >>= 1) {
        if (tid < w) {
            for (uint t = 0u; t < TILE; t++) { red[t * 32u + tid] += red[t * 32u + tid + w]; }
        }
        barrier();
    }
    if (row < p.rows && tid < nt) {
        uint orow = p.gathered != 0u ? ROWS[2u * (p.rowsBase + t0 + tid) + 1u] : t0 + tid;
        O[p.oOff + orow * p.oStride + row] = red[tid * 32u];
    }
#endif
}
