package dev.trestle.engine.gguf;

import dev.trestle.backends.type.GgmlType;
import dev.trestle.common.TrestleException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Parses GGUF v2/v3 files (the layout of ggml's {@code gguf.cpp}) from a memory-mapped segment.
 *
 * <p>The file is untrusted: every count, length, dimension and offset is checked against the bytes
 * that remain before anything is allocated, so a hostile file ends in a {@link GgufFormatException}
 * naming the byte offset, never in an OutOfMemoryError, a hang or a crash.
 */
public final class GgufReader {
    /** "GGUF" read as a little-endian uint32. */
    static final int MAGIC = 0x46554747;
    static final long DEFAULT_ALIGNMENT = 32;
    /** ggml's GGML_MAX_DIMS. */
    static final int MAX_DIMS = 4;
    /** Nested arrays deeper than this are rejected (no real file nests at all). */
    private static final int MAX_ARRAY_DEPTH = 8;
    private static final int MAX_KEY_BYTES = 65_535;
    private static final int MAX_JAVA_ARRAY = Integer.MAX_VALUE - 16;

    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final MemorySegment seg;
    private final String source;
    private final long size;
    private long pos;

    private GgufReader(MemorySegment seg, String source) {
        this.seg = seg;
        this.source = source;
        this.size = seg.byteSize();
    }

    /** Maps {@code path} read-only and parses it. */
    public static GgufFile open(Path path) {
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            MemorySegment seg = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
            GgufFile f = new GgufReader(seg, path.toString()).parse(path, arena);
            return f;
        } catch (NoSuchFileException e) {
            arena.close();
            throw new TrestleException("model file not found: " + path, "check the path given to -m");
        } catch (IOException e) {
            arena.close();
            throw new TrestleException("cannot read " + path + ": " + e.getMessage(),
                    "check that the file exists and is readable");
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /** Parses GGUF bytes already in memory; the caller keeps {@code seg} alive while the result is used. */
    public static GgufFile read(MemorySegment seg, String sourceName) {
        return new GgufReader(seg, sourceName).parse(Path.of(sourceName), null);
    }

    private GgufFile parse(Path path, Arena arena) {
        // uint32_t magic;
        need(4, "the magic number");
        int magic = seg.get(U32, pos);
        if (magic != MAGIC) {
            throw error(pos, "not a GGUF file (magic is 0x" + Integer.toHexString(magic) + ", expected \"GGUF\")");
        }
        pos += 4;
        // uint32_t version;
        long versionAt = pos;
        long version = readU32("the version");
        if ((version & 0xFFFF) == 0 && version != 0) {
            throw error(versionAt, "big-endian GGUF (version bytes 0x" + Long.toHexString(version)
                    + ") is not supported; convert the model on a little-endian machine");
        }
        if (version == 1) {
            throw error(versionAt, "GGUF version 1 is no longer supported (as in llama.cpp); "
                    + "re-convert the model with a current llama.cpp convert script");
        }
        if (version < 1 || version > 3) {
            throw error(versionAt, "GGUF version " + version + " is not supported; this software reads versions 2 and 3");
        }
        // uint64_t tensor_count; uint64_t metadata_kv_count;
        long countAt = pos;
        long tensorCount = readU64("the tensor count");
        long kvAt = pos;
        long kvCount = readU64("the metadata count");
        // Smallest possible entries: a KV is key length (8) + 1 key byte + type (4) + 1 value byte;
        // a tensor info is name length (8) + 1 name byte + n_dims (4) + one dim (8) + type (4) + offset (8).
        if (kvCount < 0 || kvCount > (size - pos) / 14) {
            throw error(kvAt, "metadata count " + Long.toUnsignedString(kvCount) + " cannot fit in the "
                    + (size - pos) + " bytes that follow");
        }
        if (tensorCount < 0 || tensorCount > (size - pos) / 33) {
            throw error(countAt, "tensor count " + Long.toUnsignedString(tensorCount) + " cannot fit in the "
                    + (size - pos) + " bytes that follow");
        }

        // gguf_metadata_kv_t metadata_kv[metadata_kv_count];
        Map<String, GgufValue> kv = new LinkedHashMap<>();
        for (long i = 0; i < kvCount; i++) {
            long keyAt = pos;
            String key = readString("metadata key " + i, MAX_KEY_BYTES);
            if (key.isEmpty()) {
                throw error(keyAt, "metadata key " + i + " is empty");
            }
            if (kv.containsKey(key)) {
                throw error(keyAt, "duplicate metadata key '" + key + "'");
            }
            long typeAt = pos;
            long typeId = readU32("the type of '" + key + "'");
            GgufValueType type = GgufValueType.fromId(typeId);
            if (type == null) {
                throw error(typeAt, "metadata key '" + key + "' has unknown value type " + typeId);
            }
            kv.put(key, readValue(type, key, 0));
        }
        GgufMetadata metadata = new GgufMetadata(kv);

        long alignment = DEFAULT_ALIGNMENT;
        GgufValue align = kv.get("general.alignment");
        if (align != null) {
            if (!align.type().isInteger() || align.asLong() <= 0 || Long.bitCount(align.asLong()) != 1
                    || align.asLong() > (1 << 30)) {
                throw error(8, "general.alignment must be a power of two, got " + align.display(1));
            }
            alignment = align.asLong();
        }

        // gguf_tensor_info_t tensor_infos[tensor_count];
        List<GgufTensorInfo> infos = new ArrayList<>((int) tensorCount);
        List<Long> infoOffsets = new ArrayList<>((int) tensorCount);
        Set<String> names = new HashSet<>();
        for (long i = 0; i < tensorCount; i++) {
            long infoAt = pos;
            String name = readString("tensor name " + i, MAX_KEY_BYTES);
            if (!names.add(name)) {
                throw error(infoAt, "duplicate tensor name '" + name + "'");
            }
            long dimsAt = pos;
            long nDims = readU32("n_dims of tensor '" + name + "'");
            if (nDims < 1 || nDims > MAX_DIMS) {
                throw error(dimsAt, "tensor '" + name + "' has " + nDims + " dimensions (1.." + MAX_DIMS + " allowed)");
            }
            long[] shape = new long[(int) nDims];
            long elements = 1;
            for (int d = 0; d < nDims; d++) {
                long dimAt = pos;
                shape[d] = readU64("dimension " + d + " of tensor '" + name + "'");
                if (shape[d] <= 0) {
                    throw error(dimAt, "tensor '" + name + "' dimension " + d + " is "
                            + Long.toUnsignedString(shape[d]) + " (must be positive)");
                }
                try {
                    elements = Math.multiplyExact(elements, shape[d]);
                } catch (ArithmeticException e) {
                    throw error(dimAt, "tensor '" + name + "' has more elements than fit in 63 bits");
                }
            }
            long typeAt = pos;
            long typeId = readU32("type of tensor '" + name + "'");
            if (!GgmlType.isKnownId(typeId)) {
                throw error(typeAt, "tensor '" + name + "' has unknown ggml type id " + typeId
                        + " (this file needs a newer Trestle, or it is corrupt)");
            }
            GgmlType type = GgmlType.fromId(typeId);
            if (shape[0] % type.blockSize() != 0) {
                throw error(dimsAt, "tensor '" + name + "' row length " + shape[0] + " is not a multiple of the "
                        + type + " block size " + type.blockSize());
            }
            long bytes;
            try {
                bytes = type.bytesFor(elements);
            } catch (ArithmeticException e) {
                throw error(dimsAt, "tensor '" + name + "' byte size overflows");
            }
            long offAt = pos;
            long offset = readU64("data offset of tensor '" + name + "'");
            if (offset < 0 || offset % alignment != 0) {
                throw error(offAt, "tensor '" + name + "' data offset " + Long.toUnsignedString(offset)
                        + " is not a multiple of the alignment " + alignment);
            }
            infos.add(new GgufTensorInfo(name, type, shape, offset, bytes));
            infoOffsets.add(offAt);
        }

        // uint8_t _padding[]; uint8_t tensor_data[];
        long dataOffset = alignUp(pos, alignment);
        if (!infos.isEmpty() && dataOffset > size) {
            throw error(size, "file ends before the tensor data section (which starts at " + dataOffset + ")");
        }
        long dataSize = Math.max(0, size - dataOffset);
        for (int i = 0; i < infos.size(); i++) {
            GgufTensorInfo t = infos.get(i);
            if (t.offset() > dataSize || t.bytes() > dataSize - t.offset()) {
                throw error(infoOffsets.get(i), "tensor '" + t.name() + "': offset+size 0x"
                        + Long.toHexString(dataOffset + t.offset()) + "+0x" + Long.toHexString(t.bytes())
                        + " exceeds the file size 0x" + Long.toHexString(size) + " (file truncated?)");
            }
        }
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < infos.size(); i++) {
            order.add(i);
        }
        order.sort(Comparator.comparingLong(i -> infos.get(i).offset()));
        for (int k = 1; k < order.size(); k++) {
            GgufTensorInfo prev = infos.get(order.get(k - 1));
            GgufTensorInfo cur = infos.get(order.get(k));
            if (prev.offset() + prev.bytes() > cur.offset()) {
                throw error(infoOffsets.get(order.get(k)), "tensor '" + cur.name() + "' data overlaps tensor '"
                        + prev.name() + "'");
            }
        }
        return new GgufFile(path, (int) version, metadata, infos, alignment, dataOffset, seg, arena);
    }

    private GgufValue readValue(GgufValueType type, String key, int depth) {
        return switch (type) {
            case UINT8 -> new GgufValue(type, (int) readBytes(1, key).get(ValueLayout.JAVA_BYTE, 0) & 0xFF);
            case INT8 -> new GgufValue(type, (int) readBytes(1, key).get(ValueLayout.JAVA_BYTE, 0));
            case UINT16 -> new GgufValue(type, (int) readBytes(2, key).get(U16, 0) & 0xFFFF);
            case INT16 -> new GgufValue(type, (int) readBytes(2, key).get(U16, 0));
            case UINT32 -> new GgufValue(type, readU32(key));
            case INT32 -> new GgufValue(type, readBytes(4, key).get(U32, 0));
            case FLOAT32 -> new GgufValue(type, readBytes(4, key).get(F32, 0));
            case BOOL -> {
                long at = pos;
                byte b = readBytes(1, key).get(ValueLayout.JAVA_BYTE, 0);
                if (b != 0 && b != 1) {
                    throw error(at, "bool value of '" + key + "' is " + b + " (must be 0 or 1)");
                }
                yield new GgufValue(type, b == 1);
            }
            case STRING -> new GgufValue(type, readString(key, MAX_JAVA_ARRAY));
            case UINT64, INT64 -> new GgufValue(type, readU64(key));
            case FLOAT64 -> new GgufValue(type, readBytes(8, key).get(F64, 0));
            case ARRAY -> new GgufValue(type, readArray(key, depth + 1));
        };
    }

    private GgufValue.GgufArray readArray(String key, int depth) {
        long at = pos;
        if (depth > MAX_ARRAY_DEPTH) {
            throw error(at, "array '" + key + "' is nested deeper than " + MAX_ARRAY_DEPTH + " levels");
        }
        long typeId = readU32("array element type of '" + key + "'");
        GgufValueType et = GgufValueType.fromId(typeId);
        if (et == null) {
            throw error(at, "array '" + key + "' has unknown element type " + typeId);
        }
        long lenAt = pos;
        long n = readU64("array length of '" + key + "'");
        if (n < 0 || n > (size - pos) / et.minWireBytes() || n > MAX_JAVA_ARRAY) {
            throw error(lenAt, "array '" + key + "' claims " + Long.toUnsignedString(n) + " " + et
                    + " elements, more than the " + (size - pos) + " remaining bytes can hold");
        }
        int len = (int) n;
        Object data = switch (et) {
            case UINT8, INT8 -> readBytes(len, key).toArray(ValueLayout.JAVA_BYTE);
            case UINT16, INT16 -> readBytes(2L * len, key).toArray(U16);
            case UINT32, INT32 -> readBytes(4L * len, key).toArray(U32);
            case UINT64, INT64 -> readBytes(8L * len, key).toArray(U64);
            case FLOAT32 -> readBytes(4L * len, key).toArray(F32);
            case FLOAT64 -> readBytes(8L * len, key).toArray(F64);
            case BOOL -> {
                byte[] raw = readBytes(len, key).toArray(ValueLayout.JAVA_BYTE);
                boolean[] b = new boolean[len];
                for (int i = 0; i < len; i++) {
                    if (raw[i] != 0 && raw[i] != 1) {
                        throw error(lenAt + 8 + i, "bool element " + i + " of '" + key + "' is " + raw[i]);
                    }
                    b[i] = raw[i] == 1;
                }
                yield b;
            }
            case STRING -> {
                String[] s = new String[len];
                for (int i = 0; i < len; i++) {
                    s[i] = readString(key + "[" + i + "]", MAX_JAVA_ARRAY);
                }
                yield s;
            }
            case ARRAY -> {
                GgufValue.GgufArray[] a = new GgufValue.GgufArray[len];
                for (int i = 0; i < len; i++) {
                    a[i] = readArray(key + "[" + i + "]", depth + 1);
                }
                yield a;
            }
        };
        return new GgufValue.GgufArray(et, data);
    }

    /** gguf_string_t: uint64_t len; char string[len]; (UTF-8, not NUL-terminated). */
    private String readString(String what, int maxBytes) {
        long at = pos;
        long len = readU64("the length of " + what);
        if (len < 0 || len > size - pos || len > maxBytes) {
            throw error(at, "length " + Long.toUnsignedString(len) + " of " + what + " exceeds the "
                    + (size - pos) + " remaining bytes");
        }
        byte[] b = readBytes(len, what).toArray(ValueLayout.JAVA_BYTE);
        return new String(b, StandardCharsets.UTF_8);
    }

    private long readU32(String what) {
        need(4, what);
        long v = seg.get(U32, pos) & 0xFFFF_FFFFL;
        pos += 4;
        return v;
    }

    private long readU64(String what) {
        need(8, what);
        long v = seg.get(U64, pos);
        pos += 8;
        return v;
    }

    private MemorySegment readBytes(long n, String what) {
        need(n, what);
        MemorySegment s = seg.asSlice(pos, n);
        pos += n;
        return s;
    }

    private void need(long n, String what) {
        if (n > size - pos) {
            throw error(pos, "file ends while reading " + what + " (needs " + n + " bytes, " + (size - pos) + " left)");
        }
    }

    private GgufFormatException error(long at, String problem) {
        return new GgufFormatException(source, at, problem);
    }

    static long alignUp(long v, long alignment) {
        return (v + alignment - 1) / alignment * alignment;
    }
}
