package dev.trestle.backends.quant;

import dev.trestle.backends.bytes.Le;
import dev.trestle.backends.type.GgmlType;
import java.lang.foreign.MemorySegment;

/** Q5_1: 32 values as {@code fp16 d, m; u32 qh; u8 qs[16]}; value = 5-bit level * d + m. */
public final class Q5_1Codec extends BlockCodec {
    Q5_1Codec() {
        super(GgmlType.Q5_1);
    }

    @Override
    void dequantizeBlock(MemorySegment src, long off, float[] dst, int o) {
        float d = Le.f16(src, off);
        float m = Le.f16(src, off + 2);
        int qh = Le.i32(src, off + 4);
        for (int j = 0; j < 16; ++j) {
            int q = Le.u8(src, off + 8 + j);
            dst[o + j] = LegacyBlocks.level5Low(q, qh, j) * d + m;
            dst[o + j + 16] = LegacyBlocks.level5High(q, qh, j) * d + m;
        }
    }

    @Override
    void quantizeBlocks(float[] x, int xo, MemorySegment dst, long off, int blocks) {
        for (int b = 0; b < blocks; b++, xo += 32, off += 24) {
            float min = LegacyBlocks.min(x, xo);
            float max = LegacyBlocks.max(x, xo);
            float d = (max - min) / 31;
            float id = d != 0 ? 1.0f / d : 0.0f;
            Le.putF16(dst, off, d);
            Le.putF16(dst, off + 2, min);
            int qh = 0;
            for (int j = 0; j < 16; ++j) {
                // ggml does not clamp here: (x-min)*id is at most 31 + rounding, and the byte keeps 5 bits
                int q0 = ((int) ((x[xo + j] - min) * id + 0.5f)) & 0xFF;
                int q1 = ((int) ((x[xo + 16 + j] - min) * id + 0.5f)) & 0xFF;
                Le.putU8(dst, off + 8 + j, LegacyBlocks.lowNibbles(q0, q1));
                qh |= LegacyBlocks.fifthBits(q0, q1, j);
            }
            Le.putI32(dst, off + 4, qh);
        }
    }
}
