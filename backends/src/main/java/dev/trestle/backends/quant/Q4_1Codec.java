package dev.trestle.backends.quant;

import dev.trestle.backends.bytes.Le;
import dev.trestle.backends.type.GgmlType;
import java.lang.foreign.MemorySegment;

/** Q4_1: 32 values as {@code fp16 d, m; u8 qs[16]}; value = nibble * d + m (m = block minimum). */
public final class Q4_1Codec extends BlockCodec {
    Q4_1Codec() {
        super(GgmlType.Q4_1);
    }

    @Override
    void dequantizeBlock(MemorySegment src, long off, float[] dst, int o) {
        float d = Le.f16(src, off);
        float m = Le.f16(src, off + 2);
        for (int j = 0; j < 16; ++j) {
            int q = Le.u8(src, off + 4 + j);
            dst[o + j] = (q & 0x0F) * d + m;
            dst[o + j + 16] = (q >>> 4) * d + m;
        }
    }

    @Override
    void quantizeBlocks(float[] x, int xo, MemorySegment dst, long off, int blocks) {
        for (int b = 0; b < blocks; b++, xo += 32, off += 20) {
            float min = LegacyBlocks.min(x, xo);
            float max = LegacyBlocks.max(x, xo);
            float d = (max - min) / 15;
            float id = d != 0 ? 1.0f / d : 0.0f;
            Le.putF16(dst, off, d);
            Le.putF16(dst, off + 2, min);
            for (int j = 0; j < 16; ++j) {
                int q0 = Math.min(15, (int) ((x[xo + j] - min) * id + 0.5f));
                int q1 = Math.min(15, (int) ((x[xo + 16 + j] - min) * id + 0.5f));
                Le.putU8(dst, off + 4 + j, q0 | (q1 << 4));
            }
        }
    }
}
