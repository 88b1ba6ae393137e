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
 * Q4_K repacked in groups of {@code 2 * LANES} rows (32 on AVX-512), two short lanes per row, against Q8_K.
 *
 * <p>Layout of one super-block (256 columns) of a group, {@code G} rows: d and -dmin as F16 ({@code G} each, row
 * order; widened exactly in the kernels), then per sub-block {@code j} its 6-bit scales and mins ({@code G} bytes
 * each, row order) and, for word {@code c} (0..3) and half group {@code h}, one vector of {@code LANES}
 * little-endian ints, int {@code i} holding the 8 nibbles of elements {@code 32j + 8c .. 32j + 8c + 7} of row
 * {@code h * LANES + i}: the low short has elements {@code 8c, 8c+1, 8c+4, 8c+5} (bits 0, 4, 8, 12), the high short
 * {@code 8c+2, 8c+3, 8c+6, 8c+7}, so each nibble position multiplies one 32-bit broadcast of
 * {@link ActivationRows#pairs()}, shared by both half groups. 148 bytes per row and super-block against the file's
 * 144 (the scales and mins as bytes).
 *
 * <p>Numerics: per row and super-block, {@code isum = sum_j scale_j * dot_j} and {@code msum = sum_j min_j *
 * bsum_j} are exact integers (16 products of a nibble and a Q8_K quant fit a short: 16 * 15 * 127 < 2^15); the row
 * accumulates {@code fma(isum, d * dy, acc)} then {@code fma(msum, -dmin * dy, acc)} in super-block order, as
 * {@link #dotReference} does.
 */
public final class Q4_KRepacked extends PairedRepackedKernel {
    private static final int LANES = VectorShapes.LANES;
    /** Rows per group: one short lane per row. */
    static final int G = 2 * LANES;
    private static final VectorSpecies<Short> S = ShortVector.SPECIES_64.withShape(VectorShape.forBitSize(G * 16));
    private static final VectorSpecies<Integer> I = VectorShapes.I;
    private static final VectorSpecies<Float> FI = VectorShapes.FI;
    private static final VectorSpecies<Byte> B = VectorShapes.B;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final int BLOCK_BYTES = 144;
    /**
     * The low nibble of both shorts of an int. Nibbles are shifted in int lanes and masked: C2 has immediate
     * shifts for int lanes but loads the count of a short-lane shift into a register each time (3 instructions).
     */
    private static final int LOW_NIBBLES = 0x000f000f;
    private static final int WORD_STEP = 2 * G;
    /** Bytes of one sub-block: its scales, its mins ({@code G} bytes each, row order), then its quants. */
    private static final int SUB = 18 * G;
    /** Bytes of a super-block's d and -dmin (F16, as the file stores d and dmin: no bytes beyond the file's). */
    private static final int SCALE_BYTES = 4 * G;
    /** Bytes of one repacked super-block of a group: d and -dmin, then eight sub-blocks. */
    private static final int SUPER = SCALE_BYTES + 8 * SUB;
    /** One short lane per row of a half group: d or -dmin. */
    private static final VectorSpecies<Short> SH =
            ShortVector.SPECIES_64.withShape(VectorShape.forBitSize(16 * LANES));
    private static final int F16_BITS = TripledRepackedKernel.F16_BITS;

    public Q4_KRepacked() {
        super(VnniMatmul.forType(GgmlType.Q4_K));
    }

    @Override
    public GgmlType weightType() {
        return GgmlType.Q4_K;
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
        byte[] qs = new byte[128];
        int[] q = new int[256];
        for (int b = 0; b < cols / 256; b++) {
            long so = dstOff + (long) b * SUPER;
            for (int r = 0; r < G; r++) {
                long bo = srcOff + r * rowBytes + (long) b * BLOCK_BYTES;
                int h = r / LANES;
                int ri = r % LANES;
                // the block's nibbles read once (load time matters: this runs over every Q4_K weight)
                MemorySegment.copy(src, ValueLayout.JAVA_BYTE, bo + 16, qs, 0, 128);
                for (int e = 0; e < 256; e++) {
                    int j = e / 32;
                    int v = qs[32 * (j / 2) + e % 32];
                    q[e] = (j & 1) == 0 ? v & 0xf : (v >>> 4) & 0xf;
                }
                for (int j = 0; j < 8; j++) {
                    long sb = so + SCALE_BYTES + (long) j * SUB;
                    for (int c = 0; c < 4; c++) {
                        int e = 32 * j + 8 * c;
                        int word = q[e] | q[e + 1] << 4 | q[e + 4] << 8 | q[e + 5] << 12
                                | q[e + 2] << 16 | q[e + 3] << 20 | q[e + 6] << 24 | q[e + 7] << 28;
                        long at = sb + 2 * G + (2L * c + h) * WORD_STEP + 4L * ri;
                        Le.putI32(dst, at, word);
                    }
                    Le.putU8(dst, sb + r, KQuant.scale(src, bo + 4, j));
                    Le.putU8(dst, sb + G + r, KQuant.min(src, bo + 4, j));
                }
                // d and -dmin as stored (F16; -dmin by its sign bit), widened exactly by the kernels
                dst.set(Le.SHORT, so + 2L * r, src.get(Le.SHORT, bo));
                dst.set(Le.SHORT, so + 2L * G + 2L * r, (short) (src.get(Le.SHORT, bo + 2) ^ 0x8000));
            }
        }
    }

    /** Element {@code e} (0..255) of the stored Q4_K block at {@code bo}. */
    private static int nibble(MemorySegment w, long bo, int e) {
        int j = e / 32;
        int q = Le.u8(w, bo + 16 + 32L * (j / 2) + e % 32);
        return (j & 1) == 0 ? q & 0xf : q >>> 4;
    }

    /** One activation row (decode): the group's {@code G} dots into {@code out[o..o+G)}. */
    @Override
    void one(MemorySegment w, long groupOff, int cols, ActivationRows a, int ao, float[] out, int o) {
        int[] xp = a.pairs();
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
            // d and -dmin widened from F16 in place: C2 does not inline a helper here (NodeCountInliningCutoff, boxed)
            FloatVector dLo = ((IntVector) ShortVector.fromMemorySegment(SH, w, so, LE)
                    .convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 13).and(F16_BITS)
                    .reinterpretAsFloats().mul(0x1p112f).mul(dy);
            FloatVector dHi = ((IntVector) ShortVector.fromMemorySegment(SH, w, so + 2L * LANES, LE)
                    .convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 13).and(F16_BITS)
                    .reinterpretAsFloats().mul(0x1p112f).mul(dy);
            FloatVector mLo = ((IntVector) ShortVector.fromMemorySegment(SH, w, so + 2L * G, LE)
                    .convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 13).and(F16_BITS)
                    .reinterpretAsFloats().mul(0x1p112f).mul(dy);
            FloatVector mHi = ((IntVector) ShortVector.fromMemorySegment(SH, w, so + 2L * G + 2L * LANES, LE)
                    .convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 13).and(F16_BITS)
                    .reinterpretAsFloats().mul(0x1p112f).mul(dy);
            IntVector isLo = IntVector.zero(I);
            IntVector isHi = IntVector.zero(I);
            IntVector msLo = IntVector.zero(I);
            IntVector msHi = IntVector.zero(I);
            for (int j = 0; j < 8; j++) {
                ShortVector s0 = ShortVector.zero(S);
                ShortVector s1 = ShortVector.zero(S);
                int px = (xo >> 1) + 16 * j;
                long wo = so + SCALE_BYTES + 2 * G + (long) j * SUB;
                for (int c = 0; c < 4; c++) {
                    ShortVector x0 = IntVector.broadcast(I, xp[px + 4 * c]).reinterpretAsShorts();
                    ShortVector x1 = IntVector.broadcast(I, xp[px + 4 * c + 1]).reinterpretAsShorts();
                    ShortVector x2 = IntVector.broadcast(I, xp[px + 4 * c + 2]).reinterpretAsShorts();
                    ShortVector x3 = IntVector.broadcast(I, xp[px + 4 * c + 3]).reinterpretAsShorts();
                    IntVector v = IntVector.fromMemorySegment(I, w, wo + (long) (2 * c) * WORD_STEP, LE);
                    IntVector u = IntVector.fromMemorySegment(I, w, wo + (long) (2 * c + 1) * WORD_STEP, LE);
                    s0 = s0.add(v.and(LOW_NIBBLES).reinterpretAsShorts().mul(x0))
                            .add(v.lanewise(VectorOperators.LSHR, 4).and(LOW_NIBBLES).reinterpretAsShorts().mul(x1))
                            .add(v.lanewise(VectorOperators.LSHR, 8).and(LOW_NIBBLES).reinterpretAsShorts().mul(x2))
                            .add(v.lanewise(VectorOperators.LSHR, 12).and(LOW_NIBBLES).reinterpretAsShorts().mul(x3));
                    s1 = s1.add(u.and(LOW_NIBBLES).reinterpretAsShorts().mul(x0))
                            .add(u.lanewise(VectorOperators.LSHR, 4).and(LOW_NIBBLES).reinterpretAsShorts().mul(x1))
                            .add(u.lanewise(VectorOperators.LSHR, 8).and(LOW_NIBBLES).reinterpretAsShorts().mul(x2))
                            .add(u.lanewise(VectorOperators.LSHR, 12).and(LOW_NIBBLES).reinterpretAsShorts().mul(x3));
                }
                // lanes 2i and 2i + 1 are row i's: their sum is the row's sub-block dot
                IntVector i0 = s0.reinterpretAsInts();
                IntVector i1 = s1.reinterpretAsInts();
                IntVector lo = i0.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                        .add(i0.lanewise(VectorOperators.ASHR, 16));
                IntVector hi = i1.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                        .add(i1.lanewise(VectorOperators.ASHR, 16));
                long sc = so + SCALE_BYTES + (long) j * SUB;
                long mn = so + SCALE_BYTES + (long) j * SUB + G;
                isLo = isLo.add(lo.mul((IntVector) ByteVector.fromMemorySegment(B, w, sc, LE)
                        .convertShape(VectorOperators.B2I, I, 0)));
                isHi = isHi.add(hi.mul((IntVector) ByteVector.fromMemorySegment(B, w, sc + LANES, LE)
                        .convertShape(VectorOperators.B2I, I, 0)));
                int bsum = bs[bso + 2 * j] + bs[bso + 2 * j + 1];
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

    /** Two activation rows (prefill): each weight word is unpacked once for both. */
    @Override
    void two(MemorySegment w, long groupOff, int cols, ActivationRows a, int ao, int ap, float[] out,
             int o, int p) {
        int[] xp = a.pairs();
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
                long wo = so + SCALE_BYTES + 2 * G + (long) j * SUB;
                for (int c = 0; c < 4; c++) {
                    IntVector v = IntVector.fromMemorySegment(I, w, wo + (long) (2 * c) * WORD_STEP, LE);
                    IntVector u = IntVector.fromMemorySegment(I, w, wo + (long) (2 * c + 1) * WORD_STEP, LE);
                    ShortVector v0 = v.and(LOW_NIBBLES).reinterpretAsShorts();
                    ShortVector v1 = v.lanewise(VectorOperators.LSHR, 4).and(LOW_NIBBLES).reinterpretAsShorts();
                    ShortVector v2 = v.lanewise(VectorOperators.LSHR, 8).and(LOW_NIBBLES).reinterpretAsShorts();
                    ShortVector v3 = v.lanewise(VectorOperators.LSHR, 12).and(LOW_NIBBLES).reinterpretAsShorts();
                    ShortVector w0 = u.and(LOW_NIBBLES).reinterpretAsShorts();
                    ShortVector w1 = u.lanewise(VectorOperators.LSHR, 4).and(LOW_NIBBLES).reinterpretAsShorts();
                    ShortVector w2 = u.lanewise(VectorOperators.LSHR, 8).and(LOW_NIBBLES).reinterpretAsShorts();
                    ShortVector w3 = u.lanewise(VectorOperators.LSHR, 12).and(LOW_NIBBLES).reinterpretAsShorts();
                    ShortVector x0 = IntVector.broadcast(I, xp[px + 4 * c]).reinterpretAsShorts();
                    ShortVector x1 = IntVector.broadcast(I, xp[px + 4 * c + 1]).reinterpretAsShorts();
                    ShortVector x2 = IntVector.broadcast(I, xp[px + 4 * c + 2]).reinterpretAsShorts();
                    ShortVector x3 = IntVector.broadcast(I, xp[px + 4 * c + 3]).reinterpretAsShorts();
                    s0 = s0.add(v0.mul(x0)).add(v1.mul(x1)).add(v2.mul(x2)).add(v3.mul(x3));
                    s1 = s1.add(w0.mul(x0)).add(w1.mul(x1)).add(w2.mul(x2)).add(w3.mul(x3));
                    ShortVector y0 = IntVector.broadcast(I, xp[py + 4 * c]).reinterpretAsShorts();
                    ShortVector y1 = IntVector.broadcast(I, xp[py + 4 * c + 1]).reinterpretAsShorts();
                    ShortVector y2 = IntVector.broadcast(I, xp[py + 4 * c + 2]).reinterpretAsShorts();
                    ShortVector y3 = IntVector.broadcast(I, xp[py + 4 * c + 3]).reinterpretAsShorts();
                    t0 = t0.add(v0.mul(y0)).add(v1.mul(y1)).add(v2.mul(y2)).add(v3.mul(y3));
                    t1 = t1.add(w0.mul(y0)).add(w1.mul(y1)).add(w2.mul(y2)).add(w3.mul(y3));
                }
                long sc = so + SCALE_BYTES + (long) j * SUB;
                IntVector scLo = (IntVector) ByteVector.fromMemorySegment(B, w, sc, LE)
                        .convertShape(VectorOperators.B2I, I, 0);
                IntVector scHi = (IntVector) ByteVector.fromMemorySegment(B, w, sc + LANES, LE)
                        .convertShape(VectorOperators.B2I, I, 0);
                IntVector i0 = s0.reinterpretAsInts();
                IntVector i1 = s1.reinterpretAsInts();
                isLo = isLo.add(i0.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                        .add(i0.lanewise(VectorOperators.ASHR, 16)).mul(scLo));
                isHi = isHi.add(i1.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                        .add(i1.lanewise(VectorOperators.ASHR, 16)).mul(scHi));
                IntVector u0 = t0.reinterpretAsInts();
                IntVector u1 = t1.reinterpretAsInts();
                jsLo = jsLo.add(u0.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                        .add(u0.lanewise(VectorOperators.ASHR, 16)).mul(scLo));
                jsHi = jsHi.add(u1.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                        .add(u1.lanewise(VectorOperators.ASHR, 16)).mul(scHi));
            }
            // the min terms after the quants, so their vectors do not compete for registers with the loop above
            IntVector msLo = IntVector.zero(I);
            IntVector msHi = IntVector.zero(I);
            IntVector nsLo = IntVector.zero(I);
            IntVector nsHi = IntVector.zero(I);
            int bx = xo / 16;
            int by = yo / 16;
            for (int j = 0; j < 8; j++) {
                long mn = so + SCALE_BYTES + (long) j * SUB + G;
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
            // d and -dmin widened from F16 in place: C2 does not inline a helper here (NodeCountInliningCutoff, boxed)
            FloatVector dLo = ((IntVector) ShortVector.fromMemorySegment(SH, w, so, LE)
                    .convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 13).and(F16_BITS)
                    .reinterpretAsFloats().mul(0x1p112f);
            FloatVector dHi = ((IntVector) ShortVector.fromMemorySegment(SH, w, so + 2L * LANES, LE)
                    .convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 13).and(F16_BITS)
                    .reinterpretAsFloats().mul(0x1p112f);
            FloatVector mLo = ((IntVector) ShortVector.fromMemorySegment(SH, w, so + 2L * G, LE)
                    .convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 13).and(F16_BITS)
                    .reinterpretAsFloats().mul(0x1p112f);
            FloatVector mHi = ((IntVector) ShortVector.fromMemorySegment(SH, w, so + 2L * G + 2L * LANES, LE)
                    .convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 13).and(F16_BITS)
                    .reinterpretAsFloats().mul(0x1p112f);
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

    @Override
    boolean hasThree() {
        return true;
    }

    /**
     * Three activation rows (prefill): each weight word is unpacked once for three; written out as {@link #two}
     * (C2 leaves helpers as calls in loops this size). In cache 56-57 -> 60-61 G MAC/s on one core.
     */
    @Override
    void three(MemorySegment w, long groupOff, int cols, ActivationRows a, int ao, int ap, int aq, float[] out,
             int o, int p, int q) {
        int[] xp = a.pairs();
        float[] ds = a.scales();
        short[] bs = a.bsums();
        FloatVector accLo = FloatVector.zero(FI);
        FloatVector accHi = FloatVector.zero(FI);
        FloatVector bccLo = FloatVector.zero(FI);
        FloatVector bccHi = FloatVector.zero(FI);
        FloatVector cccLo = FloatVector.zero(FI);
        FloatVector cccHi = FloatVector.zero(FI);
        for (int b = 0; b < cols / 256; b++) {
            long so = groupOff + (long) b * SUPER;
            int xo = ao + 256 * b;
            int yo = ap + 256 * b;
            int zo = aq + 256 * b;
            IntVector isLo = IntVector.zero(I);
            IntVector isHi = IntVector.zero(I);
            IntVector jsLo = IntVector.zero(I);
            IntVector jsHi = IntVector.zero(I);
            IntVector ksLo = IntVector.zero(I);
            IntVector ksHi = IntVector.zero(I);
            for (int j = 0; j < 8; j++) {
                ShortVector s0 = ShortVector.zero(S);
                ShortVector s1 = ShortVector.zero(S);
                ShortVector t0 = ShortVector.zero(S);
                ShortVector t1 = ShortVector.zero(S);
                ShortVector r0 = ShortVector.zero(S);
                ShortVector r1 = ShortVector.zero(S);
                int px = (xo >> 1) + 16 * j;
                int py = (yo >> 1) + 16 * j;
                int pz = (zo >> 1) + 16 * j;
                long wo = so + SCALE_BYTES + 2 * G + (long) j * SUB;
                for (int c = 0; c < 4; c++) {
                    IntVector v = IntVector.fromMemorySegment(I, w, wo + (long) (2 * c) * WORD_STEP, LE);
                    IntVector u = IntVector.fromMemorySegment(I, w, wo + (long) (2 * c + 1) * WORD_STEP, LE);
                    ShortVector v0 = v.and(LOW_NIBBLES).reinterpretAsShorts();
                    ShortVector v1 = v.lanewise(VectorOperators.LSHR, 4).and(LOW_NIBBLES).reinterpretAsShorts();
                    ShortVector v2 = v.lanewise(VectorOperators.LSHR, 8).and(LOW_NIBBLES).reinterpretAsShorts();
                    ShortVector v3 = v.lanewise(VectorOperators.LSHR, 12).and(LOW_NIBBLES).reinterpretAsShorts();
                    ShortVector w0 = u.and(LOW_NIBBLES).reinterpretAsShorts();
                    ShortVector w1 = u.lanewise(VectorOperators.LSHR, 4).and(LOW_NIBBLES).reinterpretAsShorts();
                    ShortVector w2 = u.lanewise(VectorOperators.LSHR, 8).and(LOW_NIBBLES).reinterpretAsShorts();
                    ShortVector w3 = u.lanewise(VectorOperators.LSHR, 12).and(LOW_NIBBLES).reinterpretAsShorts();
                    ShortVector x0 = IntVector.broadcast(I, xp[px + 4 * c]).reinterpretAsShorts();
                    ShortVector x1 = IntVector.broadcast(I, xp[px + 4 * c + 1]).reinterpretAsShorts();
                    ShortVector x2 = IntVector.broadcast(I, xp[px + 4 * c + 2]).reinterpretAsShorts();
                    ShortVector x3 = IntVector.broadcast(I, xp[px + 4 * c + 3]).reinterpretAsShorts();
                    s0 = s0.add(v0.mul(x0)).add(v1.mul(x1)).add(v2.mul(x2)).add(v3.mul(x3));
                    s1 = s1.add(w0.mul(x0)).add(w1.mul(x1)).add(w2.mul(x2)).add(w3.mul(x3));
                    ShortVector y0 = IntVector.broadcast(I, xp[py + 4 * c]).reinterpretAsShorts();
                    ShortVector y1 = IntVector.broadcast(I, xp[py + 4 * c + 1]).reinterpretAsShorts();
                    ShortVector y2 = IntVector.broadcast(I, xp[py + 4 * c + 2]).reinterpretAsShorts();
                    ShortVector y3 = IntVector.broadcast(I, xp[py + 4 * c + 3]).reinterpretAsShorts();
                    t0 = t0.add(v0.mul(y0)).add(v1.mul(y1)).add(v2.mul(y2)).add(v3.mul(y3));
                    t1 = t1.add(w0.mul(y0)).add(w1.mul(y1)).add(w2.mul(y2)).add(w3.mul(y3));
                    ShortVector z0 = IntVector.broadcast(I, xp[pz + 4 * c]).reinterpretAsShorts();
                    ShortVector z1 = IntVector.broadcast(I, xp[pz + 4 * c + 1]).reinterpretAsShorts();
                    ShortVector z2 = IntVector.broadcast(I, xp[pz + 4 * c + 2]).reinterpretAsShorts();
                    ShortVector z3 = IntVector.broadcast(I, xp[pz + 4 * c + 3]).reinterpretAsShorts();
                    r0 = r0.add(v0.mul(z0)).add(v1.mul(z1)).add(v2.mul(z2)).add(v3.mul(z3));
                    r1 = r1.add(w0.mul(z0)).add(w1.mul(z1)).add(w2.mul(z2)).add(w3.mul(z3));
                }
                long sc = so + SCALE_BYTES + (long) j * SUB;
                IntVector scLo = (IntVector) ByteVector.fromMemorySegment(B, w, sc, LE)
                        .convertShape(VectorOperators.B2I, I, 0);
                IntVector scHi = (IntVector) ByteVector.fromMemorySegment(B, w, sc + LANES, LE)
                        .convertShape(VectorOperators.B2I, I, 0);
                IntVector i0 = s0.reinterpretAsInts();
                IntVector i1 = s1.reinterpretAsInts();
                isLo = isLo.add(i0.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                        .add(i0.lanewise(VectorOperators.ASHR, 16)).mul(scLo));
                isHi = isHi.add(i1.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                        .add(i1.lanewise(VectorOperators.ASHR, 16)).mul(scHi));
                IntVector u0 = t0.reinterpretAsInts();
                IntVector u1 = t1.reinterpretAsInts();
                jsLo = jsLo.add(u0.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                        .add(u0.lanewise(VectorOperators.ASHR, 16)).mul(scLo));
                jsHi = jsHi.add(u1.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                        .add(u1.lanewise(VectorOperators.ASHR, 16)).mul(scHi));
                IntVector e0 = r0.reinterpretAsInts();
                IntVector e1 = r1.reinterpretAsInts();
                ksLo = ksLo.add(e0.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                        .add(e0.lanewise(VectorOperators.ASHR, 16)).mul(scLo));
                ksHi = ksHi.add(e1.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                        .add(e1.lanewise(VectorOperators.ASHR, 16)).mul(scHi));
            }
            // the min terms after the quants, so their vectors do not compete for registers with the loop above
            IntVector msLo = IntVector.zero(I);
            IntVector msHi = IntVector.zero(I);
            IntVector nsLo = IntVector.zero(I);
            IntVector nsHi = IntVector.zero(I);
            IntVector osLo = IntVector.zero(I);
            IntVector osHi = IntVector.zero(I);
            int bx = xo / 16;
            int by = yo / 16;
            int bz = zo / 16;
            for (int j = 0; j < 8; j++) {
                long mn = so + SCALE_BYTES + (long) j * SUB + G;
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
                int sz = bs[bz + 2 * j] + bs[bz + 2 * j + 1];
                osLo = osLo.add(mLo.mul(sz));
                osHi = osHi.add(mHi.mul(sz));
            }
            float dx = ds[xo / 256];
            float dyy = ds[yo / 256];
            float dzz = ds[zo / 256];
            // d and -dmin widened from F16 in place: C2 does not inline a helper here (NodeCountInliningCutoff, boxed)
            FloatVector dLo = ((IntVector) ShortVector.fromMemorySegment(SH, w, so, LE)
                    .convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 13).and(F16_BITS)
                    .reinterpretAsFloats().mul(0x1p112f);
            FloatVector dHi = ((IntVector) ShortVector.fromMemorySegment(SH, w, so + 2L * LANES, LE)
                    .convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 13).and(F16_BITS)
                    .reinterpretAsFloats().mul(0x1p112f);
            FloatVector mLo = ((IntVector) ShortVector.fromMemorySegment(SH, w, so + 2L * G, LE)
                    .convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 13).and(F16_BITS)
                    .reinterpretAsFloats().mul(0x1p112f);
            FloatVector mHi = ((IntVector) ShortVector.fromMemorySegment(SH, w, so + 2L * G + 2L * LANES, LE)
                    .convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 13).and(F16_BITS)
                    .reinterpretAsFloats().mul(0x1p112f);
            accLo = ((FloatVector) isLo.convert(VectorOperators.I2F, 0)).fma(dLo.mul(dx), accLo);
            accHi = ((FloatVector) isHi.convert(VectorOperators.I2F, 0)).fma(dHi.mul(dx), accHi);
            accLo = ((FloatVector) msLo.convert(VectorOperators.I2F, 0)).fma(mLo.mul(dx), accLo);
            accHi = ((FloatVector) msHi.convert(VectorOperators.I2F, 0)).fma(mHi.mul(dx), accHi);
            bccLo = ((FloatVector) jsLo.convert(VectorOperators.I2F, 0)).fma(dLo.mul(dyy), bccLo);
            bccHi = ((FloatVector) jsHi.convert(VectorOperators.I2F, 0)).fma(dHi.mul(dyy), bccHi);
            bccLo = ((FloatVector) nsLo.convert(VectorOperators.I2F, 0)).fma(mLo.mul(dyy), bccLo);
            bccHi = ((FloatVector) nsHi.convert(VectorOperators.I2F, 0)).fma(mHi.mul(dyy), bccHi);
            cccLo = ((FloatVector) ksLo.convert(VectorOperators.I2F, 0)).fma(dLo.mul(dzz), cccLo);
            cccHi = ((FloatVector) ksHi.convert(VectorOperators.I2F, 0)).fma(dHi.mul(dzz), cccHi);
            cccLo = ((FloatVector) osLo.convert(VectorOperators.I2F, 0)).fma(mLo.mul(dzz), cccLo);
            cccHi = ((FloatVector) osHi.convert(VectorOperators.I2F, 0)).fma(mHi.mul(dzz), cccHi);
        }
        accLo.intoArray(out, o);
        accHi.intoArray(out, o + LANES);
        bccLo.intoArray(out, p);
        bccHi.intoArray(out, p + LANES);
        cccLo.intoArray(out, q);
        cccHi.intoArray(out, q + LANES);
    }

    /**
     * Scalar reference over the stored (not repacked) row at {@code wOff}, in the order the repacked kernel
     * accumulates: per super-block exact integer sums, then {@code fma(isum, d * dy, acc)} and
     * {@code fma(msum, -dmin * dy, acc)}.
     */
    public static float dotReference(MemorySegment w, long wOff, ActivationRows a, int aOff, int n) {
        return KQuant.scaleMinReference(w, wOff, BLOCK_BYTES, Q4_KRepacked::nibble, a, aOff, n);
    }
}
