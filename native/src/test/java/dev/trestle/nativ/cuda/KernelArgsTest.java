package dev.trestle.nativ.cuda;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.Arena;
import org.junit.jupiter.api.Test;

class KernelArgsTest {

    @Test
    void paramsPointAtSlotsHoldingEachValue() {
        try (Arena arena = Arena.ofConfined()) {
            KernelArgs a = new KernelArgs(arena, 4);
            a.reset().ptr(0x7f00_1234_5678L).i32(-7).f32(1.5f).i64(1L << 40);
            assertEquals(4, a.count());
            for (int i = 0; i < 4; i++) {
                assertEquals(a.slot(i).address(), a.params().getAtIndex(ADDRESS, i).address());
            }
            assertEquals(0x7f00_1234_5678L, a.params().getAtIndex(ADDRESS, 0).reinterpret(8).get(JAVA_LONG, 0));
            assertEquals(-7, a.slot(1).get(JAVA_INT, 0));
            assertEquals(1.5f, a.slot(2).get(JAVA_FLOAT, 0));
            assertEquals(1L << 40, a.slot(3).get(JAVA_LONG, 0));
            // reuse: a new list overwrites from the first slot
            a.reset().i32(9);
            assertEquals(1, a.count());
            assertEquals(9, a.slot(0).get(JAVA_INT, 0));
            a.i32(1).i32(2).i32(3);
            assertThrows(IllegalStateException.class, () -> a.i32(4));
        }
    }
}
