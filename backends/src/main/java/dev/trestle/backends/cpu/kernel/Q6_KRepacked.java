package dev.trestle.backends.cpu.kernel;

import dev.trestle.backends.bytes.Le;
import dev.trestle.backends.cpu.ActivationRows;
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
 * Q6_K repacked in groups of {@code 2 * LANES} rows (32 on AVX-512), two short lanes per row, against Q8_K.
 *
 * <p>Layout of one super-block (256 columns) of a group of {@code G} rows: d as floats ({@code G}, row order), then
 * per pair of sub-blocks their int8 scales ({@code 2 x G} bytes, row order) and their quants. Quants are
 * {@code q6 - 32} as one signed byte per weight (8 bits instead of 6.5: two shifts per element and row lane, no bit
 * assembly); for sub-block {@code i}, word {@code m} (0..3) and half group {@code h}, one vector of {@code LANES}
 * little-endian ints, int {@code j} holding elements {@code 16i + 4m .. 16i + 4m + 3} of row {@code h * LANES + j}.
 * Read as shorts, the low bytes are elements {@code 4m, 4m + 2} and the high bytes {@code 4m + 1, 4m + 3}, so each
 * multiplies one 32-bit broadcast of {@link ActivationRows#pairs()}, shared by both half groups.
 *
 * <p>Every byte is consumed in address order, scales just before the quants they scale: with the scales in a
 * block of their own after the quants, the jumps defeated the hardware prefetcher and a matvec over DRAM read
 * 10 GB/s on one Zen 4 core instead of 27 (docs/performance.md).
 *
 * <p>Numerics: per row and super-block {@code isum = sum_i scale_i * dot_i} is an exact integer (each short lane sums
 * 8 products of {@code q6 - 32} and a Q8_K quant: 8 * 32 * 127 < 2^15), accumulated as
 * {@code fma(isum, d * dy, acc)} in super-block order, as {@link #dotReference} does.
 */
public final class Q6_KRepacked extends PairedRepackedKernel {
    private static final int LANES = VectorShapes.LANES;
    /** Rows per group: one short lane per row. */
    static final int G = 2 * LANES;
    private static final VectorSpecies<Short> S = ShortVector.SPECIES_64.withShape(VectorShape.forBitSize(G * 16));
    private static final VectorSpecies<Integer> I = VectorShapes.I;
    private static final VectorSpecies<Float> FI = VectorShapes.FI;
    private static final VectorSpecies<Byte> B = VectorShapes.B;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    static final int BLOCK_BYTES = 210;
    /** Bytes of one pair of sub-blocks: their scales, then their quants. */
    private static final int PAIR = 34 * G;
    /** Bytes of one repacked super-block of a group: d, then eight sub-block pairs. */
    private static final int SUPER = 4 * G + 8 * PAIR;

    @Override
    public GgmlType weightType() {
        return GgmlType.Q6_K;
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
        int[] q = new int[256];
        for (int b = 0; b < cols / 256; b++) {
            long so = dstOff + (long) b * SUPER;
            for (int r = 0; r < G; r++) {
                long bo = srcOff + r * rowBytes + (long) b * BLOCK_BYTES;
                int h = r / LANES;
                int j = r % LANES;
                // the block read and decoded once (load time matters: this runs over every Q6_K weight)
                decode(src, bo, blk, q);
                for (int i = 0; i < 16; i++) {
                    for (int m = 0; m < 4; m++) {
                        int e = 16 * i + 4 * m;
                        int word = (q[e] & 0xff) | (q[e + 1] & 0xff) << 8 | (q[e + 2] & 0xff) << 16 | q[e + 3] << 24;
                        Le.putI32(dst, quants(so, i) + ((2L * m + h) * LANES + j) * 4, word);
                    }
                    Le.putU8(dst, scales(so, i) + r, blk[192 + i]);
                }
                Le.putF32(dst, so + 4L * r, Le.f16(src, bo + 208));
            }
        }
    }

    /**
     * Decodes the stored Q6_K block at {@code bo} into {@code q} (256 weights, {@code q6 - 32}), staging its
     * bytes in {@code blk}.
     */
    static void decode(MemorySegment src, long bo, byte[] blk, int[] q) {
        MemorySegment.copy(src, ValueLayout.JAVA_BYTE, bo, blk, 0, BLOCK_BYTES);
        for (int half = 0; half < 2; half++) {
            for (int l = 0; l < 32; l++) {
                int lq = blk[64 * half + l] & 0xff;
                int lq2 = blk[64 * half + l + 32] & 0xff;
                int hb = blk[128 + 32 * half + l] & 0xff;
                int e = 128 * half + l;
                q[e] = ((lq & 0xf) | (hb & 3) << 4) - 32;
                q[e + 32] = ((lq2 & 0xf) | (hb >>> 2 & 3) << 4) - 32;
                q[e + 64] = ((lq >>> 4) | (hb >>> 4 & 3) << 4) - 32;
                q[e + 96] = ((lq2 >>> 4) | (hb >>> 6 & 3) << 4) - 32;
            }
        }
    }

    /**
     * Offset of sub-block {@code i}'s {@code G} scale bytes in the super-block at {@code so}. The kernels write these
     * offsets out: C2 does not inline even these small helpers into them (node budget).
     */
    private static long scales(long so, int i) {
        return so + 4 * G + (long) (i >> 1) * PAIR + (i & 1) * G;
    }

    /** Offset of sub-block {@code i}'s {@code 16 x G} quant bytes in the super-block at {@code so}. */
    private static long quants(long so, int i) {
        return so + 6 * G + (long) (i >> 1) * PAIR + (i & 1) * 16 * G;
    }

    /** Element {@code e} (0..255) of the stored Q6_K block at {@code bo}, minus 32. */
    private static int q6(MemorySegment w, long bo, int e) {
        int half = e / 128;
        int quarter = (e % 128) / 32;
        int l = e % 32;
        int lq = Le.u8(w, bo + 64L * half + l + 32L * (quarter & 1));
        int low = (quarter & 2) == 0 ? lq & 0xf : lq >>> 4;
        int high = (Le.u8(w, bo + 128 + 32L * half + l) >>> (2 * quarter)) & 3;
        return (low | high << 4) - 32;
    }

    /** One activation row (decode): the group's {@code G} dots into {@code out[o..o+G)}. */
    @Override
    void one(MemorySegment w, long groupOff, int cols, ActivationRows a, int ao, float[] out, int o) {
        int[] xp = a.pairs();
        float[] ds = a.scales();
        // shift counts as a vector: C2 compiles a short-lane shift by a constant int as three instructions
        ShortVector eight = ShortVector.broadcast(S, (short) 8);
        FloatVector accLo = FloatVector.zero(FI);
        FloatVector accHi = FloatVector.zero(FI);
        for (int b = 0; b < cols / 256; b++) {
            long so = groupOff + (long) b * SUPER;
            int xo = ao + 256 * b;
            // d first: the super-block's bytes are then read in address order, which the prefetcher follows
            FloatVector dLo = FloatVector.fromMemorySegment(FI, w, so, LE);
            FloatVector dHi = FloatVector.fromMemorySegment(FI, w, so + 4L * LANES, LE);
            IntVector isLo = IntVector.zero(I);
            IntVector isHi = IntVector.zero(I);
            for (int i = 0; i < 16; i++) {
                ShortVector s0 = ShortVector.zero(S);
                ShortVector s1 = ShortVector.zero(S);
                int p = (xo >> 1) + 8 * i;
                long wo = so + 6 * G + (long) (i >> 1) * PAIR + (i & 1) * 16 * G;
                for (int m = 0; m < 4; m++) {
                    ShortVector xl = IntVector.broadcast(I, xp[p + 2 * m]).reinterpretAsShorts();
                    ShortVector xh = IntVector.broadcast(I, xp[p + 2 * m + 1]).reinterpretAsShorts();
                    ShortVector v = ShortVector.fromMemorySegment(S, w, wo + (long) (2 * m) * 2 * G, LE);
                    ShortVector u = ShortVector.fromMemorySegment(S, w, wo + (long) (2 * m + 1) * 2 * G, LE);
                    s0 = s0.add(v.reinterpretAsInts().lanewise(VectorOperators.LSHL, 8).reinterpretAsShorts()
                            .lanewise(VectorOperators.ASHR, eight).mul(xl))
                            .add(v.lanewise(VectorOperators.ASHR, eight).mul(xh));
                    s1 = s1.add(u.reinterpretAsInts().lanewise(VectorOperators.LSHL, 8).reinterpretAsShorts()
                            .lanewise(VectorOperators.ASHR, eight).mul(xl))
                            .add(u.lanewise(VectorOperators.ASHR, eight).mul(xh));
                }
                long sc = so + 4 * G + (long) (i >> 1) * PAIR + (i & 1) * G;
                IntVector i0 = s0.reinterpretAsInts();
                IntVector i1 = s1.reinterpretAsInts();
                // lanes 2j and 2j + 1 are row j's: their sum is the row's sub-block dot
                IntVector lo = i0.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                        .add(i0.lanewise(VectorOperators.ASHR, 16));
                IntVector hi = i1.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                        .add(i1.lanewise(VectorOperators.ASHR, 16));
                isLo = isLo.add(lo.mul((IntVector) ByteVector.fromMemorySegment(B, w, sc, LE)
                        .convertShape(VectorOperators.B2I, I, 0)));
                isHi = isHi.add(hi.mul((IntVector) ByteVector.fromMemorySegment(B, w, sc + LANES, LE)
                        .convertShape(VectorOperators.B2I, I, 0)));
            }
            float dy = ds[xo / 256];
            accLo = ((FloatVector) isLo.convert(VectorOperators.I2F, 0)).fma(dLo.mul(dy), accLo);
            accHi = ((FloatVector) isHi.convert(VectorOperators.I2F, 0)).fma(dHi.mul(dy), accHi);
        }
        accLo.intoArray(out, o);
        accHi.intoArray(out, o + LANES);
    }

    /** Two activation rows (prefill): each weight vector is loaded and widened once for both. */
    @Override
    void two(MemorySegment w, long groupOff, int cols, ActivationRows a, int ao, int ap, float[] out,
             int o, int p) {
        int[] xp = a.pairs();
        float[] ds = a.scales();
        // shift counts as a vector: C2 compiles a short-lane shift by a constant int as three instructions
        ShortVector eight = ShortVector.broadcast(S, (short) 8);
        FloatVector accLo = FloatVector.zero(FI);
        FloatVector accHi = FloatVector.zero(FI);
        FloatVector bccLo = FloatVector.zero(FI);
        FloatVector bccHi = FloatVector.zero(FI);
        for (int b = 0; b < cols / 256; b++) {
            long so = groupOff + (long) b * SUPER;
            int xo = ao + 256 * b;
            int yo = ap + 256 * b;
            FloatVector dLo = FloatVector.fromMemorySegment(FI, w, so, LE);
            FloatVector dHi = FloatVector.fromMemorySegment(FI, w, so + 4L * LANES, LE);
            IntVector isLo = IntVector.zero(I);
            IntVector isHi = IntVector.zero(I);
            IntVector jsLo = IntVector.zero(I);
            IntVector jsHi = IntVector.zero(I);
            for (int i = 0; i < 16; i++) {
                ShortVector s0 = ShortVector.zero(S);
                ShortVector s1 = ShortVector.zero(S);
                ShortVector t0 = ShortVector.zero(S);
                ShortVector t1 = ShortVector.zero(S);
                int px = (xo >> 1) + 8 * i;
                int py = (yo >> 1) + 8 * i;
                long wo = so + 6 * G + (long) (i >> 1) * PAIR + (i & 1) * 16 * G;
                for (int m = 0; m < 4; m++) {
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
                long sc = so + 4 * G + (long) (i >> 1) * PAIR + (i & 1) * G;
                IntVector scLo = (IntVector) ByteVector.fromMemorySegment(B, w, sc, LE)
                        .convertShape(VectorOperators.B2I, I, 0);
                IntVector scHi = (IntVector) ByteVector.fromMemorySegment(B, w, sc + LANES, LE)
                        .convertShape(VectorOperators.B2I, I, 0);
                // written out inline: with a helper C2 stops inlining here and boxes the vectors (3x slower)
                IntVector i0 = s0.reinterpretAsInts();
                IntVector i1 = s1.reinterpretAsInts();
                IntVector u0 = t0.reinterpretAsInts();
                IntVector u1 = t1.reinterpretAsInts();
                isLo = isLo.add(i0.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                        .add(i0.lanewise(VectorOperators.ASHR, 16)).mul(scLo));
                isHi = isHi.add(i1.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                        .add(i1.lanewise(VectorOperators.ASHR, 16)).mul(scHi));
                jsLo = jsLo.add(u0.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                        .add(u0.lanewise(VectorOperators.ASHR, 16)).mul(scLo));
                jsHi = jsHi.add(u1.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                        .add(u1.lanewise(VectorOperators.ASHR, 16)).mul(scHi));
            }
            float dx = ds[xo / 256];
            float dyy = ds[yo / 256];
            accLo = ((FloatVector) isLo.convert(VectorOperators.I2F, 0)).fma(dLo.mul(dx), accLo);
            accHi = ((FloatVector) isHi.convert(VectorOperators.I2F, 0)).fma(dHi.mul(dx), accHi);
            bccLo = ((FloatVector) jsLo.convert(VectorOperators.I2F, 0)).fma(dLo.mul(dyy), bccLo);
            bccHi = ((FloatVector) jsHi.convert(VectorOperators.I2F, 0)).fma(dHi.mul(dyy), bccHi);
        }
        accLo.intoArray(out, o);
        accHi.intoArray(out, o + LANES);
        bccLo.intoArray(out, p);
        bccHi.intoArray(out, p + LANES);
    }

    /**
     * Scalar reference over the stored (not repacked) row at {@code wOff}, in the order the repacked kernel
     * accumulates: per super-block an exact integer sum, then {@code fma(isum, d * dy, acc)}.
     */
    public static float dotReference(MemorySegment w, long wOff, ActivationRows a, int aOff, int n) {
        byte[] qs = a.qs();
        float[] ds = a.scales();
        float acc = 0f;
        for (int b = 0; b < n / 256; b++) {
            long bo = wOff + (long) b * BLOCK_BYTES;
            int ao = aOff + b * 256;
            int isum = 0;
            for (int i = 0; i < 16; i++) {
                int dot = 0;
                for (int l = 0; l < 16; l++) {
                    dot += q6(w, bo, 16 * i + l) * qs[ao + 16 * i + l];
                }
                isum += Le.i8(w, bo + 192 + i) * dot;
            }
            acc = Math.fma((float) isum, Le.f16(w, bo + 208) * ds[ao / 256], acc);
        }
        return acc;
    }
}
