// MoE routing, one workgroup per token: gating probabilities of the router logits (softmax or sigmoid, written
// back in place), the top-k experts (largest first, ties to the lower id, as the CPU path picks them) and their
// weights, normalized to sum 1 where the model asks (sum clamped at 2^-14) and scaled. Writes ids and weights.
layout(local_size_x = 64) in;
layout(std430, binding = 0) buffer LB { float L[]; };
layout(std430, binding = 1) writeonly buffer IB { uint IDS[]; };
layout(std430, binding = 2) writeonly buffer WB { float WT[]; };
layout(push_constant) uniform P { uint nExp; uint k; uint sigmoid; uint normalize; float scale; } p;
const uint MAX_EXP = 512u;
const uint MAX_K = 32u;
shared float prob[MAX_EXP];
shared float cand[MAX_EXP];    // probabilities not taken yet; taken ones read -1
shared float redV[64];
shared uint redI[64];
shared float chosen[MAX_K];
void main() {
    uint t = gl_WorkGroupID.x;
    uint tid = gl_LocalInvocationID.x;
    uint base = t * p.nExp;
    if (p.sigmoid != 0u) {
        for (uint i = tid; i < p.nExp; i += 64u) { prob[i] = 1.0 / (1.0 + exp(-L[base + i])); }
    } else {
        float m = -1.0 / 0.0;
        for (uint i = tid; i < p.nExp; i += 64u) { m = max(m, L[base + i]); }
        redV[tid] = m;
        barrier();
        for (uint w = 32u; w > 0u; w >>= 1) {
            if (tid < w) { redV[tid] = max(redV[tid], redV[tid + w]); }
            barrier();
        }
        float mx = redV[0];
        barrier();
        float s = 0.0;
        for (uint i = tid; i < p.nExp; i += 64u) { float e = exp(L[base + i] - mx); prob[i] = e; s += e; }
        redV[tid] = s;
        barrier();
        for (uint w = 32u; w > 0u; w >>= 1) {
            if (tid < w) { redV[tid] += redV[tid + w]; }
            barrier();
        }
        float inv = 1.0 / redV[0];
        barrier();
        for (uint i = tid; i < p.nExp; i += 64u) { prob[i] *= inv; }
    }
    for (uint i = tid; i < p.nExp; i += 64u) { L[base + i] = prob[i]; cand[i] = prob[i]; }
    barrier();
    for (uint j = 0u; j < p.k; j++) {
        // each invocation scans its ids in ascending order with a strict >, so ties keep the lower id
        float bv = -2.0;
        uint bi = 0xffffffffu;
        for (uint i = tid; i < p.nExp; i += 64u) {
            if (cand[i] > bv) { bv = cand[i]; bi = i; }
        }
        redV[tid] = bv;
        redI[tid] = bi;
        barrier();
        for (uint w = 32u; w > 0u; w >>= 1) {
            if (tid < w) {
                float ov = redV[tid + w];
                uint oi = redI[tid + w];
                if (ov > redV[tid] || (ov == redV[tid] && oi < redI[tid])) { redV[tid] = ov; redI[tid] = oi; }
            }
            barrier();
        }
        if (tid == 0u) {
            uint id = redI[0];
            IDS[t * p.k + j] = id;
            chosen[j] = prob[id];
            cand[id] = -1.0;
        }
        barrier();
    }
    if (tid == 0u) {
        float sum = 0.0;
        for (uint j = 0u; j < p.k; j++) { sum += chosen[j]; }
        sum = max(sum, 6.103515625e-5);
        for (uint j = 0u; j < p.k; j++) {
            float w = chosen[j];
            if (p.normalize != 0u) { w /= sum; }
            if (p.scale != 0.0 && p.scale != 1.0) { w *= p.scale; }
            WT[t * p.k + j] = w;
        }
    }
}
