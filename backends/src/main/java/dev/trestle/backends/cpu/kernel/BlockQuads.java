package dev.trestle.backends.cpu.kernel;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * The integer core of ggml's x86 32-block dots (mul_sum_i8_pairs_float): 16 signed weight bytes times 16
 * activation bytes, summed in groups of four adjacent products, as 4 float lanes. Exact integer sums, so any
 * vector width gives the same result; the callers then accumulate with fma in ggml's lane order.
 */
final class BlockQuads {
    static final VectorSpecies<Byte> B16 = ByteVector.SPECIES_128;
    static final VectorSpecies<Short> S16 = ShortVector.SPECIES_256;
    static final VectorSpecies<Float> F4 = FloatVector.SPECIES_128;
    /** Whole 32-element blocks in one pass need 512-bit short lanes (AVX-512); narrower machines use two halves. */
    static final boolean WIDE = ShortVector.SPECIES_PREFERRED.length() >= 32;
    static final VectorSpecies<Byte> B32 = ByteVector.SPECIES_256;
    static final VectorSpecies<Short> S32 = ShortVector.SPECIES_512;
    static final VectorSpecies<Float> F8 = FloatVector.SPECIES_256;
    /** Lanes 16..31: where a 32-byte block vector holds the high nibbles (elements 16..31). */
    static final VectorMask<Byte> UPPER16 = VectorMask.fromLong(B32, 0xFFFF0000L);
    /** Repeats the 16 bytes of a block's nibbles into both halves of a 32-lane vector. */
    static final VectorShuffle<Byte> TWICE = VectorShuffle.fromOp(B32, i -> i & 15);
    private static final long HIGH_SHORTS = 0xFFFF0000FFFF0000L;

    private BlockQuads() {
    }

    /** Sums of w[4k..4k+3] * x[4k..4k+3] for k = 0..3, as floats. */
    static FloatVector quads(ByteVector w, ByteVector x) {
        ShortVector p = ((ShortVector) w.convertShape(VectorOperators.B2S, S16, 0))
                .mul((ShortVector) x.convertShape(VectorOperators.B2S, S16, 0));
        IntVector i = p.reinterpretAsInts();
        IntVector pairs = i.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                .add(i.lanewise(VectorOperators.ASHR, 16));
        LongVector l = pairs.reinterpretAsLongs();
        LongVector q = l.lanewise(VectorOperators.LSHL, 32).lanewise(VectorOperators.ASHR, 32)
                .add(l.lanewise(VectorOperators.ASHR, 32));
        return (FloatVector) q.convertShape(VectorOperators.L2F, F4, 0);
    }

    /**
     * {@link #quads} for a whole 32-element block at once: lane k holds the exact sum of the products of
     * elements 4k..4k+3, so lanes 0-3 equal the low half's quads and 4-7 the high half's. Every partial sum fits
     * in 16 bits (|w| <= 128, |x| <= 127, four products), so the adds below are exact: adding a lane shifted into
     * a zero field never carries into the field that is kept.
     */
    static FloatVector quads32(ByteVector w, ByteVector x) {
        ShortVector p = ((ShortVector) w.convertShape(VectorOperators.B2S, S32, 0))
                .mul((ShortVector) x.convertShape(VectorOperators.B2S, S32, 0));
        IntVector i = p.reinterpretAsInts();
        // high short of each int becomes s0 + s1 (the low short adds into zeros, so no carry reaches it)
        LongVector l = i.add(i.lanewise(VectorOperators.LSHL, 16)).reinterpretAsLongs().and(HIGH_SHORTS);
        // bits 48..63 become (s0 + s1) + (s2 + s3); bits 32..47 are zero, so nothing carries in
        LongVector q = l.add(l.lanewise(VectorOperators.LSHL, 32)).lanewise(VectorOperators.ASHR, 48);
        return (FloatVector) q.convertShape(VectorOperators.L2F, F8, 0);
    }

    /** {@link #sum} for eight lanes held in one vector. */
    static float sum8(FloatVector a) {
        return ((a.lane(0) + a.lane(4)) + (a.lane(2) + a.lane(6))) + ((a.lane(1) + a.lane(5)) + (a.lane(3) + a.lane(7)));
    }

    /** ggml's final order for eight lanes held as two halves: ((a0+a4)+(a2+a6)) + ((a1+a5)+(a3+a7)). */
    static float sum(FloatVector lo, FloatVector hi) {
        FloatVector s = lo.add(hi);
        return (s.lane(0) + s.lane(2)) + (s.lane(1) + s.lane(3));
    }
}
