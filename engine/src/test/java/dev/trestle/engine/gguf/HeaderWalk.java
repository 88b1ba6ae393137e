package dev.trestle.engine.gguf;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * A test-side walk over a valid GGUF v2/v3 header that lists every field with its position, written
 * independently of {@link GgufReader} so the fuzz tests know where the boundaries and length fields are.
 */
final class HeaderWalk {
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final int[] SCALAR_WIDTH = {1, 1, 2, 2, 4, 4, 4, 1, -1, -1, 8, 8, 8};

    /** What a field holds. */
    enum Kind {
        MAGIC, VERSION, TENSOR_COUNT, KV_COUNT, STRING_LENGTH, STRING_BYTES, VALUE_TYPE, ARRAY_TYPE,
        ARRAY_LENGTH, SCALAR, N_DIMS, DIM, TENSOR_TYPE, TENSOR_OFFSET;

        /** Fields whose value is a count, length, size or offset (where huge values are injected). */
        boolean isSizeLike() {
            return switch (this) {
                case TENSOR_COUNT, KV_COUNT, STRING_LENGTH, ARRAY_LENGTH, N_DIMS, DIM, TENSOR_OFFSET,
                     VALUE_TYPE, ARRAY_TYPE, TENSOR_TYPE -> true;
                default -> false;
            };
        }
    }

    /**
     * One field.
     *
     * @param element index inside the enclosing metadata array, or -1 outside arrays
     */
    record Field(long at, int width, Kind kind, long element) {
    }

    final List<Field> fields = new ArrayList<>();
    long headerEnd;
    long dataOffset;

    private final MemorySegment seg;
    private long pos;
    private long alignment = 32;

    private HeaderWalk(MemorySegment seg) {
        this.seg = seg;
    }

    static HeaderWalk of(MemorySegment seg) {
        HeaderWalk w = new HeaderWalk(seg);
        w.walk();
        return w;
    }

    private void walk() {
        field(4, Kind.MAGIC, -1);
        field(4, Kind.VERSION, -1);
        long nTensors = seg.get(U64, pos);
        field(8, Kind.TENSOR_COUNT, -1);
        long nKv = seg.get(U64, pos);
        field(8, Kind.KV_COUNT, -1);
        for (long i = 0; i < nKv; i++) {
            String key = string(-1);
            int type = seg.get(U32, pos);
            field(4, Kind.VALUE_TYPE, -1);
            if (key.equals("general.alignment")) {
                alignment = Integer.toUnsignedLong(seg.get(U32, pos));
            }
            value(type, -1);
        }
        for (long i = 0; i < nTensors; i++) {
            string(-1);
            int nDims = seg.get(U32, pos);
            field(4, Kind.N_DIMS, -1);
            for (int d = 0; d < nDims; d++) {
                field(8, Kind.DIM, -1);
            }
            field(4, Kind.TENSOR_TYPE, -1);
            field(8, Kind.TENSOR_OFFSET, -1);
        }
        headerEnd = pos;
        dataOffset = (pos + alignment - 1) / alignment * alignment;
    }

    private void value(int type, long element) {
        if (type == GgufValueType.STRING.id()) {
            string(element);
        } else if (type == GgufValueType.ARRAY.id()) {
            int et = seg.get(U32, pos);
            field(4, Kind.ARRAY_TYPE, element);
            long n = seg.get(U64, pos);
            field(8, Kind.ARRAY_LENGTH, element);
            for (long i = 0; i < n; i++) {
                value(et, i);
            }
        } else {
            field(SCALAR_WIDTH[type], Kind.SCALAR, element);
        }
    }

    private String string(long element) {
        long len = seg.get(U64, pos);
        field(8, Kind.STRING_LENGTH, element);
        byte[] b = seg.asSlice(pos, len).toArray(ValueLayout.JAVA_BYTE);
        if (len > 0) {
            field((int) len, Kind.STRING_BYTES, element);
        }
        return new String(b, java.nio.charset.StandardCharsets.UTF_8);
    }

    private void field(int width, Kind kind, long element) {
        fields.add(new Field(pos, width, kind, element));
        pos += width;
    }
}
