// In-place RMS norm of `rows` rows of n elements (row r at off + r * stride), times an optional weight.
layout(local_size_x = 64) in;
layout(std430, binding = 0) buffer XB { float X[]; };
layout(std430, binding = 1) readonly buffer GB { float G[]; };
layout(push_constant) uniform P { uint n; uint off; uint stride; float eps; uint hasWeight; uint gOff; } p;
shared float red[64];
void main() {
    uint base = p.off + gl_WorkGroupID.x * p.stride;
    uint tid = gl_LocalInvocationID.x;
    float s = 0.0;
    for (uint i = tid; i < p.n; i += 64u) { float v = X[base + i]; s += v * v; }
    red[tid] = s;
    barrier();
    for (uint w = 32u; w > 0u; w >>= 1) {
        if (tid < w) { red[tid] += red[tid + w]; }
        barrier();
    }
    float scale = inversesqrt(red[0] / float(p.n) + p.eps);
    for (uint i = tid; i < p.n; i += 64u) {
        float v = X[base + i] * scale;
        X[base + i] = p.hasWeight != 0u ? v * G[p.gOff + i] : v;
    }
}
