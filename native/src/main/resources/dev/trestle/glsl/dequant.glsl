// Dequantizes chunk c (16 consecutive elements) of a row starting at byte rowByte into v, in ggml's block
// layouts. Elements at or past ncols (plain types only) read as 0. One type is compiled in by a WTYPE_* define.
#if defined(WTYPE_F32)
const uint CHUNKS_PER_BLOCK = 1u;
void dequant16(uint rowByte, uint c, uint ncols, out float v[16]) {
    for (uint i = 0u; i < 16u; i++) {
        uint e = c * 16u + i;
        v[i] = e < ncols ? uintBitsToFloat(W[(rowByte >> 2) + e]) : 0.0;
    }
}
#elif defined(WTYPE_F16)
void dequant16(uint rowByte, uint c, uint ncols, out float v[16]) {
    for (uint i = 0u; i < 16u; i++) {
        uint e = c * 16u + i;
        v[i] = e < ncols ? f16(rowByte + 2u * e) : 0.0;
    }
}
#elif defined(WTYPE_BF16)
void dequant16(uint rowByte, uint c, uint ncols, out float v[16]) {
    for (uint i = 0u; i < 16u; i++) {
        uint e = c * 16u + i;
        v[i] = e < ncols ? uintBitsToFloat(u16(rowByte + 2u * e) << 16) : 0.0;
    }
}
#elif defined(WTYPE_Q4_0) || defined(WTYPE_Q4_1)
#if defined(WTYPE_Q4_0)
const uint BLOCK_BYTES = 18u; const uint QS = 2u;
#else
const uint BLOCK_BYTES = 20u; const uint QS = 4u;
#endif
void dequant16(uint rowByte, uint c, uint ncols, out float v[16]) {
    uint b = rowByte + (c >> 1) * BLOCK_BYTES;
    float d = f16(b);
#if defined(WTYPE_Q4_0)
    float m = -8.0 * d;
#else
    float m = f16(b + 2u);
#endif
    uint sh = (c & 1u) * 4u;
    for (uint i = 0u; i < 16u; i++) {
        v[i] = d * float((u8(b + QS + i) >> sh) & 0xfu) + m;
    }
}
#elif defined(WTYPE_Q5_0) || defined(WTYPE_Q5_1)
#if defined(WTYPE_Q5_0)
const uint BLOCK_BYTES = 22u; const uint QH = 2u;
#else
const uint BLOCK_BYTES = 24u; const uint QH = 4u;
#endif
void dequant16(uint rowByte, uint c, uint ncols, out float v[16]) {
    uint b = rowByte + (c >> 1) * BLOCK_BYTES;
    float d = f16(b);
#if defined(WTYPE_Q5_0)
    float m = -16.0 * d;
#else
    float m = f16(b + 2u);
#endif
    uint qh = u32(b + QH);
    uint hi = c & 1u;
    for (uint i = 0u; i < 16u; i++) {
        uint q = ((u8(b + QH + 4u + i) >> (hi * 4u)) & 0xfu) | (((qh >> (i + hi * 16u)) & 1u) << 4);
        v[i] = d * float(q) + m;
    }
}
#elif defined(WTYPE_Q8_0)
void dequant16(uint rowByte, uint c, uint ncols, out float v[16]) {
    uint b = rowByte + (c >> 1) * 34u;
    float d = f16(b);
    uint q = b + 2u + (c & 1u) * 16u;
    for (uint i = 0u; i < 16u; i++) {
        v[i] = d * float(i8(q + i));
    }
}
#elif defined(WTYPE_Q4_K) || defined(WTYPE_Q5_K)
// 6-bit scale and min of sub-block j (0..7) from the 12 packed bytes at s.
void scaleMinK4(uint s, uint j, out float sc, out float mn) {
    if (j < 4u) {
        sc = float(u8(s + j) & 63u);
        mn = float(u8(s + j + 4u) & 63u);
    } else {
        sc = float((u8(s + j + 4u) & 0xfu) | ((u8(s + j - 4u) >> 6) << 4));
        mn = float((u8(s + j + 4u) >> 4) | ((u8(s + j) >> 6) << 4));
    }
}
void dequant16(uint rowByte, uint c, uint ncols, out float v[16]) {
#if defined(WTYPE_Q4_K)
    uint b = rowByte + (c >> 4) * 144u;
    uint qs = b + 16u;
#else
    uint b = rowByte + (c >> 4) * 176u;
    uint qh = b + 16u;
    uint qs = b + 48u;
#endif
    uint cc = c & 15u;
    uint sub = cc >> 1;          // 32-element sub-block 0..7
    uint l0 = (cc & 1u) * 16u;   // first element within the sub-block
    uint pair = sub >> 1;
    uint shift = (sub & 1u) * 4u;
    float sc;
    float mn;
    scaleMinK4(b + 4u, sub, sc, mn);
    float d = f16(b) * sc;
    float m = f16(b + 2u) * mn;
    for (uint i = 0u; i < 16u; i++) {
        uint l = l0 + i;
        uint q = (u8(qs + pair * 32u + l) >> shift) & 0xfu;
#if defined(WTYPE_Q5_K)
        q |= ((u8(qh + l) >> sub) & 1u) << 4;
#endif
        v[i] = d * float(q) - m;
    }
}
#elif defined(WTYPE_Q6_K)
void dequant16(uint rowByte, uint c, uint ncols, out float v[16]) {
    uint b = rowByte + (c >> 4) * 210u;
    uint cc = c & 15u;
    uint h = cc >> 3;                 // 128-element half
    uint r = (cc * 16u) & 127u;       // offset within the half
    uint quarter = r >> 5;            // 0..3
    uint l0 = r & 31u;
    uint ql = b + 64u * h + (quarter & 1u) * 32u;
    uint qh = b + 128u + 32u * h;
    uint qlShift = (quarter >> 1) * 4u;
    float d = f16(b + 208u) * float(int(u8(b + 192u + 8u * h + l0 / 16u + 2u * quarter) << 24) >> 24);
    for (uint i = 0u; i < 16u; i++) {
        uint l = l0 + i;
        int q = int(((u8(ql + l) >> qlShift) & 0xfu) | (((u8(qh + l) >> (2u * quarter)) & 3u) << 4)) - 32;
        v[i] = d * float(q);
    }
}
#else
#error "no WTYPE_* defined"
#endif
