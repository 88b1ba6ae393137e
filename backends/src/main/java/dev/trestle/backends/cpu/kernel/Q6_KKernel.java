package dev.trestle.backends.cpu.kernel;

import dev.trestle.backends.cpu.ActivationRows;
import dev.trestle.backends.type.GgmlType;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/** Q6_K (low nibbles ql, 2 high bits qh, 16 int8 scales, F16 d; value = (q6 - 32) * d * scale) against Q8_K. */
public final class Q6_KKernel implements RowKernel {
    private static final int BLOCK_BYTES = 210;
    // One lane per element at every width: L bytes -> L shorts -> L floats (16 lanes on AVX-512, 8 on AVX2).
    private static final int L = Math.min(FloatVector.SPECIES_PREFERRED.length(), 16);
    private static final VectorSpecies<Float> F = VectorSpecies.of(float.class, VectorShape.forBitSize(L * 32));
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
     * 6-bit values rebuilt from nibbles and high bit pairs in short lanes; per 16-element group the products are
     * formed in shorts (exact), widened to floats and added with the group's combined scale
     * {@code d * d_y * scale} into a float accumulator: no integer multiplies, one cross-lane sum per row.
     */
    @Override
    public float dot(MemorySegment w, long wOff, ActivationRows a, int aOff, int n) {
        byte[] qs = a.qs();
        float[] ds = a.scales();
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < n / 256; b++) {
            long bo = wOff + (long) b * BLOCK_BYTES;
            int ao = aOff + b * 256;
            float d = Bytes.f16(w, bo + 208) * ds[ao / 256];
            for (int half = 0; half < 2; half++) {
                long ql = bo + 64L * half;
                long qh = bo + 128 + 32L * half;
                long sc = bo + 192 + 8L * half;
                int e = ao + 128 * half;
                for (int l = 0; l < 32; l += L) {
                    int is = l / 16;
                    // x86 has no byte shifts: rebuild the 6-bit values in short lanes
                    ShortVector lq = ((ShortVector) ByteVector.fromMemorySegment(B, w, ql + l, ByteOrder.LITTLE_ENDIAN)
                            .convertShape(VectorOperators.B2S, S, 0)).and((short) 0xff);
                    ShortVector lq2 = ((ShortVector) ByteVector.fromMemorySegment(B, w, ql + l + 32, ByteOrder.LITTLE_ENDIAN)
                            .convertShape(VectorOperators.B2S, S, 0)).and((short) 0xff);
                    ShortVector h = ((ShortVector) ByteVector.fromMemorySegment(B, w, qh + l, ByteOrder.LITTLE_ENDIAN)
                            .convertShape(VectorOperators.B2S, S, 0)).and((short) 0xff);
                    ShortVector q1 = lq.and((short) 0x0f).or(h.and((short) 3).lanewise(VectorOperators.LSHL, 4))
                            .sub((short) 32);
                    ShortVector q2 = lq2.and((short) 0x0f)
                            .or(h.lanewise(VectorOperators.LSHR, 2).and((short) 3).lanewise(VectorOperators.LSHL, 4))
                            .sub((short) 32);
                    ShortVector q3 = lq.lanewise(VectorOperators.LSHR, 4)
                            .or(h.lanewise(VectorOperators.LSHR, 4).and((short) 3).lanewise(VectorOperators.LSHL, 4))
                            .sub((short) 32);
                    ShortVector q4 = lq2.lanewise(VectorOperators.LSHR, 4)
                            .or(h.lanewise(VectorOperators.LSHR, 6).lanewise(VectorOperators.LSHL, 4))
                            .sub((short) 32);
                    ShortVector x1 = (ShortVector) ByteVector.fromArray(B, qs, e + l).convertShape(VectorOperators.B2S, S, 0);
                    acc = ((FloatVector) q1.mul(x1).convertShape(VectorOperators.S2F, F, 0))
                            .fma(FloatVector.broadcast(F, d * Bytes.i8(w, sc + is)), acc);
                    ShortVector x2 = (ShortVector) ByteVector.fromArray(B, qs, e + l + 32).convertShape(VectorOperators.B2S, S, 0);
                    acc = ((FloatVector) q2.mul(x2).convertShape(VectorOperators.S2F, F, 0))
                            .fma(FloatVector.broadcast(F, d * Bytes.i8(w, sc + is + 2)), acc);
                    ShortVector x3 = (ShortVector) ByteVector.fromArray(B, qs, e + l + 64).convertShape(VectorOperators.B2S, S, 0);
                    acc = ((FloatVector) q3.mul(x3).convertShape(VectorOperators.S2F, F, 0))
                            .fma(FloatVector.broadcast(F, d * Bytes.i8(w, sc + is + 4)), acc);
                    ShortVector x4 = (ShortVector) ByteVector.fromArray(B, qs, e + l + 96).convertShape(VectorOperators.B2S, S, 0);
                    acc = ((FloatVector) q4.mul(x4).convertShape(VectorOperators.S2F, F, 0))
                            .fma(FloatVector.broadcast(F, d * Bytes.i8(w, sc + is + 6)), acc);
                }
            }
        }
        return acc.reduceLanes(VectorOperators.ADD);
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
