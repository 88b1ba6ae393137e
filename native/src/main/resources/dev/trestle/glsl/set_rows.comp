// Stores rows of src (n elements each) into cache cells: cache row CELLS[t] = src row t in the cache type,
// quantized as the CPU backend does (ggml's reference quantizers; Q8_0 rounds half to even like its x86 path).
// A row is assembled in shared memory (blocks are not word aligned) and then written as whole words.
layout(local_size_x = 64) in;
layout(std430, binding = 0) buffer CB { uint C[]; };
layout(std430, binding = 1) readonly buffer SB { float S[]; };
layout(std430, binding = 2) readonly buffer IB { uint CELLS[]; };
layout(push_constant) uniform P { uint n; uint sOff; uint sStride; uint rowWords; uint type; } p;
#include "cache_types.glsl"
const uint MAX_WORDS = 2048u;
shared uint row[MAX_WORDS];
void putByte(uint off, uint b) { atomicOr(row[off >> 2], (b & 0xffu) << ((off & 3u) * 8u)); }
void putHalf(uint off, float f) { uint h = packHalf2x16(vec2(f, 0.0)); putByte(off, h); putByte(off + 1u, h >> 8); }
void main() {
    uint t = gl_WorkGroupID.x;
    uint src = p.sOff + t * p.sStride;
    uint tid = gl_LocalInvocationID.x;
    for (uint i = tid; i < p.rowWords; i += 64u) { row[i] = 0u; }
    barrier();
    if (p.type == T_F32) {
        for (uint i = tid; i < p.n; i += 64u) { row[i] = floatBitsToUint(S[src + i]); }
    } else if (p.type == T_F16) {
        for (uint i = tid; i < p.n; i += 64u) { putHalf(2u * i, S[src + i]); }
    } else if (p.type == T_BF16) {
        for (uint i = tid; i < p.n; i += 64u) {
            uint u = floatBitsToUint(S[src + i]);
            uint b = (u & 0x7fffffffu) > 0x7f800000u ? ((u >> 16) | 64u) : ((u + (0x7fffu + ((u >> 16) & 1u))) >> 16);
            putByte(2u * i, b);
            putByte(2u * i + 1u, b >> 8);
        }
    } else {
        uint bb = blockBytes(p.type);
        for (uint blk = tid; blk < p.n / 32u; blk += 64u) {
            uint x = src + 32u * blk;
            uint o = blk * bb;
            if (p.type == T_Q8_0) {
                float amax = 0.0;
                for (uint j = 0u; j < 32u; j++) { amax = max(amax, abs(S[x + j])); }
                putHalf(o, amax / 127.0);
                float id = amax != 0.0 ? 127.0 / amax : 0.0;
                for (uint j = 0u; j < 32u; j++) { putByte(o + 2u + j, uint(int(roundEven(S[x + j] * id)))); }
            } else if (p.type == T_Q4_0 || p.type == T_Q5_0) {
                float amax = 0.0;
                float mx = 0.0;
                for (uint j = 0u; j < 32u; j++) {
                    float v = S[x + j];
                    if (amax < abs(v)) { amax = abs(v); mx = v; }
                }
                bool five = p.type == T_Q5_0;
                float d = mx / (five ? -16.0 : -8.0);
                float id = d != 0.0 ? 1.0 / d : 0.0;
                putHalf(o, d);
                float bias = five ? 16.5 : 8.5;
                uint top = five ? 31u : 15u;
                uint qh = 0u;
                uint qs = five ? o + 6u : o + 2u;
                for (uint j = 0u; j < 16u; j++) {
                    uint x0 = min(top, uint(int(S[x + j] * id + bias) & 0xff));
                    uint x1 = min(top, uint(int(S[x + j + 16u] * id + bias) & 0xff));
                    putByte(qs + j, (x0 & 0xfu) | ((x1 & 0xfu) << 4));
                    qh |= ((x0 >> 4) & 1u) << j;
                    qh |= ((x1 >> 4) & 1u) << (j + 16u);
                }
                if (five) { putByte(o + 2u, qh); putByte(o + 3u, qh >> 8); putByte(o + 4u, qh >> 16); putByte(o + 5u, qh >> 24); }
            } else {
                float mn = 3.402823466e38;
                float mx = -3.402823466e38;
                for (uint j = 0u; j < 32u; j++) { mn = min(mn, S[x + j]); mx = max(mx, S[x + j]); }
                bool five = p.type == T_Q5_1;
                float d = (mx - mn) / (five ? 31.0 : 15.0);
                float id = d != 0.0 ? 1.0 / d : 0.0;
                putHalf(o, d);
                putHalf(o + 2u, mn);
                uint qh = 0u;
                uint qs = five ? o + 8u : o + 4u;
                for (uint j = 0u; j < 16u; j++) {
                    uint x0 = uint(int((S[x + j] - mn) * id + 0.5) & 0xff);
                    uint x1 = uint(int((S[x + j + 16u] - mn) * id + 0.5) & 0xff);
                    if (!five) { x0 = min(15u, x0); x1 = min(15u, x1); }
                    putByte(qs + j, (x0 & 0xfu) | ((x1 & 0xfu) << 4));
                    qh |= ((x0 >> 4) & 1u) << j;
                    qh |= ((x1 >> 4) & 1u) << (j + 16u);
                }
                if (five) { putByte(o + 4u, qh); putByte(o + 5u, qh >> 8); putByte(o + 6u, qh >> 16); putByte(o + 7u, qh >> 24); }
            }
        }
    }
    barrier();
    uint dst = CELLS[t] * p.rowWords;
    for (uint i = tid; i < p.rowWords; i += 64u) { C[dst + i] = row[i]; }
}
