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

/** Q6_K (low nibbles ql, 2 high bits qh, 16 int8 scales, F16 d; value = (q6 - 32) * d * scale) against Q8_K. */
public final class Q6_KKernel implements RowKernel {
    private static final int BLOCK_BYTES = 210;
    // One lane per element at every width: L bytes -> L shorts -> L ints (16 lanes on AVX-512, 8 on AVX2).
    private static final int L = Math.min(IntVector.SPECIES_PREFERRED.length(), 16);
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, VectorShape.forBitSize(L * 32));
    private static final VectorSpecies<Short> S = VectorSpecies.of(short.class, VectorShape.forBitSize(L * 16));
    private static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class, VectorShape.forBitSize(L * 8));

    @Override
    public GgmlType weightType() {
        return GgmlType.Q6_K;
    }

    @Override
    public GgmlType dotType() {
        return GgmlType.Q8_K;
    }

    /**
     * The scalar reference's integer sum, L elements at a time: 6-bit values rebuilt from nibbles and high bit
     * pairs in byte lanes, products summed in int lanes with the 8-bit scales; one cross-lane sum per
     * super-block, so the result is bit-identical.
     */
    @Override
    public float dot(MemorySegment w, long wOff, ActivationRows a, int aOff, int n) {
        byte[] qs = a.qs();
        float[] ds = a.scales();
        float sum = 0f;
        for (int b = 0; b < n / 256; b++) {
            long bo = wOff + (long) b * BLOCK_BYTES;
            int ao = aOff + b * 256;
            IntVector acc = IntVector.zero(I);
            for (int half = 0; half < 2; half++) {
                long ql = bo + 64L * half;
                long qh = bo + 128 + 32L * half;
                long sc = bo + 192 + 8L * half;
                int e = ao + 128 * half;
                for (int l = 0; l < 32; l += L) {
                    int is = l / 16;
                    ByteVector lq = ByteVector.fromMemorySegment(B, w, ql + l, ByteOrder.LITTLE_ENDIAN);
                    ByteVector lq2 = ByteVector.fromMemorySegment(B, w, ql + l + 32, ByteOrder.LITTLE_ENDIAN);
                    ByteVector h = ByteVector.fromMemorySegment(B, w, qh + l, ByteOrder.LITTLE_ENDIAN);
                    ByteVector q1 = lq.and((byte) 0x0f).or(h.and((byte) 3).lanewise(VectorOperators.LSHL, 4))
                            .sub((byte) 32);
                    ByteVector q2 = lq2.and((byte) 0x0f)
                            .or(h.lanewise(VectorOperators.LSHR, 2).and((byte) 3).lanewise(VectorOperators.LSHL, 4))
                            .sub((byte) 32);
                    ByteVector q3 = lq.lanewise(VectorOperators.LSHR, 4)
                            .or(h.lanewise(VectorOperators.LSHR, 4).and((byte) 3).lanewise(VectorOperators.LSHL, 4))
                            .sub((byte) 32);
                    ByteVector q4 = lq2.lanewise(VectorOperators.LSHR, 4)
                            .or(h.lanewise(VectorOperators.LSHR, 6).lanewise(VectorOperators.LSHL, 4))
                            .sub((byte) 32);
                    acc = acc.add(product(q1, qs, e + l).mul(Bytes.i8(w, sc + is)))
                            .add(product(q2, qs, e + l + 32).mul(Bytes.i8(w, sc + is + 2)))
                            .add(product(q3, qs, e + l + 64).mul(Bytes.i8(w, sc + is + 4)))
                            .add(product(q4, qs, e + l + 96).mul(Bytes.i8(w, sc + is + 6)));
                }
            }
            sum += Bytes.f16(w, bo + 208) * ds[ao / 256] * acc.reduceLanes(VectorOperators.ADD);
        }
        return sum;
    }

    /** Four tokens per pass share each decoded weight vector; per token the integer sums are {@link #dot}'s. */
    @Override
    public void dotTokens(MemorySegment w, long wOff, ActivationRows a, int aOff, int n, int tokens, float[] out,
                          int outOff, int outStride) {
        int t = 0;
        for (; t + 4 <= tokens; t += 4) {
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
        float s0 = 0f;
        float s1 = 0f;
        float s2 = 0f;
        float s3 = 0f;
        for (int b = 0; b < n / 256; b++) {
            long bo = wOff + (long) b * BLOCK_BYTES;
            int ao = aOff + b * 256;
            IntVector acc0 = IntVector.zero(I);
            IntVector acc1 = IntVector.zero(I);
            IntVector acc2 = IntVector.zero(I);
            IntVector acc3 = IntVector.zero(I);
            for (int half = 0; half < 2; half++) {
                long ql = bo + 64L * half;
                long qh = bo + 128 + 32L * half;
                long sc = bo + 192 + 8L * half;
                int e = ao + 128 * half;
                for (int l = 0; l < 32; l += L) {
                    int is = l / 16;
                    ByteVector lq = ByteVector.fromMemorySegment(B, w, ql + l, ByteOrder.LITTLE_ENDIAN);
                    ByteVector lq2 = ByteVector.fromMemorySegment(B, w, ql + l + 32, ByteOrder.LITTLE_ENDIAN);
                    ByteVector h = ByteVector.fromMemorySegment(B, w, qh + l, ByteOrder.LITTLE_ENDIAN);
                    ShortVector q1 = widen(lq.and((byte) 0x0f).or(h.and((byte) 3).lanewise(VectorOperators.LSHL, 4))
                            .sub((byte) 32));
                    ShortVector q2 = widen(lq2.and((byte) 0x0f)
                            .or(h.lanewise(VectorOperators.LSHR, 2).and((byte) 3).lanewise(VectorOperators.LSHL, 4))
                            .sub((byte) 32));
                    ShortVector q3 = widen(lq.lanewise(VectorOperators.LSHR, 4)
                            .or(h.lanewise(VectorOperators.LSHR, 4).and((byte) 3).lanewise(VectorOperators.LSHL, 4))
                            .sub((byte) 32));
                    ShortVector q4 = widen(lq2.lanewise(VectorOperators.LSHR, 4)
                            .or(h.lanewise(VectorOperators.LSHR, 6).lanewise(VectorOperators.LSHL, 4))
                            .sub((byte) 32));
                    int c1 = Bytes.i8(w, sc + is);
                    int c2 = Bytes.i8(w, sc + is + 2);
                    int c3 = Bytes.i8(w, sc + is + 4);
                    int c4 = Bytes.i8(w, sc + is + 6);
                    acc0 = quad(acc0, q1, q2, q3, q4, c1, c2, c3, c4, qs, e + l);
                    acc1 = quad(acc1, q1, q2, q3, q4, c1, c2, c3, c4, qs, e + l + n);
                    acc2 = quad(acc2, q1, q2, q3, q4, c1, c2, c3, c4, qs, e + l + 2 * n);
                    acc3 = quad(acc3, q1, q2, q3, q4, c1, c2, c3, c4, qs, e + l + 3 * n);
                }
            }
            float d = Bytes.f16(w, bo + 208);
            s0 += d * ds[ao / 256] * acc0.reduceLanes(VectorOperators.ADD);
            s1 += d * ds[(ao + n) / 256] * acc1.reduceLanes(VectorOperators.ADD);
            s2 += d * ds[(ao + 2 * n) / 256] * acc2.reduceLanes(VectorOperators.ADD);
            s3 += d * ds[(ao + 3 * n) / 256] * acc3.reduceLanes(VectorOperators.ADD);
        }
        out[outOff] = s0;
        out[outOff + outStride] = s1;
        out[outOff + 2 * outStride] = s2;
        out[outOff + 3 * outStride] = s3;
    }

    private static ShortVector widen(ByteVector v) {
        return (ShortVector) v.convertShape(VectorOperators.B2S, S, 0);
    }

    /** One token's four scaled products at activation offset {@code x} (the four quarter-blocks 32 apart). */
    private static IntVector quad(IntVector acc, ShortVector q1, ShortVector q2, ShortVector q3, ShortVector q4,
                                  int c1, int c2, int c3, int c4, byte[] qs, int x) {
        return acc.add(times(q1, qs, x).mul(c1)).add(times(q2, qs, x + 32).mul(c2))
                .add(times(q3, qs, x + 64).mul(c3)).add(times(q4, qs, x + 96).mul(c4));
    }

    private static IntVector times(ShortVector q, byte[] x, int off) {
        ShortVector xv = (ShortVector) ByteVector.fromArray(B, x, off).convertShape(VectorOperators.B2S, S, 0);
        return (IntVector) q.mul(xv).convertShape(VectorOperators.S2I, I, 0);
    }

    /** Lane products of signed weights and the activation quants at {@code off}, exact in ints. */
    private static IntVector product(ByteVector q, byte[] x, int off) {
        ShortVector qv = (ShortVector) q.convertShape(VectorOperators.B2S, S, 0);
        ShortVector xv = (ShortVector) ByteVector.fromArray(B, x, off).convertShape(VectorOperators.B2S, S, 0);
        return (IntVector) qv.mul(xv).convertShape(VectorOperators.S2I, I, 0);
    }

    /** Scalar reference of {@link #dot}. */
    public static float dotScalar(MemorySegment w, long wOff, ActivationRows a, int aOff, int n) {
        byte[] qs = a.qs();
        float[] ds = a.scales();
        float sum = 0f;
        for (int b = 0; b < n / 256; b++) {
            long bo = wOff + (long) b * BLOCK_BYTES;
            int ao = aOff + b * 256;
            int isum = 0;
            for (int half = 0; half < 2; half++) {
                long ql = bo + 64L * half;
                long qh = bo + 128 + 32L * half;
                long sc = bo + 192 + 8L * half;
                int e = ao + 128 * half;
                for (int l = 0; l < 32; l++) {
                    int is = l / 16;
                    int lq = Bytes.u8(w, ql + l);
                    int lq2 = Bytes.u8(w, ql + l + 32);
                    int h = Bytes.u8(w, qh + l);
                    int q1 = ((lq & 0xf) | ((h & 3) << 4)) - 32;
                    int q2 = ((lq2 & 0xf) | (((h >>> 2) & 3) << 4)) - 32;
                    int q3 = ((lq >>> 4) | (((h >>> 4) & 3) << 4)) - 32;
                    int q4 = ((lq2 >>> 4) | (((h >>> 6) & 3) << 4)) - 32;
                    isum += Bytes.i8(w, sc + is) * q1 * qs[e + l]
                            + Bytes.i8(w, sc + is + 2) * q2 * qs[e + l + 32]
                            + Bytes.i8(w, sc + is + 4) * q3 * qs[e + l + 64]
                            + Bytes.i8(w, sc + is + 6) * q4 * qs[e + l + 96];
                }
            }
            sum += Bytes.f16(w, bo + 208) * ds[ao / 256] * isum;
        }
        return sum;
    }

    @Override
    public void dequantize(MemorySegment w, long wOff, float[] dst, int dstOff, int n) {
        for (int b = 0; b < n / 256; b++) {
            long bo = wOff + (long) b * BLOCK_BYTES;
            float d = Bytes.f16(w, bo + 208);
            for (int half = 0; half < 2; half++) {
                long ql = bo + 64L * half;
                long qh = bo + 128 + 32L * half;
                long sc = bo + 192 + 8L * half;
                int e = dstOff + b * 256 + 128 * half;
                for (int l = 0; l < 32; l++) {
                    int is = l / 16;
                    int lq = Bytes.u8(w, ql + l);
                    int lq2 = Bytes.u8(w, ql + l + 32);
                    int h = Bytes.u8(w, qh + l);
                    dst[e + l] = d * Bytes.i8(w, sc + is) * (((lq & 0xf) | ((h & 3) << 4)) - 32);
                    dst[e + l + 32] = d * Bytes.i8(w, sc + is + 2) * (((lq2 & 0xf) | (((h >>> 2) & 3) << 4)) - 32);
                    dst[e + l + 64] = d * Bytes.i8(w, sc + is + 4) * (((lq >>> 4) | (((h >>> 4) & 3) << 4)) - 32);
                    dst[e + l + 96] = d * Bytes.i8(w, sc + is + 6) * (((lq2 >>> 4) | (((h >>> 6) & 3) << 4)) - 32);
                }
            }
        }
    }
}
