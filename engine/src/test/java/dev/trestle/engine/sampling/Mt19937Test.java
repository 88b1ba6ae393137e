package dev.trestle.engine.sampling;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class Mt19937Test {
    @Test
    void matchesTheStandardSequence() {
        // C++ [rand.predef]: the 10000th output of a default-constructed mt19937 (seed 5489) is 4123659995
        Mt19937 mt = new Mt19937(5489);
        assertEquals(3499211612L, mt.nextUnsigned());
        assertEquals(581869302L, mt.nextUnsigned());
        assertEquals(3890346734L, mt.nextUnsigned());
        for (int i = 3; i < 9999; i++) {
            mt.nextUnsigned();
        }
        assertEquals(4123659995L, mt.nextUnsigned());
    }

    @Test
    void uniformDoubleCombinesTwoDrawsLowFirst() {
        Mt19937 mt = new Mt19937(5489);
        double expected = (3499211612.0 + 581869302.0 * 4294967296.0) / 18446744073709551616.0;
        assertEquals(expected, mt.nextDouble());
        Mt19937 r = new Mt19937(1);
        for (int i = 0; i < 10000; i++) {
            double d = r.nextDouble();
            assertTrue(d >= 0 && d < 1);
        }
        // std::uniform_real_distribution<double>(0, 1) over std::mt19937(42), libstdc++ (g++ 12)
        Mt19937 m42 = new Mt19937(42);
        assertEquals(0x1.97d47b66bfc3cp-1, m42.nextDouble());
        assertEquals(0x1.77aca8779b102p-3, m42.nextDouble());
        assertEquals(0x1.8f33a88f76c7fp-1, m42.nextDouble());
        mt.seed(5489);
        assertEquals(3499211612L, mt.nextUnsigned());
    }
}
