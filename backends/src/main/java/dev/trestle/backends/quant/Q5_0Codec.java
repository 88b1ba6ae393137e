package dev.trestle.backends.quant;

import dev.trestle.backends.bytes.Le;
import dev.trestle.backends.type.GgmlType;
import java.lang.foreign.MemorySegment;

/**
 * Q5_0: 32 values as {@code fp16 d; u32 qh; u8 qs[16]}; value = (5-bit level - 16) * d. The low 4
 * bits are packed like Q4_0; bit j of qh is the fifth bit of element j.
 */
public final class Q5_0Codec extends BlockCodec {
    Q5_0Codec() {
        super(GgmlType.Q5_0);
    }

    @Override
    void dequantizeBlock(MemorySegment src, long off, float[] dst, int o) {
        float d = Le.f16(src, off);
        int qh = Le.i32(src, off + 2);
        for (int j = 0; j < 16; ++j) {
            int q = Le.u8(src, off + 6 + j);
            dst[o + j] = (LegacyBlocks.level5Low(q, qh, j) - 16) * d;
            dst[o + j + 16] = (LegacyBlocks.level5High(q, qh, j) - 16) * d;
        }
    }

    @Override
    void quantizeBlocks(float[] x, int xo, MemorySegment dst, long off, int blocks) {
        for (int b = 0; b < blocks; b++, xo += 32, off += 22) {
            float max = LegacyBlocks.signedAbsMax(x, xo);
            float d = max / -16;
            float id = d != 0 ? 1.0f / d : 0.0f;
            Le.putF16(dst, off, d);
            int qh = 0;
            for (int j = 0; j < 16; ++j) {
                int q0 = Math.min(31, (int) (x[xo + j] * id + 16.5f));
                int q1 = Math.min(31, (int) (x[xo + 16 + j] * id + 16.5f));
                Le.putU8(dst, off + 6 + j, LegacyBlocks.lowNibbles(q0, q1));
                qh |= LegacyBlocks.fifthBits(q0, q1, j);
            }
            Le.putI32(dst, off + 2, qh);
        }
    }
}
