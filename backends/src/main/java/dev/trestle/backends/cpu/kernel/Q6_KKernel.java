package dev.trestle.backends.cpu.kernel;

import dev.trestle.backends.bytes.Le;
import dev.trestle.backends.cpu.ActivationRows;
import dev.trestle.backends.type.GgmlType;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/** Q6_K (low nibbles ql, 2 high bits qh, 16 int8 scales, F16 d; value = (q6 - 32) * d * scale) against Q8_K. */
public final class Q6_KKernel implements RowKernel {
    private static final VectorSpecies<Integer> I = VectorShapes.I;
    private static final VectorSpecies<Float> FI = VectorShapes.FI;
    private static final VectorSpecies<Byte> B = VectorShapes.B;
    private static final VectorSpecies<Short> S = ShortVector.SPECIES_64.withShape(VectorShape.forBitSize(VectorShapes.LANES * 16));
    private static final int LANES = VectorShapes.LANES;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final int BLOCK_BYTES = 210;

    @Override
    public GgmlType weightType() {
        return GgmlType.Q6_K;
    }

    @Override
    public GgmlType dotType() {
        return GgmlType.Q8_K;
    }

    @Override
    public float dot(MemorySegment w, long wOff, ActivationRows a, int aOff, int n) {
        byte[] qs = a.qs();
        float[] ds = a.scales();
        FloatVector acc = FloatVector.zero(FI);
        for (int b = 0; b < n / 256; b++) {
            long bo = wOff + (long) b * BLOCK_BYTES;
            int ao = aOff + b * 256;
            IntVector isum = IntVector.zero(I);
            for (int half = 0; half < 2; half++) {
                long ql = bo + 64L * half;
                long qh = bo + 128 + 32L * half;
                long sc = bo + 192 + 8L * half;
                int e = ao + 128 * half;
                // the half's eight int8 scales in two reads (one bounds check each instead of one per scale)
                int scLo = Le.i32(w, sc);
                int scHi = Le.i32(w, sc + 4);
                for (int l = 0; l < 32; l += LANES) {
                    int is = l / 16;
                    ByteVector lq = ByteVector.fromMemorySegment(B, w, ql + l, LE);
                    ByteVector lq2 = ByteVector.fromMemorySegment(B, w, ql + l + 32, LE);
                    ByteVector h = ByteVector.fromMemorySegment(B, w, qh + l, LE);
                    // written out inline: C2 does not inline vector helpers here and then boxes every vector
                    ByteVector h2 = h.lanewise(VectorOperators.LSHR, 2);
                    ByteVector h4 = h.lanewise(VectorOperators.LSHR, 4);
                    ByteVector h6 = h.lanewise(VectorOperators.LSHR, 6);
                    // scale * q6 fits in 16 bits (|q| <= 32, |scale| <= 128): one cheap short multiply, then a
                    // single int multiply by the activation; the integer sum is exact, so the result is unchanged
                    ShortVector q1 = (ShortVector) lq.and((byte) 0x0f).or(h.and((byte) 3).lanewise(VectorOperators.LSHL, 4))
                            .sub((byte) 32).convertShape(VectorOperators.B2S, S, 0);
                    ShortVector q2 = (ShortVector) lq2.and((byte) 0x0f).or(h2.and((byte) 3).lanewise(VectorOperators.LSHL, 4))
                            .sub((byte) 32).convertShape(VectorOperators.B2S, S, 0);
                    ShortVector q3 = (ShortVector) lq.lanewise(VectorOperators.LSHR, 4).and((byte) 0x0f)
                            .or(h4.and((byte) 3).lanewise(VectorOperators.LSHL, 4))
                            .sub((byte) 32).convertShape(VectorOperators.B2S, S, 0);
                    ShortVector q4 = (ShortVector) lq2.lanewise(VectorOperators.LSHR, 4).and((byte) 0x0f)
                            .or(h6.and((byte) 3).lanewise(VectorOperators.LSHL, 4))
                            .sub((byte) 32).convertShape(VectorOperators.B2S, S, 0);
                    IntVector w1 = (IntVector) q1.mul((short) (byte) (scLo >> (8 * is))).convertShape(VectorOperators.S2I, I, 0);
                    IntVector w2 = (IntVector) q2.mul((short) (byte) (scLo >> (8 * is + 16))).convertShape(VectorOperators.S2I, I, 0);
                    IntVector w3 = (IntVector) q3.mul((short) (byte) (scHi >> (8 * is))).convertShape(VectorOperators.S2I, I, 0);
                    IntVector w4 = (IntVector) q4.mul((short) (byte) (scHi >> (8 * is + 16))).convertShape(VectorOperators.S2I, I, 0);
                    IntVector x1 = (IntVector) ByteVector.fromArray(B, qs, e + l).convertShape(VectorOperators.B2I, I, 0);
                    IntVector x2 = (IntVector) ByteVector.fromArray(B, qs, e + l + 32)
                            .convertShape(VectorOperators.B2I, I, 0);
                    IntVector x3 = (IntVector) ByteVector.fromArray(B, qs, e + l + 64)
                            .convertShape(VectorOperators.B2I, I, 0);
                    IntVector x4 = (IntVector) ByteVector.fromArray(B, qs, e + l + 96)
                            .convertShape(VectorOperators.B2I, I, 0);
                    isum = isum.add(w1.mul(x1)).add(w2.mul(x2)).add(w3.mul(x3)).add(w4.mul(x4));
                }
            }
            acc = ((FloatVector) isum.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(FI, Le.f16(w, bo + 208) * ds[ao / 256]), acc);
        }
        return FloatReduce.sumLanes(acc);
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
                    int lq = Le.u8(w, ql + l);
                    int lq2 = Le.u8(w, ql + l + 32);
                    int h = Le.u8(w, qh + l);
                    int q1 = ((lq & 0xf) | ((h & 3) << 4)) - 32;
                    int q2 = ((lq2 & 0xf) | (((h >>> 2) & 3) << 4)) - 32;
                    int q3 = ((lq >>> 4) | (((h >>> 4) & 3) << 4)) - 32;
                    int q4 = ((lq2 >>> 4) | (((h >>> 6) & 3) << 4)) - 32;
                    isum += Le.i8(w, sc + is) * q1 * qs[e + l]
                            + Le.i8(w, sc + is + 2) * q2 * qs[e + l + 32]
                            + Le.i8(w, sc + is + 4) * q3 * qs[e + l + 64]
                            + Le.i8(w, sc + is + 6) * q4 * qs[e + l + 96];
                }
            }
            sum += Le.f16(w, bo + 208) * ds[ao / 256] * isum;
        }
        return sum;
    }

    @Override
    public void dequantize(MemorySegment w, long wOff, float[] dst, int dstOff, int n) {
        for (int b = 0; b < n / 256; b++) {
            long bo = wOff + (long) b * BLOCK_BYTES;
            float d = Le.f16(w, bo + 208);
            for (int half = 0; half < 2; half++) {
                long ql = bo + 64L * half;
                long qh = bo + 128 + 32L * half;
                long sc = bo + 192 + 8L * half;
                int e = dstOff + b * 256 + 128 * half;
                for (int l = 0; l < 32; l++) {
                    int is = l / 16;
                    int lq = Le.u8(w, ql + l);
                    int lq2 = Le.u8(w, ql + l + 32);
                    int h = Le.u8(w, qh + l);
                    dst[e + l] = d * Le.i8(w, sc + is) * (((lq & 0xf) | ((h & 3) << 4)) - 32);
                    dst[e + l + 32] = d * Le.i8(w, sc + is + 2) * (((lq2 & 0xf) | (((h >>> 2) & 3) << 4)) - 32);
                    dst[e + l + 64] = d * Le.i8(w, sc + is + 4) * (((lq >>> 4) | (((h >>> 4) & 3) << 4)) - 32);
                    dst[e + l + 96] = d * Le.i8(w, sc + is + 6) * (((lq2 >>> 4) | (((h >>> 6) & 3) << 4)) - 32);
                }
            }
        }
    }
}
