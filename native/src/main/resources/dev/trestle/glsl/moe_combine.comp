// Weighted sum of the expert slots of each token, in slot order: out[t] = sum_j w[t k + j] * slots[t k + j].
layout(local_size_x = 64) in;
layout(std430, binding = 0) writeonly buffer OB { float O[]; };
layout(std430, binding = 1) readonly buffer SB { float S[]; };
layout(std430, binding = 2) readonly buffer WB { float WT[]; };
layout(push_constant) uniform P { uint n; uint k; uint nTok; uint gridX; } p;
void main() {
    uint gid = (gl_WorkGroupID.x + gl_WorkGroupID.y * p.gridX) * 64u + gl_LocalInvocationID.x;
    if (gid >= p.n * p.nTok) { return; }
    uint t = gid / p.n;
    uint i = gid % p.n;
    float s = 0.0;
    for (uint j = 0u; j < p.k; j++) { s += WT[t * p.k + j] * S[(t * p.k + j) * p.n + i]; }
    O[t * p.n + i] = s;
}
