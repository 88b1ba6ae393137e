package dev.trestle.backends.cpu.kernel;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
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

    /** ggml's final order for eight lanes held as two halves: ((a0+a4)+(a2+a6)) + ((a1+a5)+(a3+a7)). */
    static float sum(FloatVector lo, FloatVector hi) {
        FloatVector s = lo.add(hi);
        return (s.lane(0) + s.lane(2)) + (s.lane(1) + s.lane(3));
    }
}
