// Byte access into a weight or cache buffer bound as uint words. Blocks of 18, 22 or 34 bytes are not word
// aligned, and this path needs neither 8/16-bit storage nor float16/int8 arithmetic, so it runs on any device.
uint u8(uint off) { return (W[off >> 2] >> ((off & 3u) * 8u)) & 0xffu; }
uint u16(uint off) {
    uint sh = (off & 3u) * 8u;
    uint lo = W[off >> 2] >> sh;
    return sh <= 16u ? (lo & 0xffffu) : ((lo & 0xffu) | ((W[(off >> 2) + 1u] & 0xffu) << 8));
}
uint u32(uint off) { return (off & 3u) == 0u ? W[off >> 2] : (u16(off) | (u16(off + 2u) << 16)); }
#if defined(USE_FP16)
// 16-bit storage: half values (F16 weights, block scales; always at even offsets) load directly through the
// float16_t view of the same binding, and widen to f32 exactly.
float f16(uint off) { return float(W16[off >> 1]); }
#else
float f16(uint off) { return unpackHalf2x16(u16(off)).x; }
#endif
int i8(uint off) { return int(u8(off) << 24) >> 24; }
