package dev.trestle.engine.gguf;

import dev.trestle.common.TrestleException;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The key/value metadata of a GGUF file, in file order, with typed accessors.
 *
 * <p>Keys may contain {@code %s}, which stands for the file's {@code general.architecture}, so
 * architecture tables can declare {@code "%s.block_count"} once for every architecture.
 */
public final class GgufMetadata {
    private final Map<String, GgufValue> values;
    private final String architecture;

    public GgufMetadata(Map<String, GgufValue> values) {
        this.values = Collections.unmodifiableMap(new LinkedHashMap<>(values));
        GgufValue arch = values.get("general.architecture");
        this.architecture = arch != null && arch.value() instanceof String s ? s : null;
    }

    /** Every entry, in file order. */
    public Map<String, GgufValue> asMap() {
        return values;
    }

    /** {@code general.architecture}, or null when the file has none. */
    public String architecture() {
        return architecture;
    }

    /**
     * The key with {@code %s} replaced by the architecture.
     *
     * @throws TrestleException when the key needs the architecture and the file has none
     */
    public String resolve(String key) {
        if (!key.contains("%s")) {
            return key;
        }
        if (architecture == null) {
            throw new TrestleException("GGUF has no general.architecture, needed to read " + key,
                    "the file is not a model file (vocab-only or a different format)");
        }
        return key.replace("%s", architecture);
    }

    /** True when the key is present (false for a {@code %s} key in a file without architecture). */
    public boolean contains(String key) {
        return find(key).isPresent();
    }

    /** The value, or empty when absent (also for a {@code %s} key in a file without architecture). */
    public Optional<GgufValue> find(String key) {
        if (architecture == null && key.contains("%s")) {
            return Optional.empty();
        }
        return Optional.ofNullable(values.get(resolve(key)));
    }

    /** The value for a required key. */
    public GgufValue get(String key) {
        String k = resolve(key);
        GgufValue v = values.get(k);
        if (v == null) {
            throw new TrestleException("GGUF metadata key '" + k + "' is missing",
                    "the model file is incomplete or was converted by a tool that Trestle does not know");
        }
        return v;
    }

    public String getString(String key) {
        GgufValue v = get(key);
        if (v.value() instanceof String s) {
            return s;
        }
        throw typeError(key, v, "a string");
    }

    public String getString(String key, String fallback) {
        return contains(key) ? getString(key) : fallback;
    }

    /**
     * An integer key that must fit in a Java int (unsigned values above 2^31-1 are rejected, e.g. a
     * UINT32 token id of 4294967295 that converters write for "none": read such keys with
     * {@link #getLong}).
     */
    public int getInt(String key) {
        long v = getLong(key);
        if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
            throw new TrestleException("GGUF metadata key '" + resolve(key) + "' = " + Long.toUnsignedString(v)
                    + " is out of range", "the model file is corrupt or not supported");
        }
        return (int) v;
    }

    public int getInt(String key, int fallback) {
        return contains(key) ? getInt(key) : fallback;
    }

    /** An integer key; a UINT64 at or above 2^63 is rejected rather than turned negative. */
    public long getLong(String key) {
        GgufValue v = get(key);
        if (!v.type().isInteger()) {
            throw typeError(key, v, "an integer");
        }
        long x = v.asLong();
        if (x < 0 && v.type() == GgufValueType.UINT64) {
            throw new TrestleException("GGUF metadata key '" + resolve(key) + "' = " + Long.toUnsignedString(x)
                    + " is out of range", "the model file is corrupt or not supported");
        }
        return x;
    }

    public long getLong(String key, long fallback) {
        return contains(key) ? getLong(key) : fallback;
    }

    /** A float key; integer values are accepted too (converters differ). */
    public float getFloat(String key) {
        GgufValue v = get(key);
        if (v.value() instanceof Number n) {
            return n.floatValue();
        }
        throw typeError(key, v, "a number");
    }

    public float getFloat(String key, float fallback) {
        return contains(key) ? getFloat(key) : fallback;
    }

    public boolean getBool(String key) {
        GgufValue v = get(key);
        if (v.value() instanceof Boolean b) {
            return b;
        }
        if (v.type().isInteger()) {
            return v.asLong() != 0;
        }
        throw typeError(key, v, "a bool");
    }

    public boolean getBool(String key, boolean fallback) {
        return contains(key) ? getBool(key) : fallback;
    }

    public GgufValue.GgufArray getArray(String key) {
        GgufValue v = get(key);
        if (v.value() instanceof GgufValue.GgufArray a) {
            return a;
        }
        throw typeError(key, v, "an array");
    }

    public String[] getStringArray(String key) {
        GgufValue.GgufArray a = getArray(key);
        if (a.data() instanceof String[] s) {
            return s;
        }
        throw typeError(key, get(key), "an array of strings");
    }

    /** A numeric array as floats (float, double or integer elements). */
    public float[] getFloatArray(String key) {
        GgufValue.GgufArray a = getArray(key);
        if (a.data() instanceof float[] f) {
            return f;
        }
        if (a.elementType() == GgufValueType.STRING || a.elementType() == GgufValueType.ARRAY) {
            throw typeError(key, get(key), "a numeric array");
        }
        float[] out = new float[a.length()];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) a.getDouble(i);
        }
        return out;
    }

    /** An integer array as ints (values outside int range, such as a UINT32 above 2^31-1, are rejected). */
    public int[] getIntArray(String key) {
        GgufValue.GgufArray a = getArray(key);
        if (a.elementType() == GgufValueType.STRING || a.elementType() == GgufValueType.ARRAY
                || a.elementType() == GgufValueType.FLOAT32 || a.elementType() == GgufValueType.FLOAT64) {
            throw typeError(key, get(key), "an integer array");
        }
        int[] out = new int[a.length()];
        for (int i = 0; i < out.length; i++) {
            long v = a.getLong(i);
            if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE
                    || (v < 0 && a.elementType() == GgufValueType.UINT64)) {
                throw new TrestleException("GGUF metadata key '" + resolve(key) + "' element " + i + " = "
                        + (a.elementType() == GgufValueType.UINT64 ? Long.toUnsignedString(v) : v)
                        + " is out of range", "the model file is corrupt");
            }
            out[i] = (int) v;
        }
        return out;
    }

    private TrestleException typeError(String key, GgufValue v, String wanted) {
        return new TrestleException("GGUF metadata key '" + resolve(key) + "' is " + v.type() + ", expected " + wanted,
                "the model file is corrupt or was written by an incompatible converter");
    }
}
