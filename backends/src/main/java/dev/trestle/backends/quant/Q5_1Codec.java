package dev.trestle.backends.quant;

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
            int h0 = ((qh >>> j) << 4) & 0x10;
            int h1 = (qh >>> (j + 12)) & 0x10;
            dst[o + j] = ((q & 0x0F) | h0) * d + m;
            dst[o + j + 16] = ((q >>> 4) | h1) * d + m;
        }
    }

    @Override
    void quantizeBlocks(float[] x, int xo, MemorySegment dst, long off, int blocks) {
        for (int b = 0; b < blocks; b++, xo += 32, off += 24) {
            float min = Float.MAX_VALUE;
            float max = -Float.MAX_VALUE;
            for (int j = 0; j < 32; j++) {
                float v = x[xo + j];
                if (v < min) {
                    min = v;
                }
                if (v > max) {
                    max = v;
                }
            }
            float d = (max - min) / 31;
            float id = d != 0 ? 1.0f / d : 0.0f;
            Le.putF16(dst, off, d);
            Le.putF16(dst, off + 2, min);
            int qh = 0;
            for (int j = 0; j < 16; ++j) {
                // ggml does not clamp here: (x-min)*id is at most 31 + rounding, and the byte keeps 5 bits
                int q0 = ((int) ((x[xo + j] - min) * id + 0.5f)) & 0xFF;
                int q1 = ((int) ((x[xo + 16 + j] - min) * id + 0.5f)) & 0xFF;
                Le.putU8(dst, off + 8 + j, (q0 & 0x0F) | ((q1 & 0x0F) << 4));
                qh |= ((q0 & 0x10) >>> 4) << j;
                qh |= ((q1 & 0x10) >>> 4) << (j + 16);
            }
            Le.putI32(dst, off + 4, qh);
        }
    }
}
