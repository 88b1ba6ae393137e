package dev.trestle.backends.cpu;

import dev.trestle.backends.type.GgmlType;
import dev.trestle.common.TrestleException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Stores float rows in a cache type (KV cache writes: ggml's cpy/set_rows from F32), with ggml's reference
 * rounding for Q4_0/Q4_1/Q5_0/Q5_1 and the x86 rounding for Q8_0.
 */
public final class RowQuantizer {
    private static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** The KV cache types llama.cpp accepts for -ctk/-ctv. */
    public static final GgmlType[] CACHE_TYPES = {GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0,
        GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q5_1};

    private RowQuantizer() {
    }

    /** The cache type named like llama.cpp's -ctk values; fails listing the allowed ones. */
    public static GgmlType cacheType(String name) {
        for (GgmlType t : CACHE_TYPES) {
            if (t.llamaName().equalsIgnoreCase(name)) {
                return t;
            }
        }
        StringBuilder sb = new StringBuilder();
        for (GgmlType t : CACHE_TYPES) {
            sb.append(sb.isEmpty() ? "" : ", ").append(t.llamaName());
        }
        throw new TrestleException("unsupported KV cache type '" + name + "'", "use one of: " + sb);
    }

    /** Writes {@code n} floats from {@code src[off..]} to {@code dst} at {@code dstOff} in {@code type}. */
    public static void store(GgmlType type, float[] src, int off, int n, MemorySegment dst, long dstOff) {
        switch (type) {
            case F32 -> {
                for (int i = 0; i < n; i++) {
                    dst.set(FLOAT, dstOff + 4L * i, src[off + i]);
                }
            }
            case F16 -> {
                for (int i = 0; i < n; i++) {
                    dst.set(SHORT, dstOff + 2L * i, Half.fromFloat(src[off + i]));
                }
            }
            case BF16 -> {
                for (int i = 0; i < n; i++) {
                    dst.set(SHORT, dstOff + 2L * i, Half.floatToBf16(src[off + i]));
                }
            }
            case Q8_0 -> q8_0(src, off, n, dst, dstOff);
            case Q4_0 -> q4_0(src, off, n, dst, dstOff);
            case Q4_1 -> q4_1(src, off, n, dst, dstOff);
            case Q5_0 -> q5_0(src, off, n, dst, dstOff);
            case Q5_1 -> q5_1(src, off, n, dst, dstOff);
            default -> throw new TrestleException("cannot store rows as " + type.llamaName(), "use -ctk/-ctv f16");
        }
    }

    private static void q8_0(float[] x, int off, int n, MemorySegment dst, long o) {
        for (int b = 0; b < n / 32; b++) {
            int base = off + 32 * b;
            long bo = o + 34L * b;
            float amax = 0f;
            for (int j = 0; j < 32; j++) {
                amax = Math.max(amax, Math.abs(x[base + j]));
            }
            dst.set(SHORT, bo, Half.fromFloat(amax / 127f));
            float id = amax != 0f ? 127f / amax : 0f;
            for (int j = 0; j < 32; j++) {
                dst.set(ValueLayout.JAVA_BYTE, bo + 2 + j, (byte) (int) Math.rint(x[base + j] * id));
            }
        }
    }

    private static float signedMax(float[] x, int base) {
        float amax = 0f;
        float max = 0f;
        for (int j = 0; j < 32; j++) {
            float v = x[base + j];
            if (amax < Math.abs(v)) {
                amax = Math.abs(v);
                max = v;
            }
        }
        return max;
    }

    private static void q4_0(float[] x, int off, int n, MemorySegment dst, long o) {
        for (int b = 0; b < n / 32; b++) {
            int base = off + 32 * b;
            long bo = o + 18L * b;
            float d = signedMax(x, base) / -8f;
            float id = d != 0f ? 1f / d : 0f;
            dst.set(SHORT, bo, Half.fromFloat(d));
            for (int j = 0; j < 16; j++) {
                int x0 = Math.min(15, (int) (byte) (int) (x[base + j] * id + 8.5f));
                int x1 = Math.min(15, (int) (byte) (int) (x[base + j + 16] * id + 8.5f));
                dst.set(ValueLayout.JAVA_BYTE, bo + 2 + j, (byte) (x0 | (x1 << 4)));
            }
        }
    }

    private static void q4_1(float[] x, int off, int n, MemorySegment dst, long o) {
        for (int b = 0; b < n / 32; b++) {
            int base = off + 32 * b;
            long bo = o + 20L * b;
            float min = Float.MAX_VALUE;
            float max = -Float.MAX_VALUE;
            for (int j = 0; j < 32; j++) {
                min = Math.min(min, x[base + j]);
                max = Math.max(max, x[base + j]);
            }
            float d = (max - min) / 15f;
            float id = d != 0f ? 1f / d : 0f;
            dst.set(SHORT, bo, Half.fromFloat(d));
            dst.set(SHORT, bo + 2, Half.fromFloat(min));
            for (int j = 0; j < 16; j++) {
                int x0 = Math.min(15, (int) (byte) (int) ((x[base + j] - min) * id + 0.5f));
                int x1 = Math.min(15, (int) (byte) (int) ((x[base + j + 16] - min) * id + 0.5f));
                dst.set(ValueLayout.JAVA_BYTE, bo + 4 + j, (byte) (x0 | (x1 << 4)));
            }
        }
    }

    private static void q5_0(float[] x, int off, int n, MemorySegment dst, long o) {
        for (int b = 0; b < n / 32; b++) {
            int base = off + 32 * b;
            long bo = o + 22L * b;
            float d = signedMax(x, base) / -16f;
            float id = d != 0f ? 1f / d : 0f;
            dst.set(SHORT, bo, Half.fromFloat(d));
            int qh = 0;
            for (int j = 0; j < 16; j++) {
                int x0 = Math.min(31, (int) (byte) (int) (x[base + j] * id + 16.5f));
                int x1 = Math.min(31, (int) (byte) (int) (x[base + j + 16] * id + 16.5f));
                dst.set(ValueLayout.JAVA_BYTE, bo + 6 + j, (byte) ((x0 & 0xf) | ((x1 & 0xf) << 4)));
                qh |= ((x0 & 0x10) >>> 4) << j;
                qh |= ((x1 & 0x10) >>> 4) << (j + 16);
            }
            dst.set(INT, bo + 2, qh);
        }
    }

    private static void q5_1(float[] x, int off, int n, MemorySegment dst, long o) {
        for (int b = 0; b < n / 32; b++) {
            int base = off + 32 * b;
            long bo = o + 24L * b;
            float min = Float.MAX_VALUE;
            float max = -Float.MAX_VALUE;
            for (int j = 0; j < 32; j++) {
                min = Math.min(min, x[base + j]);
                max = Math.max(max, x[base + j]);
            }
            float d = (max - min) / 31f;
            float id = d != 0f ? 1f / d : 0f;
            dst.set(SHORT, bo, Half.fromFloat(d));
            dst.set(SHORT, bo + 2, Half.fromFloat(min));
            int qh = 0;
            for (int j = 0; j < 16; j++) {
                int x0 = (int) ((x[base + j] - min) * id + 0.5f) & 0xff;
                int x1 = (int) ((x[base + j + 16] - min) * id + 0.5f) & 0xff;
                dst.set(ValueLayout.JAVA_BYTE, bo + 8 + j, (byte) ((x0 & 0xf) | ((x1 & 0xf) << 4)));
                qh |= ((x0 & 0x10) >>> 4) << j;
                qh |= ((x1 & 0x10) >>> 4) << (j + 16);
            }
            dst.set(INT, bo + 4, qh);
        }
    }
}
