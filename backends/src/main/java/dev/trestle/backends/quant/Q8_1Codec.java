package dev.trestle.backends.quant;

import dev.trestle.backends.bytes.Le;
import dev.trestle.backends.type.GgmlType;
import java.lang.foreign.MemorySegment;

/**
 * Q8_1: 32 values as {@code fp16 d, s; i8 qs[32]}: Q8_0 plus s = d * sum(qs), which dot products
 * with Q4_1/Q5_1 weights use to apply the weight minimum.
 */
public final class Q8_1Codec extends BlockCodec {
    Q8_1Codec() {
        super(GgmlType.Q8_1);
    }

    @Override
    void dequantizeBlock(MemorySegment src, long off, float[] dst, int o) {
        Q8_0Codec.decode(src, off, off + 4, dst, o);
    }

    @Override
    void quantizeBlocks(float[] x, int xo, MemorySegment dst, long off, int blocks) {
        for (int b = 0; b < blocks; b++, xo += 32, off += 36) {
            float d = Q8_0Codec.encode(x, xo, dst, off, off + 4);
            int sum = 0;
            for (int j = 0; j < 32; ++j) {
                sum += Le.i8(dst, off + 4 + j);
            }
            Le.putF16(dst, off + 2, sum * d);
        }
    }
}
