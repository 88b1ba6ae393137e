package dev.trestle.backends.quant;

import dev.trestle.backends.bytes.Le;
import dev.trestle.backends.type.GgmlType;
import java.lang.foreign.MemorySegment;

/**
 * MXFP4 (OCP microscaling FP4): 32 values as {@code u8 e; u8 qs[16]}: E2M1 values (stored doubled as
 * integers, kvalues_mxfp4) times the E8M0 shared scale 2^(e-128); nibbles packed like Q4_0.
 */
public final class MXFP4Codec extends BlockCodec {
    /** E2M1 code points times two: 0, 0.5, 1, 1.5, 2, 3, 4, 6 and their negatives. */
    static final byte[] VALUES = {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12};

    MXFP4Codec() {
        super(GgmlType.MXFP4);
    }

    @Override
    void dequantizeBlock(MemorySegment src, long off, float[] y, int o) {
        float d = HalfFloat.e8m0ToFloatHalf(Le.u8(src, off));
        for (int j = 0; j < 16; ++j) {
            int q = Le.u8(src, off + 1 + j);
            y[o + j] = VALUES[q & 0xF] * d;
            y[o + j + 16] = VALUES[q >>> 4] * d;
        }
    }

    @Override
    void quantizeBlocks(float[] x, int xo, MemorySegment dst, long off, int blocks) {
        for (int b = 0; b < blocks; b++, xo += 32, off += 17) {
            float amax = 0.0f;
            for (int j = 0; j < 32; j++) {
                amax = Math.max(amax, Math.abs(x[xo + j]));
            }
            // ggml takes floorf(log2f(amax)); log2f rounds to float first, which can round up to the next integer
            int e = amax > 0.0f ? ((int) (Math.floor((float) (Math.log(amax) / Math.log(2.0))) - 2 + 127)) & 0xFF : 0;
            float d = HalfFloat.e8m0ToFloatHalf(e);
            Le.putU8(dst, off, e);
            for (int j = 0; j < 16; ++j) {
                Le.putU8(dst, off + 1 + j, bestIndex(x[xo + j], d) | (bestIndex(x[xo + 16 + j], d) << 4));
            }
        }
    }

    private static int bestIndex(float x, float e) {
        int best = 0;
        float bestErr = Math.abs(VALUES[0] * e - x);
        for (int i = 1; i < 16; i++) {
            float err = Math.abs(VALUES[i] * e - x);
            if (err < bestErr) {
                best = i;
                bestErr = err;
            }
        }
        return best;
    }
}
