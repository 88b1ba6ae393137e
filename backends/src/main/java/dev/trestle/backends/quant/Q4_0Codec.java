package dev.trestle.backends.quant;

import dev.trestle.backends.bytes.Le;
import dev.trestle.backends.type.GgmlType;
import java.lang.foreign.MemorySegment;

/**
 * Q4_0: 32 values as {@code fp16 d; u8 qs[16]}; value = (nibble - 8) * d. Byte j holds element j in
 * its low nibble and element j+16 in its high nibble. d = max / -8 where max is the signed value of
 * largest magnitude, so that value maps to level 0 exactly.
 */
public final class Q4_0Codec extends BlockCodec {
    Q4_0Codec() {
        super(GgmlType.Q4_0);
    }

    @Override
    void dequantizeBlock(MemorySegment src, long off, float[] dst, int o) {
        float d = Le.f16(src, off);
        for (int j = 0; j < 16; ++j) {
            int q = Le.u8(src, off + 2 + j);
            dst[o + j] = ((q & 0x0F) - 8) * d;
            dst[o + j + 16] = ((q >>> 4) - 8) * d;
        }
    }

    @Override
    void quantizeBlocks(float[] x, int xo, MemorySegment dst, long off, int blocks) {
        for (int b = 0; b < blocks; b++, xo += 32, off += 18) {
            float max = LegacyBlocks.signedAbsMax(x, xo);
            float d = max / -8;
            float id = d != 0 ? 1.0f / d : 0.0f;
            Le.putF16(dst, off, d);
            for (int j = 0; j < 16; ++j) {
                // truncation of (x*id + 8.5) is round-half-up onto 0..16, clamped to 15
                int q0 = Math.min(15, (int) (x[xo + j] * id + 8.5f));
                int q1 = Math.min(15, (int) (x[xo + 16 + j] * id + 8.5f));
                Le.putU8(dst, off + 2 + j, q0 | (q1 << 4));
            }
        }
    }
}
