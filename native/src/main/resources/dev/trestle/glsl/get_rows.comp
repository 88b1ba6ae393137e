// out[t] = dequantized row ids[t] of W (embedding lookup).
layout(local_size_x = 32) in;
layout(std430, binding = 0) readonly buffer WB { uint W[]; };
layout(std430, binding = 1) readonly buffer IB { uint IDS[]; };
layout(std430, binding = 2) writeonly buffer OB { float O[]; };
layout(push_constant) uniform P { uint cols; uint rowBytes; uint oOff; uint oStride; } p;
#include "bytes.glsl"
#include "dequant.glsl"
void main() {
    uint t = gl_WorkGroupID.x;
    uint rowByte = IDS[t] * p.rowBytes;
    uint nChunks = (p.cols + 15u) / 16u;
    for (uint c = gl_LocalInvocationID.x; c < nChunks; c += 32u) {
        float v[16];
        dequant16(rowByte, c, p.cols, v);
        uint lim = min(16u, p.cols - c * 16u);
        for (uint i = 0u; i < lim; i++) { O[p.oOff + t * p.oStride + c * 16u + i] = v[i]; }
    }
}
