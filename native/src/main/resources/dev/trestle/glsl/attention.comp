// Attention of one (token, head) per workgroup over the device-resident cache: a cell is visible when it
// belongs to the token's sequence, is not in its future and (sliding window) within nSwa positions. Scores
// go to a scratch row, then a softmax and the weighted V sum. GQA: query head h reads kv head h / group.
layout(local_size_x = 64) in;
layout(std430, binding = 0) readonly buffer QB { float Q[]; };
layout(std430, binding = 1) readonly buffer KB { uint W[]; };
layout(std430, binding = 2) readonly buffer VB { uint V[]; };
layout(std430, binding = 3) readonly buffer MB { int META[]; };   // cellSeq[nCells], cellPos[nCells], tokSeq[nTok], tokPos[nTok]
layout(std430, binding = 4) buffer SB { float SC[]; };            // (nTok * nHead, nCells) scratch
layout(std430, binding = 5) writeonly buffer OB { float O[]; };
layout(push_constant) uniform P {
    uint nCells; uint nTok; uint nHead; uint group;
    uint headDim; uint kvRowWords; uint qStride; uint oStride;
    float scale; float softcap; int nSwa; uint tokBase;
} p;
#include "bytes.glsl"
shared float red[64];
float kAt(uint cell, uint kvh, uint d) {
#if defined(CTYPE_F32)
    return uintBitsToFloat(W[cell * p.kvRowWords + kvh * p.headDim + d]);
#else
    return f16(4u * (cell * p.kvRowWords) + 2u * (kvh * p.headDim + d));
#endif
}
float vAt(uint cell, uint kvh, uint d) {
#if defined(CTYPE_F32)
    return uintBitsToFloat(V[cell * p.kvRowWords + kvh * p.headDim + d]);
#else
    uint off = 2u * (kvh * p.headDim + d);
    uint w = V[cell * p.kvRowWords + (off >> 2)];
    return unpackHalf2x16((off & 2u) != 0u ? (w >> 16) : (w & 0xffffu)).x;
#endif
}
void main() {
    uint t = gl_WorkGroupID.x / p.nHead;
    uint h = gl_WorkGroupID.x % p.nHead;
    uint kvh = h / p.group;
    uint tid = gl_LocalInvocationID.x;
    int seq = META[2u * p.nCells + p.tokBase + t];
    int pos = META[2u * p.nCells + p.nTok + p.tokBase + t];
    uint q = (p.tokBase + t) * p.qStride + h * p.headDim;
    uint sc = gl_WorkGroupID.x * p.nCells;
    float mx = -1.0 / 0.0;
    for (uint c = tid; c < p.nCells; c += 64u) {
        int cp = META[p.nCells + c];
        bool vis = META[c] == seq && cp <= pos && (p.nSwa <= 0 || pos - cp < p.nSwa);
        float s = -1.0 / 0.0;
        if (vis) {
            s = 0.0;
            for (uint d = 0u; d < p.headDim; d++) { s += Q[q + d] * kAt(c, kvh, d); }
            s *= p.scale;
            if (p.softcap != 0.0) { s = p.softcap * tanh(s / p.softcap); }
            mx = max(mx, s);
        }
        SC[sc + c] = s;
    }
    red[tid] = mx;
    barrier();
    for (uint w = 32u; w > 0u; w >>= 1) {
        if (tid < w) { red[tid] = max(red[tid], red[tid + w]); }
        barrier();
    }
    float m = red[0];
    barrier();
    float sum = 0.0;
    for (uint c = tid; c < p.nCells; c += 64u) {
        float s = SC[sc + c];
        float e = s == -1.0 / 0.0 ? 0.0 : exp(s - m);
        SC[sc + c] = e;
        sum += e;
    }
    red[tid] = sum;
    barrier();
    for (uint w = 32u; w > 0u; w >>= 1) {
        if (tid < w) { red[tid] += red[tid + w]; }
        barrier();
    }
    float inv = 1.0 / red[0];
    memoryBarrierBuffer();
    barrier();
    for (uint d = tid; d < p.headDim; d += 64u) {
        float acc = 0.0;
        for (uint c = 0u; c < p.nCells; c++) {
            float e = SC[sc + c];
            if (e != 0.0) { acc += e * vAt(c, kvh, d); }
        }
        O[(p.tokBase + t) * p.oStride + h * p.headDim + d] = acc * inv;
    }
}
