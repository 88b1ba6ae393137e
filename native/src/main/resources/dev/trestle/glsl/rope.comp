// Rotary embedding in place, ggml's arithmetic: theta = pos * theta_scale^(i/2) by repeated multiplication,
// optional frequency factors, linear scaling and the YaRN ramp. One workgroup per (token, head).
layout(local_size_x = 32) in;
layout(std430, binding = 0) buffer XB { float X[]; };
layout(std430, binding = 1) readonly buffer PB { int POS[]; };
layout(std430, binding = 2) readonly buffer FB { float FF[]; };
layout(push_constant) uniform P {
    uint nDims; uint neox; uint headDim; uint nHead;
    uint off; uint rowStride; float thetaScale; float freqScale;
    float extFactor; float attnFactor; float corrLow; float corrHigh;
    uint hasFactors; float mscaleYarn;
} p;
void main() {
    uint t = gl_WorkGroupID.x / p.nHead;
    uint h = gl_WorkGroupID.x % p.nHead;
    uint base = p.off + t * p.rowStride + h * p.headDim;
    uint half_ = p.nDims / 2u;
    for (uint j = gl_LocalInvocationID.x; j < half_; j += 32u) {
        float theta = float(POS[t]);
        for (uint k = 0u; k < j; k++) { theta *= p.thetaScale; }
        float ff = p.hasFactors != 0u ? FF[j] : 1.0;
        float thetaExtrap = theta / ff;
        float thetaInterp = p.freqScale * thetaExtrap;
        float th = thetaInterp;
        float mscale = p.attnFactor;
        if (p.extFactor != 0.0) {
            float y = (float(j) - p.corrLow) / max(0.001, p.corrHigh - p.corrLow);
            float rampMix = (1.0 - min(1.0, max(0.0, y))) * p.extFactor;
            th = thetaInterp * (1.0 - rampMix) + thetaExtrap * rampMix;
            mscale *= p.mscaleYarn;
        }
        float c = cos(th) * mscale;
        float s = sin(th) * mscale;
        uint a = p.neox != 0u ? base + j : base + 2u * j;
        uint b = p.neox != 0u ? a + half_ : a + 1u;
        float x0 = X[a];
        float x1 = X[b];
        X[a] = x0 * c - x1 * s;
        X[b] = x0 * s + x1 * c;
    }
}
