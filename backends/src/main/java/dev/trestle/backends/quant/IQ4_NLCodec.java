package dev.trestle.backends.quant;

import dev.trestle.backends.bytes.Le;
import dev.trestle.backends.type.GgmlType;
import java.lang.foreign.MemorySegment;

/**
 * IQ4_NL: 32 values as {@code fp16 d; u8 qs[16]}; value = d * kvalues_iq4nl[nibble], nibbles packed
 * like Q4_0. Quantizing follows quantize_row_iq4_nl_ref (least-squares scale, no grid search).
 */
public final class IQ4_NLCodec extends BlockCodec {
    IQ4_NLCodec() {
        super(GgmlType.IQ4_NL);
    }

    @Override
    void dequantizeBlock(MemorySegment src, long off, float[] y, int o) {
        float d = Le.f16(src, off);
        for (int j = 0; j < 16; ++j) {
            int q = Le.u8(src, off + 2 + j);
            y[o + j] = d * Iq4Quantizer.VALUES[q & 0xF];
            y[o + j + 16] = d * Iq4Quantizer.VALUES[q >>> 4];
        }
    }

    @Override
    void quantizeBlocks(float[] x, int xo, MemorySegment dst, long off, int blocks) {
        Iq4Quantizer q = new Iq4Quantizer(32);
        for (int b = 0; b < blocks; b++, xo += 32, off += 18) {
            Le.putI16(dst, off, q.quantize(x, xo, -1));
            for (int j = 0; j < 16; ++j) {
                Le.putU8(dst, off + 2 + j, q.levels[j] | (q.levels[16 + j] << 4));
            }
        }
    }
}
