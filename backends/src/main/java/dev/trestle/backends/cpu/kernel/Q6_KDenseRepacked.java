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
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Q6_K repacked at 6 bits per weight for 512-bit vectors with a byte permute (AVX-512 VBMI), in groups of 32
 * rows, two short lanes per row, against Q8_K: the layout of {@link Q6_KRepacked} with each vector of 32 weights
 * packed into 24 bytes instead of 32 (0.83 bytes per weight with scales, as the file, instead of 1.08). Decode is
 * bound by memory bandwidth, so reading a quarter fewer bytes is worth the unpacking: one byte permute moves the
 * two bytes holding each weight into its short lane, a per-lane shift puts the weight's 6 bits at the top and an
 * arithmetic shift brings them down sign-extended.
 *
 * <p>Layout of one super-block of a group: d as floats (32, row order), then per pair of sub-blocks their int8
 * scales (2 x 32 bytes, row order) and the quants of each sub-block: for word {@code m} (0..3), half group
 * {@code h} and part {@code p} (0: elements {@code 4m, 4m + 2}; 1: {@code 4m + 1, 4m + 3}), 24 bytes holding short
 * lanes {@code s = 2j + k} (row {@code 16h + j}, element {@code 16i + 4m + p + 2k}), lane {@code s}'s 6 bits at bit
 * {@code 6s}, the weight {@code q6 - 32} in two's complement. A group ends with 64 bytes of padding: each 24-byte
 * chunk is loaded as a whole vector.
 *
 * <p>Numerics: the same exact integers, in the same order, as {@link Q6_KRepacked} ({@link Q6_KRepacked#dotReference}).
 */
public final class Q6_KDenseRepacked extends PairedRepackedKernel {
    /** Rows per group: 16 rows per half, two short lanes per row. */
    static final int G = 32;
    private static final int LANES = 16;
    private static final VectorSpecies<Byte> B = ByteVector.SPECIES_512;
    private static final VectorSpecies<Short> S = ShortVector.SPECIES_512;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_512;
    private static final VectorSpecies<Byte> SCALE = ByteVector.SPECIES_128;
    private static final VectorSpecies<Float> FI = FloatVector.SPECIES_512;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    /** Bytes of one sub-block's quants: 16 chunks of 24. */
    private static final int SUB = 16 * 24;
    /** Bytes of one pair of sub-blocks: their scales, then their quants. */
    private static final int PAIR = 2 * G + 2 * SUB;
    /** Bytes of one repacked super-block of a group: d, then eight sub-block pairs. */
    private static final int SUPER = 4 * G + 8 * PAIR;
    private static final int PAD = 64;
    /** Short lane {@code s} gathers bytes {@code 6s / 8} and {@code 6s / 8 + 1} of its chunk. */
    private static final VectorShuffle<Byte> SPREAD = VectorShuffle.fromOp(B, i -> 6 * (i / 2) / 8 + i % 2);
    /** Left shift that puts lane {@code s}'s 6 bits (at bit {@code 6s % 8} of its two bytes) at bits 10..15. */
    private static final short[] PLACE = new short[32];

    static {
        for (int s = 0; s < 32; s++) {
            PLACE[s] = (short) (10 - 6 * s % 8);
        }
    }

    /**
     * True when this JVM's preferred vectors are 512 bits wide and the CPU has AVX-512 VBMI (its byte permute):
     * without it the permute is a sequence of instructions and the 8-bit layout is faster.
     */
    public static boolean usable() {
        return FloatVector.SPECIES_PREFERRED.length() == 16 && VectorShapes.hasCpuFlag("avx512vbmi");
    }

    public Q6_KDenseRepacked() {
        super(VnniMatmul.forType(GgmlType.Q6_K));
    }

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
        return (long) (cols / 256) * SUPER + PAD;
    }

    @Override
    public void repack(MemorySegment src, long srcOff, long rowBytes, int cols, MemorySegment dst, long dstOff) {
        byte[] blk = new byte[Q6_KRepacked.BLOCK_BYTES];
        int[][] q = new int[G][256];
        for (int b = 0; b < cols / 256; b++) {
            long so = dstOff + (long) b * SUPER;
            for (int r = 0; r < G; r++) {
                long bo = srcOff + r * rowBytes + (long) b * Q6_KRepacked.BLOCK_BYTES;
                Q6_KRepacked.decode(src, bo, blk, q[r]);
                Le.putF32(dst, so + 4L * r, Le.f16(src, bo + 208));
                for (int i = 0; i < 16; i++) {
                    Le.putU8(dst, so + 4 * G + (long) (i >> 1) * PAIR + (i & 1) * G + r, blk[192 + i]);
                }
            }
            for (int i = 0; i < 16; i++) {
                long qo = so + 6 * G + (long) (i >> 1) * PAIR + (i & 1) * SUB;
                for (int chunk = 0; chunk < 16; chunk++) {
                    int m = chunk / 4;
                    int h = chunk / 2 % 2;
                    int part = chunk % 2;
                    // four 6-bit lanes in three bytes at a time
                    for (int s = 0; s < 32; s += 4) {
                        int bits = 0;
                        for (int t = 0; t < 4; t++) {
                            int lane = s + t;
                            int e = 16 * i + 4 * m + part + 2 * (lane % 2);
                            bits |= (q[16 * h + lane / 2][e] & 63) << (6 * t);
                        }
                        long at = qo + 24L * chunk + 6 * s / 8;
                        Le.putU8(dst, at, (byte) bits);
                        Le.putU8(dst, at + 1, (byte) (bits >>> 8));
                        Le.putU8(dst, at + 2, (byte) (bits >>> 16));
                    }
                }
            }
        }
        long end = dstOff + (long) (cols / 256) * SUPER;
        dst.asSlice(end, PAD).fill((byte) 0);
    }

    /**
     * The group at {@code groupOff} in {@link VnniMatmul#Q6_K_SUPER}-byte super-blocks of byte codes for the emitted
     * VNNI kernel, in a per-thread buffer: each 6-bit weight unpacked once per call serves every token of it.
     */
    @Override
    MemorySegment vnniWeights(MemorySegment w, long groupOff, int cols) {
        int supers = cols / 256;
        MemorySegment dst = VnniMatmul.scratch((long) supers * VnniMatmul.Q6_K_SUPER);
        ShortVector place = ShortVector.fromArray(S, PLACE, 0);
        ShortVector ten = ShortVector.broadcast(S, (short) 10);
        for (int b = 0; b < supers; b++) {
            long so = groupOff + (long) b * SUPER;
            long vo = (long) b * VnniMatmul.Q6_K_SUPER;
            MemorySegment.copy(w, so, dst, vo, 4L * G);
            for (int i = 0; i < 16; i++) {
                long sc = so + 4 * G + (long) (i >> 1) * PAIR + (i & 1) * G;
                MemorySegment.copy(w, sc, dst, vo + VnniMatmul.Q6_K_SCALES + 32L * i, G);
                long wo = so + 6 * G + (long) (i >> 1) * PAIR + (i & 1) * SUB;
                for (int m = 0; m < 4; m++) {
                    for (int h = 0; h < 2; h++) {
                        long c = wo + 96L * m + 48L * h;
                        // parts 0 and 1: elements (4m, 4m + 2) and (4m + 1, 4m + 3) of each row, as codes 0..63
                        ShortVector p0 = ByteVector.fromMemorySegment(B, w, c, LE).rearrange(SPREAD)
                                .reinterpretAsShorts().lanewise(VectorOperators.LSHL, place)
                                .lanewise(VectorOperators.ASHR, ten).add((short) 32);
                        ShortVector p1 = ByteVector.fromMemorySegment(B, w, c + 24, LE).rearrange(SPREAD)
                                .reinterpretAsShorts().lanewise(VectorOperators.LSHL, place)
                                .lanewise(VectorOperators.ASHR, ten).add((short) 32);
                        // each row's int: the codes of elements 4m .. 4m + 3 in byte order
                        p0.reinterpretAsInts().or(p1.reinterpretAsInts().lanewise(VectorOperators.LSHL, 8))
                                .intoMemorySegment(dst, vo + VnniMatmul.Q6_K_QUANTS + ((2L * i + h) * 4 + m) * 64,
                                        LE);
                    }
                }
            }
            for (int p = 0; p < 8; p++) {
                for (int h = 0; h < 2; h++) {
                    for (int j = 0; j < LANES; j++) {
                        int r = LANES * h + j;
                        int s0 = dst.get(ValueLayout.JAVA_BYTE, vo + VnniMatmul.Q6_K_SCALES + 32L * (2 * p) + r);
                        int s1 = dst.get(ValueLayout.JAVA_BYTE, vo + VnniMatmul.Q6_K_SCALES + 32L * (2 * p + 1) + r);
                        dst.set(Le.INT, vo + VnniMatmul.Q6_K_PAIRS + (2L * p + h) * 64 + 4L * j,
                                (s0 & 0xffff) | s1 << 16);
                    }
                }
            }
        }
        return dst;
    }

    /** One activation row (decode): the group's {@code G} dots into {@code out[o..o+G)}. */
    @Override
    void one(MemorySegment w, long groupOff, int cols, ActivationRows a, int ao, float[] out, int o) {
        int[] xp = a.pairs();
        float[] ds = a.scales();
        // shift counts as vectors: C2 compiles a short-lane shift by a constant int as three instructions
        ShortVector place = ShortVector.fromArray(S, PLACE, 0);
        ShortVector ten = ShortVector.broadcast(S, (short) 10);
        FloatVector accLo = FloatVector.zero(FI);
        FloatVector accHi = FloatVector.zero(FI);
        for (int b = 0; b < cols / 256; b++) {
            long so = groupOff + (long) b * SUPER;
            int xo = ao + 256 * b;
            FloatVector dLo = FloatVector.fromMemorySegment(FI, w, so, LE);
            FloatVector dHi = FloatVector.fromMemorySegment(FI, w, so + 4L * LANES, LE);
            IntVector isLo = IntVector.zero(I);
            IntVector isHi = IntVector.zero(I);
            for (int i = 0; i < 16; i++) {
                int px = (xo >> 1) + 8 * i;
                long wo = so + 6 * G + (long) (i >> 1) * PAIR + (i & 1) * SUB;
                ShortVector s0 = ShortVector.zero(S);
                ShortVector s1 = ShortVector.zero(S);
                for (int m = 0; m < 4; m++) {
                    long c = wo + 96L * m;
                    ShortVector xl = IntVector.broadcast(I, xp[px + 2 * m]).reinterpretAsShorts();
                    ShortVector xh = IntVector.broadcast(I, xp[px + 2 * m + 1]).reinterpretAsShorts();
                    ShortVector vl = ByteVector.fromMemorySegment(B, w, c, LE).rearrange(SPREAD)
                            .reinterpretAsShorts().lanewise(VectorOperators.LSHL, place)
                            .lanewise(VectorOperators.ASHR, ten);
                    ShortVector vh = ByteVector.fromMemorySegment(B, w, c + 24, LE).rearrange(SPREAD)
                            .reinterpretAsShorts().lanewise(VectorOperators.LSHL, place)
                            .lanewise(VectorOperators.ASHR, ten);
                    ShortVector ul = ByteVector.fromMemorySegment(B, w, c + 48, LE).rearrange(SPREAD)
                            .reinterpretAsShorts().lanewise(VectorOperators.LSHL, place)
                            .lanewise(VectorOperators.ASHR, ten);
                    ShortVector uh = ByteVector.fromMemorySegment(B, w, c + 72, LE).rearrange(SPREAD)
                            .reinterpretAsShorts().lanewise(VectorOperators.LSHL, place)
                            .lanewise(VectorOperators.ASHR, ten);
                    s0 = s0.add(vl.mul(xl)).add(vh.mul(xh));
                    s1 = s1.add(ul.mul(xl)).add(uh.mul(xh));
                }
                // lanes 2j and 2j + 1 are row j's: their sum is the row's sub-block dot
                IntVector lo = s0.reinterpretAsInts().lanewise(VectorOperators.LSHL, 16)
                        .lanewise(VectorOperators.ASHR, 16).add(s0.reinterpretAsInts()
                        .lanewise(VectorOperators.ASHR, 16));
                IntVector hi = s1.reinterpretAsInts().lanewise(VectorOperators.LSHL, 16)
                        .lanewise(VectorOperators.ASHR, 16).add(s1.reinterpretAsInts()
                        .lanewise(VectorOperators.ASHR, 16));
                long sc = so + 4 * G + (long) (i >> 1) * PAIR + (i & 1) * G;
                isLo = isLo.add(lo.mul((IntVector) ByteVector.fromMemorySegment(SCALE, w, sc, LE)
                        .convertShape(VectorOperators.B2I, I, 0)));
                isHi = isHi.add(hi.mul((IntVector) ByteVector.fromMemorySegment(SCALE, w, sc + LANES, LE)
                        .convertShape(VectorOperators.B2I, I, 0)));
            }
            float dy = ds[xo / 256];
            accLo = ((FloatVector) isLo.convert(VectorOperators.I2F, 0)).fma(dLo.mul(dy), accLo);
            accHi = ((FloatVector) isHi.convert(VectorOperators.I2F, 0)).fma(dHi.mul(dy), accHi);
        }
        accLo.intoArray(out, o);
        accHi.intoArray(out, o + LANES);
    }

    /** Two activation rows (prefill): each weight vector is unpacked once for both. */
    @Override
    void two(MemorySegment w, long groupOff, int cols, ActivationRows a, int ao, int ap, float[] out,
             int o, int p) {
        int[] xp = a.pairs();
        float[] ds = a.scales();
        ShortVector place = ShortVector.fromArray(S, PLACE, 0);
        ShortVector ten = ShortVector.broadcast(S, (short) 10);
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
                int px = (xo >> 1) + 8 * i;
                int py = (yo >> 1) + 8 * i;
                long wo = so + 6 * G + (long) (i >> 1) * PAIR + (i & 1) * SUB;
                ShortVector s0 = ShortVector.zero(S);
                ShortVector s1 = ShortVector.zero(S);
                ShortVector t0 = ShortVector.zero(S);
                ShortVector t1 = ShortVector.zero(S);
                for (int m = 0; m < 4; m++) {
                    long c = wo + 96L * m;
                    ShortVector vl = ByteVector.fromMemorySegment(B, w, c, LE).rearrange(SPREAD)
                            .reinterpretAsShorts().lanewise(VectorOperators.LSHL, place)
                            .lanewise(VectorOperators.ASHR, ten);
                    ShortVector vh = ByteVector.fromMemorySegment(B, w, c + 24, LE).rearrange(SPREAD)
                            .reinterpretAsShorts().lanewise(VectorOperators.LSHL, place)
                            .lanewise(VectorOperators.ASHR, ten);
                    ShortVector ul = ByteVector.fromMemorySegment(B, w, c + 48, LE).rearrange(SPREAD)
                            .reinterpretAsShorts().lanewise(VectorOperators.LSHL, place)
                            .lanewise(VectorOperators.ASHR, ten);
                    ShortVector uh = ByteVector.fromMemorySegment(B, w, c + 72, LE).rearrange(SPREAD)
                            .reinterpretAsShorts().lanewise(VectorOperators.LSHL, place)
                            .lanewise(VectorOperators.ASHR, ten);
                    ShortVector xl = IntVector.broadcast(I, xp[px + 2 * m]).reinterpretAsShorts();
                    ShortVector xh = IntVector.broadcast(I, xp[px + 2 * m + 1]).reinterpretAsShorts();
                    s0 = s0.add(vl.mul(xl)).add(vh.mul(xh));
                    s1 = s1.add(ul.mul(xl)).add(uh.mul(xh));
                    ShortVector yl = IntVector.broadcast(I, xp[py + 2 * m]).reinterpretAsShorts();
                    ShortVector yh = IntVector.broadcast(I, xp[py + 2 * m + 1]).reinterpretAsShorts();
                    t0 = t0.add(vl.mul(yl)).add(vh.mul(yh));
                    t1 = t1.add(ul.mul(yl)).add(uh.mul(yh));
                }
                long sc = so + 4 * G + (long) (i >> 1) * PAIR + (i & 1) * G;
                IntVector scLo = (IntVector) ByteVector.fromMemorySegment(SCALE, w, sc, LE)
                        .convertShape(VectorOperators.B2I, I, 0);
                IntVector scHi = (IntVector) ByteVector.fromMemorySegment(SCALE, w, sc + LANES, LE)
                        .convertShape(VectorOperators.B2I, I, 0);
                IntVector lo = s0.reinterpretAsInts().lanewise(VectorOperators.LSHL, 16)
                        .lanewise(VectorOperators.ASHR, 16).add(s0.reinterpretAsInts()
                        .lanewise(VectorOperators.ASHR, 16));
                IntVector hi = s1.reinterpretAsInts().lanewise(VectorOperators.LSHL, 16)
                        .lanewise(VectorOperators.ASHR, 16).add(s1.reinterpretAsInts()
                        .lanewise(VectorOperators.ASHR, 16));
                IntVector lp = t0.reinterpretAsInts().lanewise(VectorOperators.LSHL, 16)
                        .lanewise(VectorOperators.ASHR, 16).add(t0.reinterpretAsInts()
                        .lanewise(VectorOperators.ASHR, 16));
                IntVector hp = t1.reinterpretAsInts().lanewise(VectorOperators.LSHL, 16)
                        .lanewise(VectorOperators.ASHR, 16).add(t1.reinterpretAsInts()
                        .lanewise(VectorOperators.ASHR, 16));
                isLo = isLo.add(lo.mul(scLo));
                isHi = isHi.add(hi.mul(scHi));
                jsLo = jsLo.add(lp.mul(scLo));
                jsHi = jsHi.add(hp.mul(scHi));
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
}
