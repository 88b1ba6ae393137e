// out[t][row] = W[row] . x[t] for batches (16+ tokens): a workgroup owns a BM x BN block of outputs. Per step of
// BK columns it dequantizes BM weight rows (16-element chunks, straight from their blocks) into shared memory once
// and loads BN activation rows beside them, then each invocation accumulates a TM x TN register block from the two
// tiles, so every weight byte is read once per BN tokens and every activation once per BM rows. F32 accumulation.
// BK (a multiple of 16) is chosen by the host from the device's shared memory; rows of the tiles are padded by one
// float so the column-wise reads of a step do not all hit the same bank.
#if defined(USE_FP16)
#extension GL_EXT_shader_16bit_storage : require
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : require
#endif
const uint BM = 64u;
const uint BN = 64u;
const uint TM = 8u;              // rows per invocation, strided by BM / TM
const uint TN = 8u;              // tokens per invocation, strided by BN / TN
const uint WG = (BM / TM) * (BN / TN);
const uint PAD = BK + 1u;
layout(local_size_x = 64) in;
layout(std430, binding = 0) readonly buffer WB { uint W[]; };
#if defined(USE_FP16)
layout(std430, binding = 0) readonly buffer WB16 { float16_t W16[]; };
#endif
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
shared float ws[BM * PAD];
shared float xs[BN * PAD];
void main() {
    uint r0 = (gl_WorkGroupID.x + gl_WorkGroupID.y * p.gridX) * BM;
    uint t0 = gl_WorkGroupID.z * BN;
    uint tid = gl_LocalInvocationID.x;
    uint tx = tid % (BM / TM);
    uint ty = tid / (BM / TM);
    uint nChunks = (p.cols + 15u) / 16u;
    float acc[TM * TN];
    for (uint i = 0u; i < TM * TN; i++) { acc[i] = 0.0; }
    for (uint k0 = 0u; k0 < p.cols; k0 += BK) {
        // weights: BM rows x BK / 16 chunks, dequantized once each
        for (uint idx = tid; idx < BM * (BK / 16u); idx += WG) {
            uint r = idx / (BK / 16u);
            uint ch = idx % (BK / 16u);
            uint c = k0 / 16u + ch;
            float v[16];
            if (r0 + r < p.rows && c < nChunks) {
                dequant16(p.wBase + (r0 + r) * p.rowBytes, c, p.cols, v);
            } else {
                for (uint i = 0u; i < 16u; i++) { v[i] = 0.0; }
            }
            for (uint i = 0u; i < 16u; i++) { ws[r * PAD + ch * 16u + i] = v[i]; }
        }
        // activations: BN rows x BK columns, consecutive invocations on consecutive columns
        for (uint idx = tid; idx < BN * BK; idx += WG) {
            uint t = idx / BK;
            uint kk = idx % BK;
            float a = 0.0;
            if (t0 + t < p.nTok && k0 + kk < p.cols) {
                // gathered: slot s reads activation row ROWS[2s] and writes output row ROWS[2s+1]
                uint xr = p.gathered != 0u ? ROWS[2u * (p.rowsBase + t0 + t)] : t0 + t;
                a = X[p.xOff + xr * p.xStride + k0 + kk];
            }
            xs[t * PAD + kk] = a;
        }
        barrier();
        for (uint kk = 0u; kk < BK; kk++) {
            float a[TM];
            float b[TN];
            for (uint i = 0u; i < TM; i++) { a[i] = ws[(tx + i * (BM / TM)) * PAD + kk]; }
            for (uint j = 0u; j < TN; j++) { b[j] = xs[(ty + j * (BN / TN)) * PAD + kk]; }
            for (uint i = 0u; i < TM; i++) {
                for (uint j = 0u; j < TN; j++) { acc[i * TN + j] += a[i] * b[j]; }
            }
        }
        barrier();
    }
    for (uint j = 0u; j < TN; j++) {
        uint t = t0 + ty + j * (BN / TN);
        if (t >= p.nTok) { continue; }
        uint orow = p.gathered != 0u ? ROWS[2u * (p.rowsBase + t) + 1u] : t;
        for (uint i = 0u; i < TM; i++) {
            uint row = r0 + tx + i * (BM / TM);
            if (row < p.rows) { O[p.oOff + orow * p.oStride + row] = acc[i * TN + j]; }
        }
    }
}
