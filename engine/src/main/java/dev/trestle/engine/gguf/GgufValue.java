package dev.trestle.engine.gguf;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * One typed GGUF metadata value.
 *
 * <p>Scalars hold a boxed Java value: unsigned 8/16-bit and signed integers up to 32 bits as
 * {@link Integer}, {@code UINT32}, {@code UINT64} and {@code INT64} as {@link Long} (a UINT32 of
 * 4294967295 stays positive; a UINT64 above 2^63 is negative and callers that need a size reject it),
 * floats as {@link Float}/{@link Double}, {@link Boolean}, {@link String}. Arrays are a {@link GgufArray}.
 * The constructor normalizes any integral {@link Number} to that representation and rejects values
 * that do not fit the type, so equal values compare equal however they were built.
 */
public record GgufValue(GgufValueType type, Object value) {

    public GgufValue {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(value, "value");
        value = normalize(type, value);
    }

    private static Object normalize(GgufValueType type, Object value) {
        return switch (type) {
            case UINT8 -> (int) integral(type, value, 0, 0xFF);
            case INT8 -> (int) integral(type, value, Byte.MIN_VALUE, Byte.MAX_VALUE);
            case UINT16 -> (int) integral(type, value, 0, 0xFFFF);
            case INT16 -> (int) integral(type, value, Short.MIN_VALUE, Short.MAX_VALUE);
            case INT32 -> (int) integral(type, value, Integer.MIN_VALUE, Integer.MAX_VALUE);
            case UINT32 -> integral(type, value, 0, 0xFFFF_FFFFL);
            // a UINT64 above 2^63 is carried as its (negative) two's-complement bits
            case UINT64, INT64 -> integral(type, value, Long.MIN_VALUE, Long.MAX_VALUE);
            case FLOAT32 -> value instanceof Float ? value : ((Number) checked(type, value, Number.class)).floatValue();
            case FLOAT64 -> value instanceof Double ? value : ((Number) checked(type, value, Number.class)).doubleValue();
            case BOOL -> checked(type, value, Boolean.class);
            case STRING -> checked(type, value, String.class);
            case ARRAY -> checked(type, value, GgufArray.class);
        };
    }

    private static long integral(GgufValueType type, Object value, long min, long max) {
        if (!(value instanceof Long || value instanceof Integer || value instanceof Short || value instanceof Byte)) {
            throw new IllegalArgumentException(type + " value must be an integral number, got "
                    + value.getClass().getSimpleName());
        }
        long v = ((Number) value).longValue();
        if (v < min || v > max) {
            throw new IllegalArgumentException(type + " value out of range: " + v);
        }
        return v;
    }

    private static Object checked(GgufValueType type, Object value, Class<?> expected) {
        if (!expected.isInstance(value)) {
            throw new IllegalArgumentException(type + " value must be a " + expected.getSimpleName() + ", got "
                    + value.getClass().getSimpleName());
        }
        return value;
    }

    public static GgufValue ofString(String s) {
        return new GgufValue(GgufValueType.STRING, s);
    }

    public static GgufValue ofUint32(long v) {
        if (v < 0 || v > 0xFFFF_FFFFL) {
            throw new IllegalArgumentException("uint32 out of range: " + v);
        }
        return new GgufValue(GgufValueType.UINT32, v);
    }

    public static GgufValue ofInt32(int v) {
        return new GgufValue(GgufValueType.INT32, v);
    }

    public static GgufValue ofUint64(long v) {
        return new GgufValue(GgufValueType.UINT64, v);
    }

    public static GgufValue ofInt64(long v) {
        return new GgufValue(GgufValueType.INT64, v);
    }

    public static GgufValue ofFloat64(double v) {
        return new GgufValue(GgufValueType.FLOAT64, v);
    }

    public static GgufValue ofFloat32(float v) {
        return new GgufValue(GgufValueType.FLOAT32, v);
    }

    public static GgufValue ofBool(boolean v) {
        return new GgufValue(GgufValueType.BOOL, v);
    }

    public static GgufValue ofArray(GgufArray a) {
        return new GgufValue(GgufValueType.ARRAY, a);
    }

    /** The value as a long; for integer types only (unsigned values are non-negative except huge UINT64). */
    public long asLong() {
        if (!type.isInteger()) {
            throw new IllegalStateException("value of type " + type + " is not an integer");
        }
        return ((Number) value).longValue();
    }

    /** The value as a double, for integer and float types. */
    public double asDouble() {
        if (value instanceof Number n) {
            return n.doubleValue();
        }
        throw new IllegalStateException("value of type " + type + " is not a number");
    }

    /** The type as gguf.cpp prints it: "u32", "str", "arr[str,512]" (nested arrays: "arr[arr,2]"). */
    public String typeName() {
        return value instanceof GgufArray a
                ? "arr[" + a.elementType().shortName() + "," + a.length() + "]"
                : type.shortName();
    }

    /** A readable form: arrays show at most {@code maxArrayItems} items, strings at most 200 characters. */
    public String display(int maxArrayItems) {
        return display(maxArrayItems, 200);
    }

    /**
     * A readable one-line form for {@code trestle inspect}: arrays show at most {@code maxArrayItems}
     * items and their length, strings are quoted, escaped and cut after {@code maxStringChars}
     * characters, unsigned integers print unsigned.
     */
    public String display(int maxArrayItems, int maxStringChars) {
        return switch (value) {
            case GgufArray a -> a.display(maxArrayItems, maxStringChars);
            case String s -> quote(s, maxStringChars);
            case Long l when type == GgufValueType.UINT64 -> Long.toUnsignedString(l);
            default -> String.valueOf(value);
        };
    }

    /** {@code s} quoted with control characters escaped, cut after {@code max} characters. */
    static String quote(String s, int max) {
        StringBuilder sb = new StringBuilder(Math.min(s.length(), max) + 8).append('"');
        int n = Math.min(s.length(), max);
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            switch (c) {
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                default -> {
                    if (c < 0x20) {
                        sb.append(String.format("\\x%02x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        sb.append('"');
        if (s.length() > max) {
            sb.append("... (").append(s.length()).append(" chars)");
        }
        return sb.toString();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GgufValue v && v.type == type && Objects.equals(v.value, value);
    }

    @Override
    public int hashCode() {
        return type.hashCode() * 31 + value.hashCode();
    }

    @Override
    public String toString() {
        return type + ":" + display(8);
    }

    /**
     * A GGUF array: an element type and a Java array holding the elements, by element type:
     * UINT8/INT8 {@code byte[]}, UINT16/INT16 {@code short[]}, UINT32/INT32 {@code int[]},
     * UINT64/INT64 {@code long[]}, FLOAT32 {@code float[]}, FLOAT64 {@code double[]}, BOOL
     * {@code boolean[]}, STRING {@code String[]}, ARRAY {@code GgufArray[]} (nested).
     */
    public record GgufArray(GgufValueType elementType, Object data) {

        public GgufArray {
            Objects.requireNonNull(elementType, "elementType");
            Objects.requireNonNull(data, "data");
            Class<?> expected = switch (elementType) {
                case UINT8, INT8 -> byte[].class;
                case UINT16, INT16 -> short[].class;
                case UINT32, INT32 -> int[].class;
                case UINT64, INT64 -> long[].class;
                case FLOAT32 -> float[].class;
                case FLOAT64 -> double[].class;
                case BOOL -> boolean[].class;
                case STRING -> String[].class;
                case ARRAY -> GgufArray[].class;
            };
            Class<?> actual = data instanceof PackedStrings ? String[].class : data.getClass();
            if (actual != expected) {
                throw new IllegalArgumentException(elementType + " array needs " + expected.getSimpleName()
                        + ", got " + data.getClass().getSimpleName());
            }
        }

        /**
         * The elements as the Java array the class comment names. String arrays read from a file
         * are decoded on the first call (use {@link #getString} or {@link #length} to avoid that).
         */
        @Override
        public Object data() {
            return data instanceof PackedStrings p ? p.strings() : data;
        }

        /** Element {@code i} of a STRING array (decodes only that element). */
        public String getString(int i) {
            return switch (data) {
                case PackedStrings p -> p.get(i);
                case String[] s -> s[i];
                default -> throw new IllegalStateException(elementType + " array is not a string array");
            };
        }

        public static GgufArray ofStrings(String... s) {
            return new GgufArray(GgufValueType.STRING, s);
        }

        public static GgufArray ofStrings(List<String> s) {
            return new GgufArray(GgufValueType.STRING, s.toArray(String[]::new));
        }

        public static GgufArray ofFloats(float... f) {
            return new GgufArray(GgufValueType.FLOAT32, f);
        }

        public static GgufArray ofInts(int... i) {
            return new GgufArray(GgufValueType.INT32, i);
        }

        /** Number of elements (never decodes strings). */
        public int length() {
            return data instanceof PackedStrings p ? p.count() : java.lang.reflect.Array.getLength(data);
        }

        /** Element {@code i} as a long (integer element types; UINT32 and smaller unsigned widened). */
        public long getLong(int i) {
            return switch (elementType) {
                case UINT8 -> ((byte[]) data)[i] & 0xFFL;
                case INT8 -> ((byte[]) data)[i];
                case UINT16 -> ((short[]) data)[i] & 0xFFFFL;
                case INT16 -> ((short[]) data)[i];
                case UINT32 -> ((int[]) data)[i] & 0xFFFF_FFFFL;
                case INT32 -> ((int[]) data)[i];
                case UINT64, INT64 -> ((long[]) data)[i];
                case BOOL -> ((boolean[]) data)[i] ? 1 : 0;
                default -> throw new IllegalStateException(elementType + " array is not an integer array");
            };
        }

        /** Element {@code i} as a double (numeric element types). */
        public double getDouble(int i) {
            return switch (elementType) {
                case FLOAT32 -> ((float[]) data)[i];
                case FLOAT64 -> ((double[]) data)[i];
                default -> getLong(i);
            };
        }

        String display(int maxItems, int maxStringChars) {
            int n = length();
            StringBuilder sb = new StringBuilder("[");
            for (int i = 0; i < Math.min(n, maxItems); i++) {
                if (i > 0) {
                    sb.append(", ");
                }
                Object item = elementType == GgufValueType.STRING ? getString(i) : java.lang.reflect.Array.get(data, i);
                if (item instanceof String s) {
                    sb.append(quote(s, maxStringChars));
                } else if (item instanceof GgufArray a) {
                    sb.append(a.display(maxItems, maxStringChars));
                } else if (elementType == GgufValueType.UINT8 || elementType == GgufValueType.UINT16
                        || elementType == GgufValueType.UINT32) {
                    sb.append(getLong(i));
                } else if (elementType == GgufValueType.UINT64) {
                    sb.append(Long.toUnsignedString(getLong(i)));
                } else {
                    sb.append(item);
                }
            }
            if (n > maxItems) {
                sb.append(", ... (").append(n).append(" items)");
            }
            return sb.append(']').toString();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof GgufArray a && a.elementType == elementType
                    && Arrays.deepEquals(new Object[] {data()}, new Object[] {a.data()});
        }

        @Override
        public int hashCode() {
            return elementType.hashCode() * 31 + Arrays.deepHashCode(new Object[] {data()});
        }

        @Override
        public String toString() {
            return display(8, 200);
        }
    }
}
