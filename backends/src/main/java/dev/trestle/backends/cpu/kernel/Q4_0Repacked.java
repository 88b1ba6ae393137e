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
 * Q4_0 repacked into groups of {@link #G} rows (32 on AVX-512), two halves of {@link #H} rows. Per 32-element block
 * the group stores its {@code G} weight scales as stored (F16), then for {@code k = 0..3} and each half a chunk of
 * {@code H} ints: int {@code i} is stored bytes {@code 4k..4k+3} of row {@code half * H + i}, the nibbles as stored
 * (the unsigned code {@code q}, weight {@code q - 8}). Read as shorts, lane {@code 2i} holds the nibbles of elements
 * {@code 4k, 4k+16, 4k+1, 4k+17} of row {@code i} and lane {@code 2i+1} those of elements {@code 4k+2, 4k+18, 4k+3,
 * 4k+19}: one shift pair gives a vector that multiplies one 32-bit broadcast of {@link ActivationRows#pairs()}
 * (elements {@code e, e+2}). Two short lanes per row, summed once per block.
 *
 * <p>Numerics: a short lane sums 16 products {@code q * x} (at most 16 * 15 * 127 = 30480 in magnitude), exactly;
 * the block's dot is then {@code sum(q * x) - 8 * sum(x)} ({@link ActivationRows#qsums()}), the same integer as
 * {@code sum((q - 8) * x)}. That dot is at most 32 * 8 * 127 = 32512 in magnitude, so it is computed modulo 2^16
 * in the high half of each int lane ({@code f + (f << 16) - (m << 16)}, the row's two short lanes plus the
 * offset) and sign-extended by one shift: exact, one operation fewer than widening the two lanes first. Each row
 * then adds {@code float(isum) * (d_w * d_x)} with one fma per block in block order ({@link #dotScalar}), the same
 * for every token count and JIT tier.
 */
public final class Q4_0Repacked extends TripledRepackedKernel {
    private static final int SRC_BLOCK = 18;
    private static final int BLOCK = SCALES + 8 * CHUNK;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    /**
     * The low nibble of both shorts of an int: nibbles are shifted in int lanes, which C2 compiles to immediate
     * shifts (a short-lane shift loads its count into a register every time).
     */
    private static final int LOW_NIBBLES = 0x000f000f;

    public Q4_0Repacked() {
        super(VnniMatmul.forType(GgmlType.Q4_0));
    }

    @Override
    public GgmlType weightType() {
        return GgmlType.Q4_0;
    }

    @Override
    public long groupBytes(int cols) {
        return (long) (cols / 32) * BLOCK;
    }

    @Override
    public void repack(MemorySegment src, long srcOff, long rowBytes, int cols, MemorySegment dst, long dstOff) {
        repackBlocks(src, srcOff, rowBytes, cols, dst, dstOff, SRC_BLOCK, 4, BLOCK);
    }

    /** One activation row: the decode matvec. */
    @Override
    void multiply1(MemorySegment w, long groupOff, int cols, ActivationRows a, int r0, float[] out,
                   int o0) {
        int[] xp = a.pairs();
        int[] qsums = a.qsums();
        float[] ds = a.scales();
        int blocks = cols / 32;
        int p0 = r0 * (cols / 2);
        int d0 = r0 * blocks;
        FloatVector lo0 = FloatVector.zero(F);
        FloatVector hi0 = FloatVector.zero(F);
        for (int b = 0; b < blocks; b++) {
            long bo = groupOff + (long) b * BLOCK;
            int pb = b * 16;
            ShortVector a0 = ShortVector.zero(S);
            ShortVector c0 = ShortVector.zero(S);
            for (int k = 0; k < 4; k++) {
                long co = bo + SCALES + (long) (2 * k) * CHUNK;
                IntVector v = IntVector.fromMemorySegment(I, w, co, LE);
                IntVector u = IntVector.fromMemorySegment(I, w, co + CHUNK, LE);
                ShortVector v0 = v.and(LOW_NIBBLES).reinterpretAsShorts();
                ShortVector v16 = v.lanewise(VectorOperators.LSHR, 4).and(LOW_NIBBLES).reinterpretAsShorts();
                ShortVector v1 = v.lanewise(VectorOperators.LSHR, 8).and(LOW_NIBBLES).reinterpretAsShorts();
                ShortVector v17 = v.lanewise(VectorOperators.LSHR, 12).and(LOW_NIBBLES).reinterpretAsShorts();
                ShortVector u0 = u.and(LOW_NIBBLES).reinterpretAsShorts();
                ShortVector u16 = u.lanewise(VectorOperators.LSHR, 4).and(LOW_NIBBLES).reinterpretAsShorts();
                ShortVector u1 = u.lanewise(VectorOperators.LSHR, 8).and(LOW_NIBBLES).reinterpretAsShorts();
                ShortVector u17 = u.lanewise(VectorOperators.LSHR, 12).and(LOW_NIBBLES).reinterpretAsShorts();
                int i0 = p0 + pb + 2 * k;
                ShortVector x0 = IntVector.broadcast(I, xp[i0]).reinterpretAsShorts();
                ShortVector y0 = IntVector.broadcast(I, xp[i0 + 1]).reinterpretAsShorts();
                ShortVector z0 = IntVector.broadcast(I, xp[i0 + 8]).reinterpretAsShorts();
                ShortVector q0 = IntVector.broadcast(I, xp[i0 + 9]).reinterpretAsShorts();
                a0 = a0.add(v0.mul(x0).add(v16.mul(z0))).add(v1.mul(y0).add(v17.mul(q0)));
                c0 = c0.add(u0.mul(x0).add(u16.mul(z0))).add(u1.mul(y0).add(u17.mul(q0)));
            }
            // the scales as stored (F16), widened exactly: sign-extended bits moved into a float's place, the three
            // copies of the sign between sign and exponent cleared, rescaled by 2^112 (finite values)
            FloatVector dl = ((IntVector) ShortVector.fromMemorySegment(SH, w, bo, LE)
                    .convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 13).and(F16_BITS)
                    .reinterpretAsFloats().mul(0x1p112f);
            FloatVector dh = ((IntVector) ShortVector.fromMemorySegment(SH, w, bo + 2L * H, LE)
                    .convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 13).and(F16_BITS)
                    .reinterpretAsFloats().mul(0x1p112f);
            int m0 = 8 * qsums[d0 + b];
            IntVector f0 = a0.reinterpretAsInts();
            IntVector g0 = c0.reinterpretAsInts();
            IntVector sa0 = f0.add(f0.lanewise(VectorOperators.LSHL, 16)).sub(m0 << 16)
                    .lanewise(VectorOperators.ASHR, 16);
            IntVector sc0 = g0.add(g0.lanewise(VectorOperators.LSHL, 16)).sub(m0 << 16)
                    .lanewise(VectorOperators.ASHR, 16);
            float e0 = ds[d0 + b];
            lo0 = ((FloatVector) sa0.convert(VectorOperators.I2F, 0)).fma(dl.mul(e0), lo0);
            hi0 = ((FloatVector) sc0.convert(VectorOperators.I2F, 0)).fma(dh.mul(e0), hi0);
        }
        lo0.intoArray(out, o0);
        hi0.intoArray(out, o0 + H);
    }

    /** Three activation rows: each unpacked weight vector feeds three tokens (prefill, routed expert tokens). */
    @Override
    void multiply3(MemorySegment w, long groupOff, int cols, ActivationRows a, int r0, int r1, int r2,
                   float[] out, int o0, int o1, int o2) {
        int[] xp = a.pairs();
        int[] qsums = a.qsums();
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
            ShortVector a0 = ShortVector.zero(S);
            ShortVector c0 = ShortVector.zero(S);
            ShortVector a1 = ShortVector.zero(S);
            ShortVector c1 = ShortVector.zero(S);
            ShortVector a2 = ShortVector.zero(S);
            ShortVector c2 = ShortVector.zero(S);
            for (int k = 0; k < 4; k++) {
                long co = bo + SCALES + (long) (2 * k) * CHUNK;
                IntVector v = IntVector.fromMemorySegment(I, w, co, LE);
                IntVector u = IntVector.fromMemorySegment(I, w, co + CHUNK, LE);
                ShortVector v0 = v.and(LOW_NIBBLES).reinterpretAsShorts();
                ShortVector v16 = v.lanewise(VectorOperators.LSHR, 4).and(LOW_NIBBLES).reinterpretAsShorts();
                ShortVector v1 = v.lanewise(VectorOperators.LSHR, 8).and(LOW_NIBBLES).reinterpretAsShorts();
                ShortVector v17 = v.lanewise(VectorOperators.LSHR, 12).and(LOW_NIBBLES).reinterpretAsShorts();
                ShortVector u0 = u.and(LOW_NIBBLES).reinterpretAsShorts();
                ShortVector u16 = u.lanewise(VectorOperators.LSHR, 4).and(LOW_NIBBLES).reinterpretAsShorts();
                ShortVector u1 = u.lanewise(VectorOperators.LSHR, 8).and(LOW_NIBBLES).reinterpretAsShorts();
                ShortVector u17 = u.lanewise(VectorOperators.LSHR, 12).and(LOW_NIBBLES).reinterpretAsShorts();
                int i0 = p0 + pb + 2 * k;
                ShortVector x0 = IntVector.broadcast(I, xp[i0]).reinterpretAsShorts();
                ShortVector y0 = IntVector.broadcast(I, xp[i0 + 1]).reinterpretAsShorts();
                ShortVector z0 = IntVector.broadcast(I, xp[i0 + 8]).reinterpretAsShorts();
                ShortVector q0 = IntVector.broadcast(I, xp[i0 + 9]).reinterpretAsShorts();
                a0 = a0.add(v0.mul(x0).add(v16.mul(z0))).add(v1.mul(y0).add(v17.mul(q0)));
                c0 = c0.add(u0.mul(x0).add(u16.mul(z0))).add(u1.mul(y0).add(u17.mul(q0)));
                int i1 = p1 + pb + 2 * k;
                ShortVector x1 = IntVector.broadcast(I, xp[i1]).reinterpretAsShorts();
                ShortVector y1 = IntVector.broadcast(I, xp[i1 + 1]).reinterpretAsShorts();
                ShortVector z1 = IntVector.broadcast(I, xp[i1 + 8]).reinterpretAsShorts();
                ShortVector q1 = IntVector.broadcast(I, xp[i1 + 9]).reinterpretAsShorts();
                a1 = a1.add(v0.mul(x1).add(v16.mul(z1))).add(v1.mul(y1).add(v17.mul(q1)));
                c1 = c1.add(u0.mul(x1).add(u16.mul(z1))).add(u1.mul(y1).add(u17.mul(q1)));
                int i2 = p2 + pb + 2 * k;
                ShortVector x2 = IntVector.broadcast(I, xp[i2]).reinterpretAsShorts();
                ShortVector y2 = IntVector.broadcast(I, xp[i2 + 1]).reinterpretAsShorts();
                ShortVector z2 = IntVector.broadcast(I, xp[i2 + 8]).reinterpretAsShorts();
                ShortVector q2 = IntVector.broadcast(I, xp[i2 + 9]).reinterpretAsShorts();
                a2 = a2.add(v0.mul(x2).add(v16.mul(z2))).add(v1.mul(y2).add(v17.mul(q2)));
                c2 = c2.add(u0.mul(x2).add(u16.mul(z2))).add(u1.mul(y2).add(u17.mul(q2)));
            }
            // the scales as stored (F16), widened exactly: sign-extended bits moved into a float's place, the three
            // copies of the sign between sign and exponent cleared, rescaled by 2^112 (finite values)
            FloatVector dl = ((IntVector) ShortVector.fromMemorySegment(SH, w, bo, LE)
                    .convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 13).and(F16_BITS)
                    .reinterpretAsFloats().mul(0x1p112f);
            FloatVector dh = ((IntVector) ShortVector.fromMemorySegment(SH, w, bo + 2L * H, LE)
                    .convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 13).and(F16_BITS)
                    .reinterpretAsFloats().mul(0x1p112f);
            int m0 = 8 * qsums[d0 + b];
            IntVector f0 = a0.reinterpretAsInts();
            IntVector g0 = c0.reinterpretAsInts();
            IntVector sa0 = f0.add(f0.lanewise(VectorOperators.LSHL, 16)).sub(m0 << 16)
                    .lanewise(VectorOperators.ASHR, 16);
            IntVector sc0 = g0.add(g0.lanewise(VectorOperators.LSHL, 16)).sub(m0 << 16)
                    .lanewise(VectorOperators.ASHR, 16);
            float e0 = ds[d0 + b];
            lo0 = ((FloatVector) sa0.convert(VectorOperators.I2F, 0)).fma(dl.mul(e0), lo0);
            hi0 = ((FloatVector) sc0.convert(VectorOperators.I2F, 0)).fma(dh.mul(e0), hi0);
            int m1 = 8 * qsums[d1 + b];
            IntVector f1 = a1.reinterpretAsInts();
            IntVector g1 = c1.reinterpretAsInts();
            IntVector sa1 = f1.add(f1.lanewise(VectorOperators.LSHL, 16)).sub(m1 << 16)
                    .lanewise(VectorOperators.ASHR, 16);
            IntVector sc1 = g1.add(g1.lanewise(VectorOperators.LSHL, 16)).sub(m1 << 16)
                    .lanewise(VectorOperators.ASHR, 16);
            float e1 = ds[d1 + b];
            lo1 = ((FloatVector) sa1.convert(VectorOperators.I2F, 0)).fma(dl.mul(e1), lo1);
            hi1 = ((FloatVector) sc1.convert(VectorOperators.I2F, 0)).fma(dh.mul(e1), hi1);
            int m2 = 8 * qsums[d2 + b];
            IntVector f2 = a2.reinterpretAsInts();
            IntVector g2 = c2.reinterpretAsInts();
            IntVector sa2 = f2.add(f2.lanewise(VectorOperators.LSHL, 16)).sub(m2 << 16)
                    .lanewise(VectorOperators.ASHR, 16);
            IntVector sc2 = g2.add(g2.lanewise(VectorOperators.LSHL, 16)).sub(m2 << 16)
                    .lanewise(VectorOperators.ASHR, 16);
            float e2 = ds[d2 + b];
            lo2 = ((FloatVector) sa2.convert(VectorOperators.I2F, 0)).fma(dl.mul(e2), lo2);
            hi2 = ((FloatVector) sc2.convert(VectorOperators.I2F, 0)).fma(dh.mul(e2), hi2);
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
            for (int j = 0; j < 16; j++) {
                int q = Le.u8(w, bo + 2 + j);
                isum += ((q & 0xf) - 8) * qs[ao + j] + ((q >>> 4) - 8) * qs[ao + j + 16];
            }
            acc = Math.fma((float) isum, Le.f16(w, bo) * ds[ao / 32], acc);
        }
        return acc;
    }
}
