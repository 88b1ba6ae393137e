// Attention of one (token, head) per workgroup over the device-resident cache: a cell is visible when it
// belongs to the token's sequence, is not in its future and (sliding window) within nSwa positions. Scores
// go to a scratch row, then a softmax and the weighted V sum. GQA: query head h reads kv head h / group.
// K and V may have different cache types (F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1).
layout(local_size_x = 64) in;
layout(std430, binding = 0) readonly buffer QB { float Q[]; };
layout(std430, binding = 1) readonly buffer KB { uint K[]; };
layout(std430, binding = 2) readonly buffer VB { uint V[]; };
layout(std430, binding = 3) readonly buffer MB { int META[]; };   // cellSeq[nCells], cellPos[nCells], tokSeq[nTok], tokPos[nTok]
layout(std430, binding = 4) buffer SB { float SC[]; };            // (chunk * nHead, nCells) scratch
layout(std430, binding = 5) writeonly buffer OB { float O[]; };
layout(push_constant) uniform P {
    uint nCells; uint nTok; uint nHead; uint group;
    uint headDim; uint kRowWords; uint vRowWords; uint qStride;
    float scale; float softcap; int nSwa; uint tokBase;
    uint kType; uint vType;
} p;
#include "cache_types.glsl"
#include "exact.glsl"
uint word(bool v, uint i) { return v ? V[i] : K[i]; }
uint b8(bool v, uint off) { return (word(v, off >> 2) >> ((off & 3u) * 8u)) & 0xffu; }
uint b16(bool v, uint off) { return b8(v, off) | (b8(v, off + 1u) << 8); }
float h16(bool v, uint off) { return unpackHalf2x16(b16(v, off)).x; }
// element idx of the row starting at byte rowByte
float elem(bool v, uint t, uint rowByte, uint idx) {
    if (t == T_F32) { return uintBitsToFloat(word(v, (rowByte >> 2) + idx)); }
    if (t == T_F16) { return h16(v, rowByte + 2u * idx); }
    if (t == T_BF16) { return uintBitsToFloat(b16(v, rowByte + 2u * idx) << 16); }
    uint b = rowByte + (idx >> 5) * blockBytes(t);
    uint j = idx & 31u;
    float d = h16(v, b);
    if (t == T_Q8_0) { return d * float(int(b8(v, b + 2u + j) << 24) >> 24); }
    uint sh = (j >> 4) * 4u;
    if (t == T_Q4_0) { return d * (float((b8(v, b + 2u + (j & 15u)) >> sh) & 0xfu) - 8.0); }
    if (t == T_Q4_1) { return d * float((b8(v, b + 4u + (j & 15u)) >> sh) & 0xfu) + h16(v, b + 2u); }
    uint qhOff = t == T_Q5_0 ? 2u : 4u;
    uint qh = b16(v, b + qhOff) | (b16(v, b + qhOff + 2u) << 16);
    uint q = ((b8(v, b + qhOff + 4u + (j & 15u)) >> sh) & 0xfu) | (((qh >> j) & 1u) << 4);
    if (t == T_Q5_0) { return d * (float(q) - 16.0); }
    return d * float(q) + h16(v, b + 2u);
}
uint headByte(uint t, uint kvh) {
    uint first = kvh * p.headDim;
    return t == T_F32 ? 4u * first : (t == T_F16 || t == T_BF16) ? 2u * first : (first >> 5) * blockBytes(t);
}
shared float red[64];
void main() {
    uint t = gl_WorkGroupID.x / p.nHead;
    uint h = gl_WorkGroupID.x % p.nHead;
    uint kvh = h / p.group;
    uint tid = gl_LocalInvocationID.x;
    int seq = META[2u * p.nCells + p.tokBase + t];
    int pos = META[2u * p.nCells + p.nTok + p.tokBase + t];
    uint q = (p.tokBase + t) * p.qStride + h * p.headDim;
    uint sc = gl_WorkGroupID.x * p.nCells;
    uint kHead = headByte(p.kType, kvh);
    uint vHead = headByte(p.vType, kvh);
    float mx = -1.0 / 0.0;
    for (uint c = tid; c < p.nCells; c += 64u) {
        int cp = META[p.nCells + c];
        bool vis = META[c] == seq && cp <= pos && (p.nSwa <= 0 || pos - cp < p.nSwa);
        float s = -1.0 / 0.0;
        if (vis) {
            s = 0.0;
            uint row = 4u * c * p.kRowWords + kHead;
            if (p.kType == T_F16) {
                // Q meets an F16 K in F16, as the CPU converts it to the K row's dot type
                for (uint d = 0u; d < p.headDim; d++) { s += roundF16(Q[q + d]) * elem(false, p.kType, row, d); }
            } else {
                for (uint d = 0u; d < p.headDim; d++) { s += Q[q + d] * elem(false, p.kType, row, d); }
            }
            s *= p.scale;
            if (p.softcap != 0.0) { s = p.softcap * tanh(s / p.softcap); }
            mx = max(mx, s);
        }
        SC[sc + c] = s;
    }
    if (p.vType == T_F16) {
        // F16 V: the CPU's flash attention order, cell by cell: online softmax in F32 and the weighted V sum in an
        // F16 accumulator (every update rounded), rescaled on each new maximum
        memoryBarrierBuffer();
        barrier();
        for (uint d = tid; d < p.headDim; d += 64u) {
            float m = -1.0 / 0.0;
            float sum = 0.0;
            float acc = 0.0;
            for (uint c = 0u; c < p.nCells; c++) {
                float s = SC[sc + c];
                if (s == -1.0 / 0.0) {
                    continue;
                }
                float ms = 1.0;
                float vs = 1.0;
                if (s > m) {
                    ms = exp(m - s);
                    m = s;
                    acc = roundF16(acc * ms);
                } else {
                    vs = exp(s - m);
                }
                precise float upd = fma(elem(true, p.vType, 4u * c * p.vRowWords + vHead, d), vs, acc);
                acc = roundF16(upd);
                sum = sum * ms + vs;
            }
            O[(p.tokBase + t) * p.qStride + h * p.headDim + d] = acc * (sum == 0.0 ? 0.0 : 1.0 / sum);
        }
        return;
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
            if (e != 0.0) { acc += e * elem(true, p.vType, 4u * c * p.vRowWords + vHead, d); }
        }
        O[(p.tokBase + t) * p.qStride + h * p.headDim + d] = acc * inv;
    }
}
