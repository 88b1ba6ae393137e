package dev.trestle.backends.cpu.kernel;

import dev.trestle.backends.cpu.Half;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** Little-endian reads from weight segments (GGUF data is little-endian). */
final class Bytes {
    static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private Bytes() {
    }

    static int u8(MemorySegment m, long off) {
        return m.get(ValueLayout.JAVA_BYTE, off) & 0xff;
    }

    static int i8(MemorySegment m, long off) {
        return m.get(ValueLayout.JAVA_BYTE, off);
    }

    static float f16(MemorySegment m, long off) {
        return Half.toFloat(m.get(SHORT, off));
    }

    static int u32(MemorySegment m, long off) {
        return m.get(INT, off);
    }

    static int u16(MemorySegment m, long off) {
        return m.get(SHORT, off) & 0xffff;
    }
}
