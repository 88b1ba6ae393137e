// Converts F32 activation rows to a weight type's dot format, as the CPU backend (ActivationQuantizer, ggml x86)
// does: Q8_0/Q8_1 scale by 127/amax and round half to even (Q8_1 adds d * sum(q) rounded to F16), Q8_K scales by
// -127 / (the signed element of largest magnitude), F16/BF16 round to nearest even. One invocation per block
// (32 elements; 256 for Q8_K). Output words per block: Q8_0 qs[8] d; Q8_1 qs[8] d s; Q8_K qs[64] d bsums[16];
// F16/BF16 16 words of two halves (rows padded with zeros to 32 elements). Scales are stored as float bits.
layout(local_size_x = 64) in;
layout(std430, binding = 0) readonly buffer XB { float X[]; };
layout(std430, binding = 1) writeonly buffer QB { uint Q[]; };
layout(push_constant) uniform P {
    uint cols; uint nRows; uint xOff; uint xStride; uint rowWords; uint gridX;
} p;
#include "exact.glsl"
#if defined(QTYPE_Q8_K)
const uint BLOCK = 256u;
#else
const uint BLOCK = 32u;
#endif
#if defined(QTYPE_Q8_0)
const uint BLOCK_WORDS = 9u;
#elif defined(QTYPE_Q8_1)
const uint BLOCK_WORDS = 10u;
#elif defined(QTYPE_Q8_K)
const uint BLOCK_WORDS = 81u;
#else
const uint BLOCK_WORDS = 16u;
#endif
float elem(uint xo, uint i, uint e) { return e + i < p.cols ? X[xo + i] : 0.0; }
void main() {
    uint blocksPerRow = (p.cols + BLOCK - 1u) / BLOCK;
    uint g = gl_GlobalInvocationID.x + gl_GlobalInvocationID.y * p.gridX * 64u;
    uint row = g / blocksPerRow;
    if (row >= p.nRows) {
        return;
    }
    uint blk = g - row * blocksPerRow;
    uint e0 = blk * BLOCK;
    uint xo = p.xOff + row * p.xStride + e0;
    uint qo = row * p.rowWords + blk * BLOCK_WORDS;
#if defined(QTYPE_F16) || defined(QTYPE_BF16)
    for (uint w = 0u; w < 16u; w++) {
#if defined(QTYPE_F16)
        Q[qo + w] = f32ToF16(elem(xo, 2u * w, e0)) | (f32ToF16(elem(xo, 2u * w + 1u, e0)) << 16);
#else
        Q[qo + w] = f32ToBf16(elem(xo, 2u * w, e0)) | (f32ToBf16(elem(xo, 2u * w + 1u, e0)) << 16);
#endif
    }
#elif defined(QTYPE_Q8_0) || defined(QTYPE_Q8_1)
    float amax = 0.0;
    for (uint i = 0u; i < 32u; i++) {
        amax = max(amax, abs(X[xo + i]));
    }
    float dd = amax != 0.0 ? divRn(amax, 127.0) : 0.0;
    float id = amax != 0.0 ? divRn(127.0, amax) : 0.0;
    int sum = 0;
    for (uint w = 0u; w < 8u; w++) {
        uint packed = 0u;
        for (uint k = 0u; k < 4u; k++) {
            precise float v = X[xo + 4u * w + k] * id;
            int q = int(roundEven(v));
            sum += q;
            packed |= (uint(q) & 0xffu) << (8u * k);
        }
        Q[qo + w] = packed;
    }
    Q[qo + 8u] = floatBitsToUint(roundF16(dd));
#if defined(QTYPE_Q8_1)
    precise float s = dd * float(sum);
    Q[qo + 9u] = floatBitsToUint(roundF16(s));
#endif
#else
    float amax = 0.0;
    float mx = 0.0;
    for (uint i = 0u; i < 256u; i++) {
        float a = abs(X[xo + i]);
        if (a > amax) {
            amax = a;
            mx = X[xo + i];
        }
    }
    if (amax == 0.0) {
        for (uint w = 0u; w < BLOCK_WORDS; w++) {
            Q[qo + w] = 0u;
        }
        return;
    }
    // iscale = -127 / mx, d = 1 / iscale, both correctly rounded; the sign is exact
    float iscale = divRn(127.0, amax);
    iscale = mx > 0.0 ? -iscale : iscale;
    float d = divRn(1.0, abs(iscale));
    d = iscale < 0.0 ? -d : d;
    for (uint j = 0u; j < 16u; j++) {
        int bs = 0;
        for (uint w = 0u; w < 4u; w++) {
            uint packed = 0u;
            for (uint k = 0u; k < 4u; k++) {
                precise float v = iscale * X[xo + 16u * j + 4u * w + k];
                int q = min(127, int(roundEven(v)));
                bs += q;
                packed |= (uint(q) & 0xffu) << (8u * k);
            }
            Q[qo + 4u * j + w] = packed;
        }
        Q[qo + 65u + j] = uint(bs);
    }
    Q[qo + 64u] = floatBitsToUint(d);
#endif
}
