package dev.trestle.backends.cpu.kernel;

import dev.trestle.backends.bytes.Le;
import dev.trestle.backends.cpu.ActivationRows;
import dev.trestle.backends.cpu.x86.VnniMatmul;
import dev.trestle.backends.type.GgmlType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Q5_K repacked in groups of {@code 2 * LANES} rows (32 on AVX-512), two short lanes per row, against Q8_K.
 *
 * <p>Layout of one super-block (256 columns) of a group of {@code G} rows: {@code q5 - 16} as one signed byte per
 * weight (8 bits instead of 5.5: two shifts per element and row lane); for sub-block {@code j}, word {@code m}
 * (0..7) and half group {@code h}, one vector of {@code LANES} little-endian ints, int {@code i} holding elements
 * {@code 32j + 4m .. 32j + 4m + 3} of row {@code h * LANES + i}, so that low and high bytes each multiply one
 * 32-bit broadcast of {@link ActivationRows#pairs()} (as in {@link Q6_KRepacked}); then the 6-bit scales and mins
 * ({@code 8 x G} bytes each, row order), d and -dmin as floats ({@code G} each).
 *
 * <p>Numerics: centring the quants keeps 16 products in a short (16 * 16 * 127 < 2^15); the sub-block dot of the
 * stored quants is then {@code dot(q5 - 16, x) + 16 * bsum}, exact. Per row and super-block {@code isum} and
 * {@code msum} are exact integers, accumulated as {@code fma(isum, d * dy, acc)} then
 * {@code fma(msum, -dmin * dy, acc)} in super-block order, as {@link #dotReference} does.
 */
public final class Q5_KRepacked extends PairedRepackedKernel {
    private static final int LANES = VectorShapes.LANES;
    /** Rows per group: one short lane per row. */
    static final int G = 2 * LANES;
    private static final VectorSpecies<Short> S = ShortVector.SPECIES_64.withShape(VectorShape.forBitSize(G * 16));
    private static final VectorSpecies<Integer> I = VectorShapes.I;
    private static final VectorSpecies<Float> FI = VectorShapes.FI;
    private static final VectorSpecies<Byte> B = VectorShapes.B;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final int BLOCK_BYTES = 176;
    /** Bytes of one sub-block: its scales, its mins ({@code G} bytes each, row order), then its quants. */
    private static final int SUB = 34 * G;
    /** Bytes of one repacked super-block of a group: d and -dmin as floats, then eight sub-blocks. */
    private static final int SUPER = 8 * G + 8 * SUB;

    public Q5_KRepacked() {
        super(VnniMatmul.forType(GgmlType.Q5_K));
    }

    @Override
    public GgmlType weightType() {
        return GgmlType.Q5_K;
    }

    @Override
    public int groupRows() {
        return G;
    }

    @Override
    public long groupBytes(int cols) {
        return (long) (cols / 256) * SUPER;
    }

    @Override
    public void repack(MemorySegment src, long srcOff, long rowBytes, int cols, MemorySegment dst, long dstOff) {
        byte[] blk = new byte[BLOCK_BYTES];
        for (int b = 0; b < cols / 256; b++) {
            long so = dstOff + (long) b * SUPER;
            for (int r = 0; r < G; r++) {
                long bo = srcOff + r * rowBytes + (long) b * BLOCK_BYTES;
                int h = r / LANES;
                int ri = r % LANES;
                // the block read once (load time matters: this runs over every Q5_K weight)
                MemorySegment.copy(src, ValueLayout.JAVA_BYTE, bo, blk, 0, BLOCK_BYTES);
                for (int j = 0; j < 8; j++) {
                    for (int m = 0; m < 8; m++) {
                        int e = 32 * j + 4 * m;
                        int word = ((q5(blk, e) - 16) & 0xff) | ((q5(blk, e + 1) - 16) & 0xff) << 8
                                | ((q5(blk, e + 2) - 16) & 0xff) << 16 | (q5(blk, e + 3) - 16) << 24;
                        Le.putI32(dst, KQuant.subBlock(so, G, SUB, j) + 2 * G + ((2L * m + h) * LANES + ri) * 4, word);
                    }
                    Le.putU8(dst, KQuant.subBlock(so, G, SUB, j) + r, KQuant.scale(src, bo + 4, j));
                    Le.putU8(dst, KQuant.subBlock(so, G, SUB, j) + G + r, KQuant.min(src, bo + 4, j));
                }
                Le.putF32(dst, so + 4L * r, Le.f16(src, bo));
                Le.putF32(dst, so + 4L * G + 4L * r, -Le.f16(src, bo + 2));
            }
        }
    }

    /** Element {@code e} (0..255, value 0..31) of a stored Q5_K block copied into {@code blk}. */
    private static int q5(byte[] blk, int e) {
        int j = e / 32;
        int l = e % 32;
        int q = blk[48 + 32 * (j / 2) + l] & 0xff;
        int low = (j & 1) == 0 ? q & 0xf : q >>> 4;
        int high = ((blk[16 + l] & 0xff) >>> j) & 1;
        return low | high << 4;
    }

    /** Element {@code e} (0..255, value 0..31) of the stored Q5_K block at {@code bo}. */
    private static int q5(MemorySegment w, long bo, int e) {
        int j = e / 32;
        int l = e % 32;
        int q = Le.u8(w, bo + 48 + 32L * (j / 2) + l);
        int low = (j & 1) == 0 ? q & 0xf : q >>> 4;
        int high = (Le.u8(w, bo + 16 + l) >>> j) & 1;
        return low | high << 4;
    }

    /** One activation row (decode): the group's {@code G} dots into {@code out[o..o+G)}. */
    @Override
    void one(MemorySegment w, long groupOff, int cols, ActivationRows a, int ao, float[] out, int o) {
        int[] xp = a.pairs();
        // shift counts as a vector: C2 compiles a short-lane shift by a constant int as three instructions
        ShortVector eight = ShortVector.broadcast(S, (short) 8);
        float[] ds = a.scales();
        short[] bs = a.bsums();
        FloatVector accLo = FloatVector.zero(FI);
        FloatVector accHi = FloatVector.zero(FI);
        for (int b = 0; b < cols / 256; b++) {
            long so = groupOff + (long) b * SUPER;
            int xo = ao + 256 * b;
            int bso = xo / 16;
            // d and -dmin first: the super-block's bytes are then read in address order, which the prefetcher follows
            float dy = ds[xo / 256];
            FloatVector dLo = FloatVector.fromMemorySegment(FI, w, so, LE).mul(dy);
            FloatVector dHi = FloatVector.fromMemorySegment(FI, w, so + 4L * LANES, LE).mul(dy);
            FloatVector mLo = FloatVector.fromMemorySegment(FI, w, so + 4L * G, LE).mul(dy);
            FloatVector mHi = FloatVector.fromMemorySegment(FI, w, so + 4L * G + 4L * LANES, LE).mul(dy);
            IntVector isLo = IntVector.zero(I);
            IntVector isHi = IntVector.zero(I);
            IntVector msLo = IntVector.zero(I);
            IntVector msHi = IntVector.zero(I);
            for (int j = 0; j < 8; j++) {
                ShortVector s0 = ShortVector.zero(S);
                ShortVector s1 = ShortVector.zero(S);
                int px = (xo >> 1) + 16 * j;
                long wo = so + 10 * G + (long) j * SUB;
                for (int m = 0; m < 8; m++) {
                    ShortVector xl = IntVector.broadcast(I, xp[px + 2 * m]).reinterpretAsShorts();
                    ShortVector xh = IntVector.broadcast(I, xp[px + 2 * m + 1]).reinterpretAsShorts();
                    ShortVector v = ShortVector.fromMemorySegment(S, w, wo + (long) (2 * m) * 2 * G, LE);
                    ShortVector u = ShortVector.fromMemorySegment(S, w, wo + (long) (2 * m + 1) * 2 * G, LE);
                    s0 = s0.add(v.reinterpretAsInts().lanewise(VectorOperators.LSHL, 8).reinterpretAsShorts()
                            .lanewise(VectorOperators.ASHR, eight).mul(xl))
                            .add(v.lanewise(VectorOperators.ASHR, eight).mul(xh));
                    s1 = s1.add(u.reinterpretAsInts().lanewise(VectorOperators.LSHL, 8).reinterpretAsShorts()
                            .lanewise(VectorOperators.ASHR, eight).mul(xl))
                            .add(u.lanewise(VectorOperators.ASHR, eight).mul(xh));
                }
                int bsum = bs[bso + 2 * j] + bs[bso + 2 * j + 1];
                // lanes 2i and 2i + 1 are row i's: their sum is the row's sub-block dot
                IntVector i0 = s0.reinterpretAsInts();
                IntVector i1 = s1.reinterpretAsInts();
                IntVector lo = i0.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                        .add(i0.lanewise(VectorOperators.ASHR, 16)).add(16 * bsum);
                IntVector hi = i1.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                        .add(i1.lanewise(VectorOperators.ASHR, 16)).add(16 * bsum);
                long sc = so + 8 * G + (long) j * SUB;
                long mn = so + 8 * G + (long) j * SUB + G;
                isLo = isLo.add(lo.mul((IntVector) ByteVector.fromMemorySegment(B, w, sc, LE)
                        .convertShape(VectorOperators.B2I, I, 0)));
                isHi = isHi.add(hi.mul((IntVector) ByteVector.fromMemorySegment(B, w, sc + LANES, LE)
                        .convertShape(VectorOperators.B2I, I, 0)));
                msLo = msLo.add(((IntVector) ByteVector.fromMemorySegment(B, w, mn, LE)
                        .convertShape(VectorOperators.B2I, I, 0)).mul(bsum));
                msHi = msHi.add(((IntVector) ByteVector.fromMemorySegment(B, w, mn + LANES, LE)
                        .convertShape(VectorOperators.B2I, I, 0)).mul(bsum));
            }
            accLo = ((FloatVector) isLo.convert(VectorOperators.I2F, 0)).fma(dLo, accLo);
            accHi = ((FloatVector) isHi.convert(VectorOperators.I2F, 0)).fma(dHi, accHi);
            accLo = ((FloatVector) msLo.convert(VectorOperators.I2F, 0)).fma(mLo, accLo);
            accHi = ((FloatVector) msHi.convert(VectorOperators.I2F, 0)).fma(mHi, accHi);
        }
        accLo.intoArray(out, o);
        accHi.intoArray(out, o + LANES);
    }

    /** Two activation rows (prefill): each weight word is loaded and split once for both. */
    @Override
    void two(MemorySegment w, long groupOff, int cols, ActivationRows a, int ao, int ap, float[] out,
             int o, int p) {
        int[] xp = a.pairs();
        // shift counts as a vector: C2 compiles a short-lane shift by a constant int as three instructions
        ShortVector eight = ShortVector.broadcast(S, (short) 8);
        float[] ds = a.scales();
        short[] bs = a.bsums();
        FloatVector accLo = FloatVector.zero(FI);
        FloatVector accHi = FloatVector.zero(FI);
        FloatVector bccLo = FloatVector.zero(FI);
        FloatVector bccHi = FloatVector.zero(FI);
        for (int b = 0; b < cols / 256; b++) {
            long so = groupOff + (long) b * SUPER;
            int xo = ao + 256 * b;
            int yo = ap + 256 * b;
            int bx = xo / 16;
            int by = yo / 16;
            IntVector isLo = IntVector.zero(I);
            IntVector isHi = IntVector.zero(I);
            IntVector jsLo = IntVector.zero(I);
            IntVector jsHi = IntVector.zero(I);
            for (int j = 0; j < 8; j++) {
                ShortVector s0 = ShortVector.zero(S);
                ShortVector s1 = ShortVector.zero(S);
                ShortVector t0 = ShortVector.zero(S);
                ShortVector t1 = ShortVector.zero(S);
                int px = (xo >> 1) + 16 * j;
                int py = (yo >> 1) + 16 * j;
                long wo = so + 10 * G + (long) j * SUB;
                for (int m = 0; m < 8; m++) {
                    ShortVector v = ShortVector.fromMemorySegment(S, w, wo + (long) (2 * m) * 2 * G, LE);
                    ShortVector u = ShortVector.fromMemorySegment(S, w, wo + (long) (2 * m + 1) * 2 * G, LE);
                    ShortVector v0 = v.reinterpretAsInts().lanewise(VectorOperators.LSHL, 8).reinterpretAsShorts()
                            .lanewise(VectorOperators.ASHR, eight);
                    ShortVector v1 = v.lanewise(VectorOperators.ASHR, eight);
                    ShortVector u0 = u.reinterpretAsInts().lanewise(VectorOperators.LSHL, 8).reinterpretAsShorts()
                            .lanewise(VectorOperators.ASHR, eight);
                    ShortVector u1 = u.lanewise(VectorOperators.ASHR, eight);
                    ShortVector xl = IntVector.broadcast(I, xp[px + 2 * m]).reinterpretAsShorts();
                    ShortVector xh = IntVector.broadcast(I, xp[px + 2 * m + 1]).reinterpretAsShorts();
                    s0 = s0.add(v0.mul(xl)).add(v1.mul(xh));
                    s1 = s1.add(u0.mul(xl)).add(u1.mul(xh));
                    ShortVector yl = IntVector.broadcast(I, xp[py + 2 * m]).reinterpretAsShorts();
                    ShortVector yh = IntVector.broadcast(I, xp[py + 2 * m + 1]).reinterpretAsShorts();
                    t0 = t0.add(v0.mul(yl)).add(v1.mul(yh));
                    t1 = t1.add(u0.mul(yl)).add(u1.mul(yh));
                }
                long sc = so + 8 * G + (long) j * SUB;
                IntVector scLo = (IntVector) ByteVector.fromMemorySegment(B, w, sc, LE)
                        .convertShape(VectorOperators.B2I, I, 0);
                IntVector scHi = (IntVector) ByteVector.fromMemorySegment(B, w, sc + LANES, LE)
                        .convertShape(VectorOperators.B2I, I, 0);
                int sx = 16 * (bs[bx + 2 * j] + bs[bx + 2 * j + 1]);
                int sy = 16 * (bs[by + 2 * j] + bs[by + 2 * j + 1]);
                IntVector i0 = s0.reinterpretAsInts();
                IntVector i1 = s1.reinterpretAsInts();
                isLo = isLo.add(i0.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                        .add(i0.lanewise(VectorOperators.ASHR, 16)).add(sx).mul(scLo));
                isHi = isHi.add(i1.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                        .add(i1.lanewise(VectorOperators.ASHR, 16)).add(sx).mul(scHi));
                IntVector u0 = t0.reinterpretAsInts();
                IntVector u1 = t1.reinterpretAsInts();
                jsLo = jsLo.add(u0.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                        .add(u0.lanewise(VectorOperators.ASHR, 16)).add(sy).mul(scLo));
                jsHi = jsHi.add(u1.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                        .add(u1.lanewise(VectorOperators.ASHR, 16)).add(sy).mul(scHi));
            }
            // the min terms after the quants, so their vectors do not compete for registers with the loop above
            IntVector msLo = IntVector.zero(I);
            IntVector msHi = IntVector.zero(I);
            IntVector nsLo = IntVector.zero(I);
            IntVector nsHi = IntVector.zero(I);
            for (int j = 0; j < 8; j++) {
                long mn = so + 8 * G + (long) j * SUB + G;
                IntVector mLo = (IntVector) ByteVector.fromMemorySegment(B, w, mn, LE)
                        .convertShape(VectorOperators.B2I, I, 0);
                IntVector mHi = (IntVector) ByteVector.fromMemorySegment(B, w, mn + LANES, LE)
                        .convertShape(VectorOperators.B2I, I, 0);
                int sx = bs[bx + 2 * j] + bs[bx + 2 * j + 1];
                int sy = bs[by + 2 * j] + bs[by + 2 * j + 1];
                msLo = msLo.add(mLo.mul(sx));
                msHi = msHi.add(mHi.mul(sx));
                nsLo = nsLo.add(mLo.mul(sy));
                nsHi = nsHi.add(mHi.mul(sy));
            }
            float dx = ds[xo / 256];
            float dyy = ds[yo / 256];
            FloatVector dLo = FloatVector.fromMemorySegment(FI, w, so, LE);
            FloatVector dHi = FloatVector.fromMemorySegment(FI, w, so + 4L * LANES, LE);
            FloatVector mLo = FloatVector.fromMemorySegment(FI, w, so + 4L * G, LE);
            FloatVector mHi = FloatVector.fromMemorySegment(FI, w, so + 4L * G + 4L * LANES, LE);
            accLo = ((FloatVector) isLo.convert(VectorOperators.I2F, 0)).fma(dLo.mul(dx), accLo);
            accHi = ((FloatVector) isHi.convert(VectorOperators.I2F, 0)).fma(dHi.mul(dx), accHi);
            accLo = ((FloatVector) msLo.convert(VectorOperators.I2F, 0)).fma(mLo.mul(dx), accLo);
            accHi = ((FloatVector) msHi.convert(VectorOperators.I2F, 0)).fma(mHi.mul(dx), accHi);
            bccLo = ((FloatVector) jsLo.convert(VectorOperators.I2F, 0)).fma(dLo.mul(dyy), bccLo);
            bccHi = ((FloatVector) jsHi.convert(VectorOperators.I2F, 0)).fma(dHi.mul(dyy), bccHi);
            bccLo = ((FloatVector) nsLo.convert(VectorOperators.I2F, 0)).fma(mLo.mul(dyy), bccLo);
            bccHi = ((FloatVector) nsHi.convert(VectorOperators.I2F, 0)).fma(mHi.mul(dyy), bccHi);
        }
        accLo.intoArray(out, o);
        accHi.intoArray(out, o + LANES);
        bccLo.intoArray(out, p);
        bccHi.intoArray(out, p + LANES);
    }

    /**
     * Scalar reference over the stored (not repacked) row at {@code wOff}, in the order the repacked kernel
     * accumulates: per super-block exact integer sums, then {@code fma(isum, d * dy, acc)} and
     * {@code fma(msum, -dmin * dy, acc)}.
     */
    public static float dotReference(MemorySegment w, long wOff, ActivationRows a, int aOff, int n) {
        return KQuant.scaleMinReference(w, wOff, BLOCK_BYTES, Q5_KRepacked::q5, a, aOff, n);
    }
}
