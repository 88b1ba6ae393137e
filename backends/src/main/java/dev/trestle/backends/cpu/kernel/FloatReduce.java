package dev.trestle.backends.cpu.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Float accumulators of the F32/F16 kernels and their horizontal sum in a fixed order: lanes folded in halves
 * (i + L/2, then i + L/4, ...), the order of GCC's and Clang's {@code _mm512_reduce_add_ps}. A fixed order
 * keeps results identical whether the Vector API code is interpreted or compiled (reduceLanes is unordered),
 * and on AVX-512 it reproduces ggml's sums bit for bit.
 */
final class FloatReduce {
    /** Preferred float species, capped at 16 lanes (ggml's AVX-512 register width). */
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED.length() <= 16
            ? FloatVector.SPECIES_PREFERRED : FloatVector.SPECIES_512;
    static final int L = F.length();
    private static final VectorShuffle<Float> X8 = L >= 16 ? VectorShuffle.fromOp(F, i -> i ^ 8) : null;
    private static final VectorShuffle<Float> X4 = L >= 8 ? VectorShuffle.fromOp(F, i -> i ^ 4) : null;
    private static final VectorShuffle<Float> X2 = L >= 4 ? VectorShuffle.fromOp(F, i -> i ^ 2) : null;

    private FloatReduce() {
    }

    /** Sum of the lanes, folded in halves. */
    static float sum(FloatVector v) {
        if (L >= 16) {
            v = v.add(v.rearrange(X8));
        }
        if (L >= 8) {
            v = v.add(v.rearrange(X4));
        }
        if (L >= 4) {
            v = v.add(v.rearrange(X2));
        }
        return L >= 2 ? v.lane(0) + v.lane(1) : v.lane(0);
    }

    /**
     * Sum of a vector's lanes in lane order, for kernels that reduce once per row: unlike {@code reduceLanes}, whose
     * order differs between the interpreter and C2, the same inputs always give the same float.
     */
    static float sumLanes(FloatVector v) {
        float s = 0f;
        for (int i = 0; i < v.length(); i++) {
            s += v.lane(i);
        }
        return s;
    }
}
