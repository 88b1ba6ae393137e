package dev.trestle.backends.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.trestle.backends.type.GgmlType;
import dev.trestle.common.TrestleException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.EnumSet;
import org.junit.jupiter.api.Test;

class CodecsTest {
    @Test
    void everyTypeOfTheCatalogueThatMustBeReadHasACodec() {
        EnumSet<GgmlType> required = EnumSet.of(GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q4_0,
                GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q5_1, GgmlType.Q8_0, GgmlType.Q8_1, GgmlType.Q2_K,
                GgmlType.Q3_K, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K, GgmlType.Q8_K, GgmlType.IQ4_NL,
                GgmlType.IQ4_XS, GgmlType.MXFP4);
        assertEquals(required, EnumSet.copyOf(Codecs.supported()));
        for (GgmlType t : required) {
            assertEquals(t, Codecs.of(t).type());
            assertTrue(Codecs.of(t).canQuantize(), t + " quantizes");
        }
    }

    @Test
    void unsupportedTypeIsNamedWithAFix() {
        TrestleException e = assertThrows(TrestleException.class, () -> Codecs.of(GgmlType.IQ2_XXS));
        assertTrue(e.getMessage().contains("iq2_xxs"), e.getMessage());
        assertNotNull(e.fix());
        assertTrue(e.fix().contains("q4_K"), e.fix());
    }

    @Test
    void partialBlocksAndShortBuffersAreRejected() {
        QuantCodec q4k = Codecs.of(GgmlType.Q4_K);
        MemorySegment m = Arena.ofAuto().allocate(144);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> q4k.quantize(new float[300], 0, m, 0, 300));
        assertTrue(e.getMessage().contains("256"), e.getMessage());
        assertThrows(IndexOutOfBoundsException.class, () -> q4k.quantize(new float[512], 0, m, 0, 512));
        assertThrows(IndexOutOfBoundsException.class, () -> q4k.dequantize(m, 0, new float[100], 0, 256));
    }

    @Test
    void offsetsAreHonoured() {
        QuantCodec q8 = Codecs.of(GgmlType.Q8_0);
        float[] x = Signals.gaussian(3, 96);
        MemorySegment whole = Arena.ofAuto().allocate(3 * 34);
        q8.quantize(x, 0, whole, 0, 96);
        MemorySegment part = Arena.ofAuto().allocate(34 + 10);
        q8.quantize(x, 32, part, 10, 32);
        assertEquals(-1, whole.asSlice(34, 34).mismatch(part.asSlice(10, 34)));
        float[] y = new float[40];
        q8.dequantize(whole, 68, y, 8, 32);
        float[] all = new float[96];
        q8.dequantize(whole, 0, all, 0, 96);
        for (int i = 0; i < 32; i++) {
            assertEquals(all[64 + i], y[8 + i]);
        }
    }
}
