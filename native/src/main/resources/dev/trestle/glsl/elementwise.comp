// Element-wise ops over rows: x op= y (ADD, MUL), x *= s (SCALE), x = cap * tanh(x / cap) (SOFTCAP),
// x = act(x) * y (SWIGLU, GEGLU with ggml's F16-rounded GELU). Row r of x starts at xOff + r * xStride.
layout(local_size_x = 64) in;
layout(std430, binding = 0) buffer XB { float X[]; };
layout(std430, binding = 1) readonly buffer YB { float Y[]; };
layout(push_constant) uniform P {
    uint n; uint rows; uint xOff; uint xStride; uint yOff; uint yStride; float s; uint gridX;
} p;
float half_round(float x) { return unpackHalf2x16(packHalf2x16(vec2(x, 0.0))).x; }
float gelu(float x) {
    if (x <= -10.0) { return 0.0; }
    if (x >= 10.0) { return x; }
    float h = half_round(x);
    return half_round(0.5 * h * (1.0 + tanh(0.79788456080286535587989211986876 * h * (1.0 + 0.044715 * h * h))));
}
void main() {
    uint gid = (gl_WorkGroupID.x + gl_WorkGroupID.y * p.gridX) * 64u + gl_LocalInvocationID.x;
    if (gid >= p.n * p.rows) { return; }
    uint r = gid / p.n;
    uint i = gid % p.n;
    uint xi = p.xOff + r * p.xStride + i;
    uint yi = p.yOff + r * p.yStride + i;
    float x = X[xi];
#if defined(OP_ADD)
    X[xi] = x + Y[yi];
#elif defined(OP_MUL)
    X[xi] = x * Y[yi];
#elif defined(OP_SCALE)
    X[xi] = x * p.s;
#elif defined(OP_SOFTCAP)
    X[xi] = p.s * tanh(x / p.s);
#elif defined(OP_SWIGLU)
    X[xi] = x / (1.0 + exp(-x)) * Y[yi];
#elif defined(OP_GEGLU)
    X[xi] = gelu(x) * Y[yi];
#elif defined(OP_COPY)
    X[xi] = Y[yi];
#else
#error "no OP_* defined"
#endif
}
