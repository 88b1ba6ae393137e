package dev.trestle.backends.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class HalfFloatTest {
    @Test
    void f16RoundsToNearestEven() {
        assertEquals((short) 0x3C00, HalfFloat.floatToF16(1f));
        assertEquals((short) 0x3C00, HalfFloat.floatToF16(1f + 0x1p-11f));        // tie -> even
        assertEquals((short) 0x3C02, HalfFloat.floatToF16(1f + 3 * 0x1p-11f));    // tie -> even (up)
        assertEquals((short) 0x7C00, HalfFloat.floatToF16(70000f));               // overflow -> inf
        assertEquals(0x1p-16f, HalfFloat.f16ToFloat((short) 0x0100));             // subnormal
        assertEquals(-2f, HalfFloat.f16ToFloat((short) 0xC000));
    }

    @Test
    void bf16RoundsToNearestEvenAndKeepsNaN() {
        assertEquals((short) 0x3F80, HalfFloat.floatToBf16(Float.intBitsToFloat(0x3F808000)));  // tie -> even
        assertEquals((short) 0x3F82, HalfFloat.floatToBf16(Float.intBitsToFloat(0x3F818000)));  // tie -> even (up)
        assertEquals((short) 0x3F81, HalfFloat.floatToBf16(Float.intBitsToFloat(0x3F808001)));
        assertTrue(Float.isNaN(HalfFloat.bf16ToFloat(HalfFloat.floatToBf16(Float.intBitsToFloat(0x7F800001)))));
        assertEquals(1.5f, HalfFloat.bf16ToFloat((short) 0x3FC0));
    }

    @Test
    void e8m0HalfScale() {
        assertEquals(0.5f, HalfFloat.e8m0ToFloatHalf(127));
        assertEquals(1f, HalfFloat.e8m0ToFloatHalf(128));
        assertEquals(0x1p-128f, HalfFloat.e8m0ToFloatHalf(0));
        assertEquals(0x1p-127f, HalfFloat.e8m0ToFloatHalf(1));
        assertEquals(0x1p-126f, HalfFloat.e8m0ToFloatHalf(2));
    }
}
