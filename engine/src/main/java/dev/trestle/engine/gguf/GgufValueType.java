package dev.trestle.engine.gguf;

/** GGUF metadata value types with their wire ids ({@code enum gguf_metadata_value_type}). */
public enum GgufValueType {
    UINT8(0, 1),
    INT8(1, 1),
    UINT16(2, 2),
    INT16(3, 2),
    UINT32(4, 4),
    INT32(5, 4),
    FLOAT32(6, 4),
    BOOL(7, 1),
    STRING(8, 8),
    ARRAY(9, 12),
    UINT64(10, 8),
    INT64(11, 8),
    FLOAT64(12, 8);

    private final int id;
    /** Smallest number of bytes one value of this type occupies on the wire (for bounds checks). */
    private final int minWireBytes;

    GgufValueType(int id, int minWireBytes) {
        this.id = id;
        this.minWireBytes = minWireBytes;
    }

    public int id() {
        return id;
    }

    int minWireBytes() {
        return minWireBytes;
    }

    /** The short name gguf.cpp prints ("u32", "f32", "str", "arr"). */
    public String shortName() {
        return switch (this) {
            case UINT8 -> "u8";
            case INT8 -> "i8";
            case UINT16 -> "u16";
            case INT16 -> "i16";
            case UINT32 -> "u32";
            case INT32 -> "i32";
            case FLOAT32 -> "f32";
            case BOOL -> "bool";
            case STRING -> "str";
            case ARRAY -> "arr";
            case UINT64 -> "u64";
            case INT64 -> "i64";
            case FLOAT64 -> "f64";
        };
    }

    /** True for the integer types (signed or unsigned). */
    public boolean isInteger() {
        return switch (this) {
            case UINT8, INT8, UINT16, INT16, UINT32, INT32, UINT64, INT64 -> true;
            default -> false;
        };
    }

    /** The type with wire id {@code id}, or null. */
    public static GgufValueType fromId(long id) {
        for (GgufValueType t : values()) {
            if (t.id == id) {
                return t;
            }
        }
        return null;
    }
}
