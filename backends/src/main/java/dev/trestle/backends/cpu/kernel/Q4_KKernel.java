package dev.trestle.backends.cpu.kernel;

import dev.trestle.backends.bytes.Le;
import dev.trestle.backends.cpu.ActivationRows;
import dev.trestle.backends.type.GgmlType;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/** Q4_K (256-element super-blocks: F16 d and dmin, 8 6-bit scales/mins, nibbles) against Q8_K activations. */
public final class Q4_KKernel implements RowKernel {
    private static final VectorSpecies<Integer> I = VectorShapes.I;
    private static final VectorSpecies<Float> FI = VectorShapes.FI;
    private static final VectorSpecies<Byte> B = VectorShapes.B;
    private static final int LANES = VectorShapes.LANES;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final int BLOCK_BYTES = 144;

    @Override
    public GgmlType weightType() {
        return GgmlType.Q4_K;
    }

    @Override
    public GgmlType dotType() {
        return GgmlType.Q8_K;
    }

    @Override
    public float dot(MemorySegment w, long wOff, ActivationRows a, int aOff, int n) {
        byte[] qs = a.qs();
        float[] ds = a.scales();
        short[] bs = a.bsums();
        FloatVector acc = FloatVector.zero(FI);
        float mins = 0f;
        for (int b = 0; b < n / 256; b++) {
            long bo = wOff + (long) b * BLOCK_BYTES;
            int ao = aOff + b * 256;
            IntVector sumi = IntVector.zero(I);
            int summ = 0;
            for (int j = 0; j < 4; j++) {
                IntVector lo = IntVector.zero(I);
                IntVector hi = IntVector.zero(I);
                for (int l = 0; l < 32; l += LANES) {
                    ByteVector q = ByteVector.fromMemorySegment(B, w, bo + 16 + 32 * j + l, LE);
                    IntVector ql = (IntVector) q.and((byte) 0x0f).convertShape(VectorOperators.B2I, I, 0);
                    IntVector qh = (IntVector) q.lanewise(VectorOperators.LSHR, 4).and((byte) 0x0f)
                            .convertShape(VectorOperators.B2I, I, 0);
                    IntVector x0 = (IntVector) ByteVector.fromArray(B, qs, ao + 64 * j + l)
                            .convertShape(VectorOperators.B2I, I, 0);
                    IntVector x1 = (IntVector) ByteVector.fromArray(B, qs, ao + 64 * j + 32 + l)
                            .convertShape(VectorOperators.B2I, I, 0);
                    lo = lo.add(ql.mul(x0));
                    hi = hi.add(qh.mul(x1));
                }
                sumi = sumi.add(lo.mul(KQuant.scale(w, bo + 4, 2 * j))).add(hi.mul(KQuant.scale(w, bo + 4, 2 * j + 1)));
                int bsBase = ao / 16 + 4 * j;
                summ += KQuant.min(w, bo + 4, 2 * j) * (bs[bsBase] + bs[bsBase + 1])
                        + KQuant.min(w, bo + 4, 2 * j + 1) * (bs[bsBase + 2] + bs[bsBase + 3]);
            }
            float dy = ds[ao / 256];
            acc = ((FloatVector) sumi.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(FI, Le.f16(w, bo) * dy), acc);
            mins += Le.f16(w, bo + 2) * dy * summ;
        }
        return FloatReduce.sumLanes(acc) - mins;
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
                    int q = Le.u8(w, bo + 16 + 32 * j + l);
                    lo += (q & 0xf) * qs[ao + 64 * j + l];
                    hi += (q >>> 4) * qs[ao + 64 * j + 32 + l];
                }
                sumi += sc1 * lo + sc2 * hi;
                int bsBase = ao / 16 + 4 * j;
                summ += KQuant.min(w, bo + 4, 2 * j) * (bs[bsBase] + bs[bsBase + 1])
                        + KQuant.min(w, bo + 4, 2 * j + 1) * (bs[bsBase + 2] + bs[bsBase + 3]);
            }
            float dy = ds[ao / 256];
            sum += Le.f16(w, bo) * dy * sumi - Le.f16(w, bo + 2) * dy * summ;
        }
        return sum;
    }

    @Override
    public void dequantize(MemorySegment w, long wOff, float[] dst, int dstOff, int n) {
        for (int b = 0; b < n / 256; b++) {
            long bo = wOff + (long) b * BLOCK_BYTES;
            float d = Le.f16(w, bo);
            float dmin = Le.f16(w, bo + 2);
            for (int j = 0; j < 4; j++) {
                float d1 = d * KQuant.scale(w, bo + 4, 2 * j);
                float m1 = dmin * KQuant.min(w, bo + 4, 2 * j);
                float d2 = d * KQuant.scale(w, bo + 4, 2 * j + 1);
                float m2 = dmin * KQuant.min(w, bo + 4, 2 * j + 1);
                for (int l = 0; l < 32; l++) {
                    int q = Le.u8(w, bo + 16 + 32 * j + l);
                    dst[dstOff + b * 256 + 64 * j + l] = d1 * (q & 0xf) - m1;
                    dst[dstOff + b * 256 + 64 * j + 32 + l] = d2 * (q >>> 4) - m2;
                }
            }
        }
    }
}
