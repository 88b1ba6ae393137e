package dev.trestle.backends.quant;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** Little-endian, unaligned field access for block structs (ggml files are little-endian on every host). */
final class Le {
    static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private Le() {
    }

    static int u8(MemorySegment s, long off) {
        return s.get(ValueLayout.JAVA_BYTE, off) & 0xFF;
    }

    static int i8(MemorySegment s, long off) {
        return s.get(ValueLayout.JAVA_BYTE, off);
    }

    static void putU8(MemorySegment s, long off, int v) {
        s.set(ValueLayout.JAVA_BYTE, off, (byte) v);
    }

    static short i16(MemorySegment s, long off) {
        return s.get(SHORT, off);
    }

    static void putI16(MemorySegment s, long off, short v) {
        s.set(SHORT, off, v);
    }

    static int i32(MemorySegment s, long off) {
        return s.get(INT, off);
    }

    static void putI32(MemorySegment s, long off, int v) {
        s.set(INT, off, v);
    }

    static float f32(MemorySegment s, long off) {
        return s.get(FLOAT, off);
    }

    static void putF32(MemorySegment s, long off, float v) {
        s.set(FLOAT, off, v);
    }

    /** An fp16 field as float. */
    static float f16(MemorySegment s, long off) {
        return Float.float16ToFloat(s.get(SHORT, off));
    }

    /** Stores {@code v} as an fp16 field (round to nearest even). */
    static void putF16(MemorySegment s, long off, float v) {
        s.set(SHORT, off, Float.floatToFloat16(v));
    }

    static void fill(MemorySegment s, long off, long len, int v) {
        s.asSlice(off, len).fill((byte) v);
    }
}
