// Stores rows of src (n elements each) into cache cells: cache row CELLS[t] = src row t, in the cache type
// (F32 or F16; F16 packs two elements per word and rows start word-aligned).
layout(local_size_x = 64) in;
layout(std430, binding = 0) buffer CB { uint C[]; };
layout(std430, binding = 1) readonly buffer SB { float S[]; };
layout(std430, binding = 2) readonly buffer IB { uint CELLS[]; };
layout(push_constant) uniform P { uint n; uint sOff; uint sStride; uint rowWords; } p;
void main() {
    uint t = gl_WorkGroupID.x;
    uint dst = CELLS[t] * p.rowWords;
    uint src = p.sOff + t * p.sStride;
#if defined(CTYPE_F32)
    for (uint i = gl_LocalInvocationID.x; i < p.n; i += 64u) { C[dst + i] = floatBitsToUint(S[src + i]); }
#else
    for (uint i = gl_LocalInvocationID.x; i < (p.n + 1u) / 2u; i += 64u) {
        float hi = 2u * i + 1u < p.n ? S[src + 2u * i + 1u] : 0.0;
        C[dst + i] = packHalf2x16(vec2(S[src + 2u * i], hi));
    }
#endif
}
