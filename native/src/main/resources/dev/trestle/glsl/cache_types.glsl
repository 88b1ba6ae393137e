// KV cache element codecs, chosen at run time by ggml type id (uniform per dispatch). Cache rows are padded to
// whole 32-bit words; inside a row the layout is ggml's (F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1 blocks).
const uint T_F32 = 0u; const uint T_F16 = 1u; const uint T_Q4_0 = 2u; const uint T_Q4_1 = 3u;
const uint T_Q5_0 = 6u; const uint T_Q5_1 = 7u; const uint T_Q8_0 = 8u; const uint T_BF16 = 30u;
uint blockBytes(uint t) {
    return t == T_Q8_0 ? 34u : t == T_Q4_0 ? 18u : t == T_Q4_1 ? 20u : t == T_Q5_0 ? 22u : 24u;
}
