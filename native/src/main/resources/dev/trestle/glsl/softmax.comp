// Softmax in place over `rows` rows of n elements (row r at off + r * stride).
layout(local_size_x = 64) in;
layout(std430, binding = 0) buffer XB { float X[]; };
layout(push_constant) uniform P { uint n; uint off; uint stride; } p;
shared float red[64];
void main() {
    uint base = p.off + gl_WorkGroupID.x * p.stride;
    uint tid = gl_LocalInvocationID.x;
    float m = -1.0 / 0.0;
    for (uint i = tid; i < p.n; i += 64u) { m = max(m, X[base + i]); }
    red[tid] = m;
    barrier();
    for (uint w = 32u; w > 0u; w >>= 1) {
        if (tid < w) { red[tid] = max(red[tid], red[tid + w]); }
        barrier();
    }
    float mx = red[0];
    barrier();
    float s = 0.0;
    for (uint i = tid; i < p.n; i += 64u) { float e = exp(X[base + i] - mx); X[base + i] = e; s += e; }
    red[tid] = s;
    barrier();
    for (uint w = 32u; w > 0u; w >>= 1) {
        if (tid < w) { red[tid] += red[tid + w]; }
        barrier();
    }
    float inv = 1.0 / red[0];
    for (uint i = tid; i < p.n; i += 64u) { X[base + i] *= inv; }
}
