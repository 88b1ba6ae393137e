package dev.trestle.backends.cpu.kernel;

import dev.trestle.backends.cpu.ActivationRows;
import dev.trestle.backends.type.GgmlType;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/** Q4_K (256-element super-blocks: F16 d and dmin, 8 6-bit scales/mins, nibbles) against Q8_K activations. */
public final class Q4_KKernel implements RowKernel {
    private static final int BLOCK_BYTES = 144;
    // One lane per element at every width: L bytes -> L shorts -> L ints (16 lanes on AVX-512, 8 on AVX2).
    private static final int L = Math.min(IntVector.SPECIES_PREFERRED.length(), 16);
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, VectorShape.forBitSize(L * 32));
    private static final VectorSpecies<Short> S = VectorSpecies.of(short.class, VectorShape.forBitSize(L * 16));
    private static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class, VectorShape.forBitSize(L * 8));

    @Override
    public GgmlType weightType() {
        return GgmlType.Q4_K;
    }

    @Override
    public GgmlType dotType() {
        return GgmlType.Q8_K;
    }

    /**
     * The same integer sums as the scalar reference (so the result is bit-identical): per 32-element sub-block
     * the nibble x quant products are summed in shorts, widened to ints and scaled by the 6-bit scale in an
     * int accumulator; one cross-lane sum per 256-element super-block.
     */
    @Override
    public float dot(MemorySegment w, long wOff, ActivationRows a, int aOff, int n) {
        byte[] qs = a.qs();
        float[] ds = a.scales();
        short[] bs = a.bsums();
        float sum = 0f;
        for (int b = 0; b < n / 256; b++) {
            long bo = wOff + (long) b * BLOCK_BYTES;
            int ao = aOff + b * 256;
            IntVector acc = IntVector.zero(I);
            int summ = 0;
            for (int j = 0; j < 4; j++) {
                int sc1 = KQuant.scale(w, bo + 4, 2 * j);
                int sc2 = KQuant.scale(w, bo + 4, 2 * j + 1);
                for (int l = 0; l < 32; l += L) {
                    ByteVector q = ByteVector.fromMemorySegment(B, w, bo + 16 + 32 * j + l, ByteOrder.LITTLE_ENDIAN);
                    ShortVector lo = (ShortVector) q.and((byte) 0x0f).convertShape(VectorOperators.B2S, S, 0);
                    ShortVector hi = (ShortVector) q.lanewise(VectorOperators.LSHR, 4).convertShape(VectorOperators.B2S, S, 0);
                    ShortVector xl = (ShortVector) ByteVector.fromArray(B, qs, ao + 64 * j + l)
                            .convertShape(VectorOperators.B2S, S, 0);
                    ShortVector xh = (ShortVector) ByteVector.fromArray(B, qs, ao + 64 * j + 32 + l)
                            .convertShape(VectorOperators.B2S, S, 0);
                    IntVector pl = (IntVector) lo.mul(xl).convertShape(VectorOperators.S2I, I, 0);
                    IntVector ph = (IntVector) hi.mul(xh).convertShape(VectorOperators.S2I, I, 0);
                    acc = acc.add(pl.mul(sc1)).add(ph.mul(sc2));
                }
                int bsBase = ao / 16 + 4 * j;
                summ += KQuant.min(w, bo + 4, 2 * j) * (bs[bsBase] + bs[bsBase + 1])
                        + KQuant.min(w, bo + 4, 2 * j + 1) * (bs[bsBase + 2] + bs[bsBase + 3]);
            }
            int sumi = acc.reduceLanes(VectorOperators.ADD);
            float dy = ds[ao / 256];
            sum += Bytes.f16(w, bo) * dy * sumi - Bytes.f16(w, bo + 2) * dy * summ;
        }
        return sum;
    }

    /** Four tokens per pass share each decoded weight vector; per token the integer sums are {@link #dot}'s. */
    @Override
    public void dotTokens(MemorySegment w, long wOff, ActivationRows a, int aOff, int n, int tokens, float[] out,
                          int outOff, int outStride) {
        int t = 0;
        for (; t + 4 <= tokens; t += 4) {
            for (int k = 0; k < 4; k++) {
                out[outOff + (t + k) * outStride] = 0f;
            }
            dot4(w, wOff, a, aOff + t * n, n, out, outOff + t * outStride, outStride);
        }
        for (; t < tokens; t++) {
            out[outOff + t * outStride] = dot(w, wOff, a, aOff + t * n, n);
        }
    }

    private static void dot4(MemorySegment w, long wOff, ActivationRows a, int aOff, int n, float[] out, int outOff,
                             int outStride) {
        byte[] qs = a.qs();
        float[] ds = a.scales();
        short[] bs = a.bsums();
        for (int b = 0; b < n / 256; b++) {
            long bo = wOff + (long) b * BLOCK_BYTES;
            int ao = aOff + b * 256;
            IntVector acc0 = IntVector.zero(I);
            IntVector acc1 = IntVector.zero(I);
            IntVector acc2 = IntVector.zero(I);
            IntVector acc3 = IntVector.zero(I);
            for (int j = 0; j < 4; j++) {
                int sc1 = KQuant.scale(w, bo + 4, 2 * j);
                int sc2 = KQuant.scale(w, bo + 4, 2 * j + 1);
                for (int l = 0; l < 32; l += L) {
                    ByteVector q = ByteVector.fromMemorySegment(B, w, bo + 16 + 32 * j + l, ByteOrder.LITTLE_ENDIAN);
                    ShortVector lo = (ShortVector) q.and((byte) 0x0f).convertShape(VectorOperators.B2S, S, 0);
                    ShortVector hi = (ShortVector) q.lanewise(VectorOperators.LSHR, 4).convertShape(VectorOperators.B2S, S, 0);
                    int x = ao + 64 * j + l;
                    acc0 = pair(acc0, lo, hi, sc1, sc2, qs, x);
                    acc1 = pair(acc1, lo, hi, sc1, sc2, qs, x + n);
                    acc2 = pair(acc2, lo, hi, sc1, sc2, qs, x + 2 * n);
                    acc3 = pair(acc3, lo, hi, sc1, sc2, qs, x + 3 * n);
                }
            }
            float d = Bytes.f16(w, bo);
            float dmin = Bytes.f16(w, bo + 2);
            out[outOff] += finish(d, dmin, w, bo, ds, bs, ao, acc0);
            out[outOff + outStride] += finish(d, dmin, w, bo, ds, bs, ao + n, acc1);
            out[outOff + 2 * outStride] += finish(d, dmin, w, bo, ds, bs, ao + 2 * n, acc2);
            out[outOff + 3 * outStride] += finish(d, dmin, w, bo, ds, bs, ao + 3 * n, acc3);
        }
    }

    private static IntVector pair(IntVector acc, ShortVector lo, ShortVector hi, int sc1, int sc2, byte[] qs, int x) {
        ShortVector xl = (ShortVector) ByteVector.fromArray(B, qs, x).convertShape(VectorOperators.B2S, S, 0);
        ShortVector xh = (ShortVector) ByteVector.fromArray(B, qs, x + 32).convertShape(VectorOperators.B2S, S, 0);
        IntVector pl = (IntVector) lo.mul(xl).convertShape(VectorOperators.S2I, I, 0);
        IntVector ph = (IntVector) hi.mul(xh).convertShape(VectorOperators.S2I, I, 0);
        return acc.add(pl.mul(sc1)).add(ph.mul(sc2));
    }

    /** One super-block's contribution for the token whose block starts at {@code ao}, as {@link #dot} adds it. */
    private static float finish(float d, float dmin, MemorySegment w, long bo, float[] ds, short[] bs, int ao,
                                IntVector acc) {
        int summ = 0;
        for (int j = 0; j < 4; j++) {
            int bsBase = ao / 16 + 4 * j;
            summ += KQuant.min(w, bo + 4, 2 * j) * (bs[bsBase] + bs[bsBase + 1])
                    + KQuant.min(w, bo + 4, 2 * j + 1) * (bs[bsBase + 2] + bs[bsBase + 3]);
        }
        float dy = ds[ao / 256];
        return d * dy * acc.reduceLanes(VectorOperators.ADD) - dmin * dy * summ;
    }

    /** Scalar reference of {@link #dot}. */
    public static float dotScalar(MemorySegment w, long wOff, ActivationRows a, int aOff, int n) {
        byte[] qs = a.qs();
        float[] ds = a.scales();
        short[] bs = a.bsums();
        float sum = 0f;
        for (int b = 0; b < n / 256; b++) {
            long bo = wOff + (long) b * BLOCK_BYTES;
            int ao = aOff + b * 256;
            int sumi = 0;
            int summ = 0;
            for (int j = 0; j < 4; j++) {
                int sc1 = KQuant.scale(w, bo + 4, 2 * j);
                int sc2 = KQuant.scale(w, bo + 4, 2 * j + 1);
                int lo = 0;
                int hi = 0;
                for (int l = 0; l < 32; l++) {
                    int q = Bytes.u8(w, bo + 16 + 32 * j + l);
                    lo += (q & 0xf) * qs[ao + 64 * j + l];
                    hi += (q >>> 4) * qs[ao + 64 * j + 32 + l];
                }
                sumi += sc1 * lo + sc2 * hi;
                int bsBase = ao / 16 + 4 * j;
                summ += KQuant.min(w, bo + 4, 2 * j) * (bs[bsBase] + bs[bsBase + 1])
                        + KQuant.min(w, bo + 4, 2 * j + 1) * (bs[bsBase + 2] + bs[bsBase + 3]);
            }
            float dy = ds[ao / 256];
            sum += Bytes.f16(w, bo) * dy * sumi - Bytes.f16(w, bo + 2) * dy * summ;
        }
        return sum;
    }

    @Override
    public void dequantize(MemorySegment w, long wOff, float[] dst, int dstOff, int n) {
        for (int b = 0; b < n / 256; b++) {
            long bo = wOff + (long) b * BLOCK_BYTES;
            float d = Bytes.f16(w, bo);
            float dmin = Bytes.f16(w, bo + 2);
            for (int j = 0; j < 4; j++) {
                float d1 = d * KQuant.scale(w, bo + 4, 2 * j);
                float m1 = dmin * KQuant.min(w, bo + 4, 2 * j);
                float d2 = d * KQuant.scale(w, bo + 4, 2 * j + 1);
                float m2 = dmin * KQuant.min(w, bo + 4, 2 * j + 1);
                for (int l = 0; l < 32; l++) {
                    int q = Bytes.u8(w, bo + 16 + 32 * j + l);
                    dst[dstOff + b * 256 + 64 * j + l] = d1 * (q & 0xf) - m1;
                    dst[dstOff + b * 256 + 64 * j + 32 + l] = d2 * (q >>> 4) - m2;
                }
            }
        }
    }
}
