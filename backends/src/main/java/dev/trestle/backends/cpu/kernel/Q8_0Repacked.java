package dev.trestle.backends.cpu.kernel;

import dev.trestle.backends.bytes.Le;
import dev.trestle.backends.cpu.ActivationRows;
import dev.trestle.backends.cpu.x86.VnniMatmul;
import dev.trestle.backends.type.GgmlType;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Q8_0 repacked into groups of {@link #G} rows (32 on AVX-512), two halves of {@link #H} rows. Per 32-element block
 * the group stores its {@code G} weight scales as stored (F16), then for {@code m = 0..7} and each half a chunk of
 * {@code H} ints: int {@code i} is quants {@code 4m..4m+3} of row {@code half * H + i}. Read as shorts and split
 * into low and high bytes, lane {@code 2i} holds elements {@code 4m, 4m+1} and lane {@code 2i+1} elements {@code
 * 4m+2, 4m+3}, multiplied by 32-bit broadcasts of {@link ActivationRows#pairs()}.
 *
 * <p>Numerics: one product is at most 128 * 127 = 16256 in magnitude, so the two products of a short lane sum
 * exactly in 16 bits; the two lanes of a row are added in int lanes into the block's exact integer dot, then each
 * row adds {@code float(isum) * (d_w * d_x)} with one fma per block in block order ({@link #dotScalar}), the same
 * for every token count and JIT tier.
 */
public final class Q8_0Repacked extends TripledRepackedKernel {
    private static final int SRC_BLOCK = 34;
    private static final int BLOCK = SCALES + 16 * CHUNK;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    public Q8_0Repacked() {
        super(VnniMatmul.forType(GgmlType.Q8_0));
    }

    @Override
    public GgmlType weightType() {
        return GgmlType.Q8_0;
    }

    @Override
    public long groupBytes(int cols) {
        return (long) (cols / 32) * BLOCK;
    }

    @Override
    public void repack(MemorySegment src, long srcOff, long rowBytes, int cols, MemorySegment dst, long dstOff) {
        repackBlocks(src, srcOff, rowBytes, cols, dst, dstOff, SRC_BLOCK, 8, BLOCK);
    }

    /** One activation row: the decode matvec. */
    @Override
    void multiply1(MemorySegment w, long groupOff, int cols, ActivationRows a, int r0, float[] out,
                   int o0) {
        int[] xp = a.pairs();
        // shift counts as a vector: C2 compiles a short-lane shift by a constant int as three instructions
        ShortVector eight = ShortVector.broadcast(S, (short) 8);
        float[] ds = a.scales();
        int blocks = cols / 32;
        int p0 = r0 * (cols / 2);
        int d0 = r0 * blocks;
        FloatVector lo0 = FloatVector.zero(F);
        FloatVector hi0 = FloatVector.zero(F);
        for (int b = 0; b < blocks; b++) {
            long bo = groupOff + (long) b * BLOCK;
            int pb = b * 16;
            IntVector a0 = IntVector.zero(I);
            IntVector c0 = IntVector.zero(I);
            for (int m = 0; m < 8; m++) {
                long co = bo + SCALES + (long) (2 * m) * CHUNK;
                ShortVector v = ShortVector.fromMemorySegment(S, w, co, LE);
                ShortVector u = ShortVector.fromMemorySegment(S, w, co + CHUNK, LE);
                ShortVector ve = v.reinterpretAsInts().lanewise(VectorOperators.LSHL, 8).reinterpretAsShorts()
                        .lanewise(VectorOperators.ASHR, eight);
                ShortVector vo = v.lanewise(VectorOperators.ASHR, eight);
                ShortVector ue = u.reinterpretAsInts().lanewise(VectorOperators.LSHL, 8).reinterpretAsShorts()
                        .lanewise(VectorOperators.ASHR, eight);
                ShortVector uo = u.lanewise(VectorOperators.ASHR, eight);
                int i0 = p0 + pb + 2 * m;
                ShortVector x0 = IntVector.broadcast(I, xp[i0]).reinterpretAsShorts();
                ShortVector y0 = IntVector.broadcast(I, xp[i0 + 1]).reinterpretAsShorts();
                IntVector f0 = ve.mul(x0).add(vo.mul(y0)).reinterpretAsInts();
                IntVector g0 = ue.mul(x0).add(uo.mul(y0)).reinterpretAsInts();
                a0 = a0.add(f0.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16))
                        .add(f0.lanewise(VectorOperators.ASHR, 16));
                c0 = c0.add(g0.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16))
                        .add(g0.lanewise(VectorOperators.ASHR, 16));
            }
            // the scales as stored (F16), widened exactly: sign-extended bits moved into a float's place, the three
            // copies of the sign between sign and exponent cleared, rescaled by 2^112 (finite values)
            FloatVector dl = ((IntVector) ShortVector.fromMemorySegment(SH, w, bo, LE)
                    .convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 13).and(F16_BITS)
                    .reinterpretAsFloats().mul(0x1p112f);
            FloatVector dh = ((IntVector) ShortVector.fromMemorySegment(SH, w, bo + 2L * H, LE)
                    .convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 13).and(F16_BITS)
                    .reinterpretAsFloats().mul(0x1p112f);
            float e0 = ds[d0 + b];
            lo0 = ((FloatVector) a0.convert(VectorOperators.I2F, 0)).fma(dl.mul(e0), lo0);
            hi0 = ((FloatVector) c0.convert(VectorOperators.I2F, 0)).fma(dh.mul(e0), hi0);
        }
        lo0.intoArray(out, o0);
        hi0.intoArray(out, o0 + H);
    }

    /** Three activation rows: each unpacked weight vector feeds three tokens (prefill, routed expert tokens). */
    @Override
    void multiply3(MemorySegment w, long groupOff, int cols, ActivationRows a, int r0, int r1, int r2,
                   float[] out, int o0, int o1, int o2) {
        int[] xp = a.pairs();
        // shift counts as a vector: C2 compiles a short-lane shift by a constant int as three instructions
        ShortVector eight = ShortVector.broadcast(S, (short) 8);
        float[] ds = a.scales();
        int blocks = cols / 32;
        int p0 = r0 * (cols / 2);
        int d0 = r0 * blocks;
        FloatVector lo0 = FloatVector.zero(F);
        FloatVector hi0 = FloatVector.zero(F);
        int p1 = r1 * (cols / 2);
        int d1 = r1 * blocks;
        FloatVector lo1 = FloatVector.zero(F);
        FloatVector hi1 = FloatVector.zero(F);
        int p2 = r2 * (cols / 2);
        int d2 = r2 * blocks;
        FloatVector lo2 = FloatVector.zero(F);
        FloatVector hi2 = FloatVector.zero(F);
        for (int b = 0; b < blocks; b++) {
            long bo = groupOff + (long) b * BLOCK;
            int pb = b * 16;
            IntVector a0 = IntVector.zero(I);
            IntVector c0 = IntVector.zero(I);
            IntVector a1 = IntVector.zero(I);
            IntVector c1 = IntVector.zero(I);
            IntVector a2 = IntVector.zero(I);
            IntVector c2 = IntVector.zero(I);
            for (int m = 0; m < 8; m++) {
                long co = bo + SCALES + (long) (2 * m) * CHUNK;
                ShortVector v = ShortVector.fromMemorySegment(S, w, co, LE);
                ShortVector u = ShortVector.fromMemorySegment(S, w, co + CHUNK, LE);
                ShortVector ve = v.reinterpretAsInts().lanewise(VectorOperators.LSHL, 8).reinterpretAsShorts()
                        .lanewise(VectorOperators.ASHR, eight);
                ShortVector vo = v.lanewise(VectorOperators.ASHR, eight);
                ShortVector ue = u.reinterpretAsInts().lanewise(VectorOperators.LSHL, 8).reinterpretAsShorts()
                        .lanewise(VectorOperators.ASHR, eight);
                ShortVector uo = u.lanewise(VectorOperators.ASHR, eight);
                int i0 = p0 + pb + 2 * m;
                ShortVector x0 = IntVector.broadcast(I, xp[i0]).reinterpretAsShorts();
                ShortVector y0 = IntVector.broadcast(I, xp[i0 + 1]).reinterpretAsShorts();
                IntVector f0 = ve.mul(x0).add(vo.mul(y0)).reinterpretAsInts();
                IntVector g0 = ue.mul(x0).add(uo.mul(y0)).reinterpretAsInts();
                a0 = a0.add(f0.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16))
                        .add(f0.lanewise(VectorOperators.ASHR, 16));
                c0 = c0.add(g0.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16))
                        .add(g0.lanewise(VectorOperators.ASHR, 16));
                int i1 = p1 + pb + 2 * m;
                ShortVector x1 = IntVector.broadcast(I, xp[i1]).reinterpretAsShorts();
                ShortVector y1 = IntVector.broadcast(I, xp[i1 + 1]).reinterpretAsShorts();
                IntVector f1 = ve.mul(x1).add(vo.mul(y1)).reinterpretAsInts();
                IntVector g1 = ue.mul(x1).add(uo.mul(y1)).reinterpretAsInts();
                a1 = a1.add(f1.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16))
                        .add(f1.lanewise(VectorOperators.ASHR, 16));
                c1 = c1.add(g1.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16))
                        .add(g1.lanewise(VectorOperators.ASHR, 16));
                int i2 = p2 + pb + 2 * m;
                ShortVector x2 = IntVector.broadcast(I, xp[i2]).reinterpretAsShorts();
                ShortVector y2 = IntVector.broadcast(I, xp[i2 + 1]).reinterpretAsShorts();
                IntVector f2 = ve.mul(x2).add(vo.mul(y2)).reinterpretAsInts();
                IntVector g2 = ue.mul(x2).add(uo.mul(y2)).reinterpretAsInts();
                a2 = a2.add(f2.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16))
                        .add(f2.lanewise(VectorOperators.ASHR, 16));
                c2 = c2.add(g2.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16))
                        .add(g2.lanewise(VectorOperators.ASHR, 16));
            }
            // the scales as stored (F16), widened exactly: sign-extended bits moved into a float's place, the three
            // copies of the sign between sign and exponent cleared, rescaled by 2^112 (finite values)
            FloatVector dl = ((IntVector) ShortVector.fromMemorySegment(SH, w, bo, LE)
                    .convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 13).and(F16_BITS)
                    .reinterpretAsFloats().mul(0x1p112f);
            FloatVector dh = ((IntVector) ShortVector.fromMemorySegment(SH, w, bo + 2L * H, LE)
                    .convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 13).and(F16_BITS)
                    .reinterpretAsFloats().mul(0x1p112f);
            float e0 = ds[d0 + b];
            lo0 = ((FloatVector) a0.convert(VectorOperators.I2F, 0)).fma(dl.mul(e0), lo0);
            hi0 = ((FloatVector) c0.convert(VectorOperators.I2F, 0)).fma(dh.mul(e0), hi0);
            float e1 = ds[d1 + b];
            lo1 = ((FloatVector) a1.convert(VectorOperators.I2F, 0)).fma(dl.mul(e1), lo1);
            hi1 = ((FloatVector) c1.convert(VectorOperators.I2F, 0)).fma(dh.mul(e1), hi1);
            float e2 = ds[d2 + b];
            lo2 = ((FloatVector) a2.convert(VectorOperators.I2F, 0)).fma(dl.mul(e2), lo2);
            hi2 = ((FloatVector) c2.convert(VectorOperators.I2F, 0)).fma(dh.mul(e2), hi2);
        }
        lo0.intoArray(out, o0);
        hi0.intoArray(out, o0 + H);
        lo1.intoArray(out, o1);
        hi1.intoArray(out, o1 + H);
        lo2.intoArray(out, o2);
        hi2.intoArray(out, o2 + H);
    }

    /**
     * Scalar reference of one row of {@link #multiply}, read from the stored (not repacked) row: exact integer
     * block dots, one fma per block in block order.
     */
    public static float dotScalar(MemorySegment w, long wOff, ActivationRows a, int aOff, int n) {
        byte[] qs = a.qs();
        float[] ds = a.scales();
        float acc = 0f;
        for (int b = 0; b < n / 32; b++) {
            long bo = wOff + (long) b * SRC_BLOCK;
            int ao = aOff + b * 32;
            int isum = 0;
            for (int j = 0; j < 32; j++) {
                isum += Le.i8(w, bo + 2 + j) * qs[ao + j];
            }
            acc = Math.fma((float) isum, Le.f16(w, bo) * ds[ao / 32], acc);
        }
        return acc;
    }
}
