// out[t][row] = W[row] . x[t] for a tile of up to TILE tokens per workgroup: each 16-element chunk of a weight
// row is dequantized once (straight from its blocks, never to a dequantized copy) and used for every token of
// the tile, so a decode step reads each weight byte once and a prefill reads it once per TILE tokens.
#if defined(USE_SUBGROUP)
#extension GL_KHR_shader_subgroup_arithmetic : require
#endif
layout(local_size_x = 32) in;
layout(std430, binding = 0) readonly buffer WB { uint W[]; };
layout(std430, binding = 1) readonly buffer XB { float X[]; };
layout(std430, binding = 2) writeonly buffer OB { float O[]; };
layout(std430, binding = 3) readonly buffer RB { uint ROWS[]; };
layout(push_constant) uniform P {
    uint cols; uint rows; uint nTok; uint wBase;
    uint rowBytes; uint xOff; uint xStride; uint oOff;
    uint oStride; uint gridX; uint gathered; uint rowsBase;
} p;
#include "bytes.glsl"
#include "dequant.glsl"
const uint TILE = 8u;
shared float red[TILE * 32u];
void main() {
    uint row = gl_WorkGroupID.x + gl_WorkGroupID.y * p.gridX;
    uint t0 = gl_WorkGroupID.z * TILE;
    uint tid = gl_LocalInvocationID.x;
    uint nt = min(TILE, p.nTok - t0);
    float acc[TILE];
    for (uint t = 0u; t < TILE; t++) { acc[t] = 0.0; }
    if (row < p.rows) {
        uint rowByte = p.wBase + row * p.rowBytes;
        uint nChunks = (p.cols + 15u) / 16u;
        for (uint c = tid; c < nChunks; c += 32u) {
            float v[16];
            dequant16(rowByte, c, p.cols, v);
            uint base = c * 16u;
            uint lim = min(16u, p.cols - base);
            for (uint t = 0u; t < nt; t++) {
                // gathered: slot s reads activation row ROWS[2s] and writes output row ROWS[2s+1]
                uint xr = p.gathered != 0u ? ROWS[2u * (p.rowsBase + t0 + t)] : t0 + t;
                uint xo = p.xOff + xr * p.xStride + base;
                float s = 0.0;
                for (uint i = 0u; i < lim; i++) { s += v[i] * X[xo + i]; }
                acc[t] += s;
            }
        }
    }
#if defined(USE_SUBGROUP)
    // devices with subgroup arithmetic: reduce inside each subgroup, then across the few subgroups
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
