package dev.trestle.backends.bytes;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Little-endian, unaligned field access for GGUF data and ggml block structs (they are little-endian on every
 * host), shared by the quant codecs and the CPU kernels. The layouts are static final so that the JIT folds
 * them in hot loops.
 */
public final class Le {
    public static final ValueLayout.OfShort SHORT =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    public static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    public static final ValueLayout.OfFloat FLOAT =
            ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private Le() {
    }

    /** An unsigned byte. */
    public static int u8(MemorySegment s, long off) {
        return s.get(ValueLayout.JAVA_BYTE, off) & 0xFF;
    }

    /** A signed byte. */
    public static int i8(MemorySegment s, long off) {
        return s.get(ValueLayout.JAVA_BYTE, off);
    }

    /** Stores the low 8 bits of v. */
    public static void putU8(MemorySegment s, long off, int v) {
        s.set(ValueLayout.JAVA_BYTE, off, (byte) v);
    }

    public static short i16(MemorySegment s, long off) {
        return s.get(SHORT, off);
    }

    /** An unsigned 16-bit field. */
    public static int u16(MemorySegment s, long off) {
        return s.get(SHORT, off) & 0xFFFF;
    }

    public static void putI16(MemorySegment s, long off, short v) {
        s.set(SHORT, off, v);
    }

    /** A 32-bit field (its bits, for u32 fields too). */
    public static int i32(MemorySegment s, long off) {
        return s.get(INT, off);
    }

    public static void putI32(MemorySegment s, long off, int v) {
        s.set(INT, off, v);
    }

    public static float f32(MemorySegment s, long off) {
        return s.get(FLOAT, off);
    }

    public static void putF32(MemorySegment s, long off, float v) {
        s.set(FLOAT, off, v);
    }

    /** An fp16 field as float (exact). */
    public static float f16(MemorySegment s, long off) {
        return Float.float16ToFloat(s.get(SHORT, off));
    }

    /** Stores {@code v} as an fp16 field (round to nearest even). */
    public static void putF16(MemorySegment s, long off, float v) {
        s.set(SHORT, off, Float.floatToFloat16(v));
    }

    /** Sets len bytes from off to v. */
    public static void fill(MemorySegment s, long off, long len, int v) {
        s.asSlice(off, len).fill((byte) v);
    }
}
