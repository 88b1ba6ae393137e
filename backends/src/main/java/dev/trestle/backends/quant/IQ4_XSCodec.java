package dev.trestle.backends.quant;

import dev.trestle.backends.bytes.Le;
import dev.trestle.backends.type.GgmlType;
import java.lang.foreign.MemorySegment;

/**
 * IQ4_XS: 256 values as {@code fp16 d; u16 scales_h; u8 scales_l[4]; u8 qs[128]}: eight IQ4_NL-style
 * blocks of 32 whose 6-bit scales (stored +32) are split into low nibbles and high bit pairs;
 * value = d * (ls - 32) * kvalues_iq4nl[nibble]. Quantizing follows quantize_row_iq4_xs_ref.
 */
public final class IQ4_XSCodec extends BlockCodec {
    IQ4_XSCodec() {
        super(GgmlType.IQ4_XS);
    }

    @Override
    void dequantizeBlock(MemorySegment src, long off, float[] y, int o) {
        float d = Le.f16(src, off);
        int scalesH = Le.i16(src, off + 2) & 0xFFFF;
        for (int ib = 0; ib < 8; ++ib) {
            int ls = ((Le.u8(src, off + 4 + ib / 2) >>> (4 * (ib % 2))) & 0xf) | (((scalesH >>> (2 * ib)) & 3) << 4);
            float dl = d * (ls - 32);
            long qs = off + 8 + 16L * ib;
            for (int j = 0; j < 16; ++j) {
                int q = Le.u8(src, qs + j);
                y[o + j] = dl * Iq4Quantizer.VALUES[q & 0xF];
                y[o + j + 16] = dl * Iq4Quantizer.VALUES[q >>> 4];
            }
            o += 32;
        }
    }

    @Override
    void quantizeBlocks(float[] x, int xo, MemorySegment dst, long off, int blocks) {
        Iq4Quantizer q = new Iq4Quantizer(256);
        for (int b = 0; b < blocks; b++, xo += 256, off += 136) {
            Le.putI16(dst, off, q.quantize(x, xo, 7));
            Le.putI16(dst, off + 2, (short) q.scalesH);
            for (int i = 0; i < 4; i++) {
                Le.putU8(dst, off + 4 + i, q.scalesL[i]);
            }
            for (int i = 0; i < 8; ++i) {
                for (int j = 0; j < 16; ++j) {
                    Le.putU8(dst, off + 8 + 16 * i + j, q.levels[32 * i + j] | (q.levels[32 * i + 16 + j] << 4));
                }
            }
        }
    }
}
