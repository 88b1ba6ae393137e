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
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
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
 * <p>The file is untrusted. Before anything is allocated, every count, length, dimension and offset
 * is checked against the bytes that remain, so the work done and the memory taken stay proportional
 * to the file size. On top of that, the Java heap that decoded metadata would take (strings and
 * arrays inflate: an empty string is 8 bytes on disk but ~48 on the heap) is charged against a
 * budget (half the maximum heap, at most 2 GiB). A hostile file therefore ends in a
 * {@link GgufFormatException} naming the byte offset, never in an OutOfMemoryError, a hang or a crash.
 */
public final class GgufReader {
    /** "GGUF" read as a little-endian uint32. */
    static final int MAGIC = 0x46554747;
    static final long DEFAULT_ALIGNMENT = 32;
    /** ggml's GGML_MAX_DIMS. */
    static final int MAX_DIMS = 4;
    /** Larger alignments are certainly corrupt (ggml uses 32; nothing needs more than a huge page). */
    static final long MAX_ALIGNMENT = 1L << 30;
    /** Nested arrays deeper than this are rejected (llama.cpp does not nest at all). */
    private static final int MAX_ARRAY_DEPTH = 8;
    private static final long MAX_NAME_BYTES = 65_535;
    /** gguf.cpp's GGUF_MAX_STRING_LENGTH (also keeps one string inside a Java array). */
    private static final long MAX_STRING_BYTES = 1L << 30;
    /** gguf.cpp's GGUF_MAX_ARRAY_ELEMENTS. */
    private static final long MAX_ARRAY_ELEMENTS = 1L << 30;
    /** A string array's bytes are kept in one Java array. */
    private static final long MAX_PACKED_BYTES = Integer.MAX_VALUE - 16;
    /** Upper bound of the metadata heap budget, whatever -Xmx is. */
    private static final long MAX_METADATA_HEAP = 2L << 30;

    // Smallest wire size of one entry: key length + 1 key byte + type + 1 value byte; a tensor info is
    // name length + n_dims + one dimension + type + offset (llama.cpp accepts an empty tensor name).
    private static final long MIN_KV_BYTES = 8 + 1 + 4 + 1;
    private static final long MIN_TENSOR_INFO_BYTES = 8 + 4 + 8 + 4 + 8;

    // Estimated Java heap per decoded item (64-bit JVM, compressed oops); string contents are charged
    // at 2 bytes per UTF-8 byte on top (the worst case of a UTF-16 String).
    private static final long HEAP_PER_STRING = 48;
    private static final long HEAP_PER_ENTRY = 96;
    private static final long HEAP_PER_ARRAY = 64;
    private static final long HEAP_PER_TENSOR = 192;

    private static final ValueLayout.OfByte U8 = ValueLayout.JAVA_BYTE;
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final MemorySegment seg;
    private final String source;
    private final long size;
    private final long heapLimit;
    private long heapLeft;
    private long pos;

    private GgufReader(MemorySegment seg, String source, long heapLimit) {
        this.seg = seg;
        this.source = source;
        this.size = seg.byteSize();
        this.heapLimit = heapLimit;
        this.heapLeft = heapLimit;
    }

    /** One tensor info with the file position of its offset field (for error messages). */
    private record Entry(GgufTensorInfo info, long offsetFieldAt) {
    }

    /** Maps {@code path} read-only and parses it. */
    public static GgufFile open(Path path) {
        if (Files.isDirectory(path)) {
            throw new TrestleException(path + " is a directory, not a GGUF file", "pass the path of the .gguf file itself");
        }
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            MemorySegment seg = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
            return new GgufReader(seg, path.toString(), defaultHeapLimit()).parse(path, arena);
        } catch (NoSuchFileException e) {
            arena.close();
            throw new TrestleException("model file not found: " + path, "check the path of the model file");
        } catch (IOException e) {
            arena.close();
            throw new TrestleException("cannot read " + path + ": " + e.getMessage(),
                    "check that the file exists and is readable");
        } catch (RuntimeException | Error e) {
            arena.close();
            throw e;
        }
    }

    /** Parses GGUF bytes already in memory; the caller keeps {@code seg} alive while the result is used. */
    public static GgufFile read(MemorySegment seg, String sourceName) {
        return read(seg, sourceName, defaultHeapLimit());
    }

    /** As {@link #read(MemorySegment, String)} with an explicit metadata heap budget (tests). */
    static GgufFile read(MemorySegment seg, String sourceName, long heapLimit) {
        Path path;
        try {
            path = Path.of(sourceName);
        } catch (InvalidPathException e) {
            path = null;
        }
        return new GgufReader(seg, sourceName, heapLimit).parse(path, null);
    }

    /** Half the maximum heap, at most {@link #MAX_METADATA_HEAP}. */
    static long defaultHeapLimit() {
        return Math.min(MAX_METADATA_HEAP, Runtime.getRuntime().maxMemory() / 2);
    }

    private GgufFile parse(Path path, Arena arena) {
        // uint32_t magic;
        need(4, "the magic number");
        int magic = seg.get(U32, 0);
        if (magic != MAGIC) {
            throw error(0, String.format("not a GGUF file (it starts with bytes %08x, expected the magic \"GGUF\")",
                    Integer.reverseBytes(magic)));
        }
        pos = 4;
        // uint32_t version;
        long versionAt = pos;
        long version = readU32("the version");
        if (version == 0) {
            throw error(versionAt, "GGUF version 0 is not valid");
        }
        if ((version & 0xFFFF) == 0) {
            throw error(versionAt, "version field 0x" + Long.toHexString(version) + " looks byte-swapped: big-endian "
                    + "GGUF is not supported", "convert the model again on a little-endian machine");
        }
        if (version == 1) {
            throw error(versionAt, "GGUF version 1 is no longer supported (as in llama.cpp)",
                    "re-convert the model with a current llama.cpp convert script (writes GGUF v3)");
        }
        if (version > 3) {
            throw error(versionAt, "GGUF version " + version + " is not supported; this software reads versions 2 and 3",
                    "use a newer Trestle, or convert the model to GGUF v3");
        }
        // uint64_t tensor_count;
        long tensorCountAt = pos;
        long tensorCount = readU64("the tensor count");
        // uint64_t metadata_kv_count;
        long kvCountAt = pos;
        long kvCount = readU64("the metadata count");
        long remaining = size - pos;
        if (kvCount < 0 || kvCount > remaining / MIN_KV_BYTES) {
            throw error(kvCountAt, "metadata count " + Long.toUnsignedString(kvCount) + " cannot fit in the "
                    + remaining + " bytes that follow");
        }
        remaining -= kvCount * MIN_KV_BYTES;
        if (tensorCount < 0 || tensorCount > remaining / MIN_TENSOR_INFO_BYTES) {
            throw error(tensorCountAt, "tensor count " + Long.toUnsignedString(tensorCount) + " cannot fit in the "
                    + (size - pos) + " bytes that follow (with " + kvCount + " metadata entries)");
        }
        chargeEach(kvCount, HEAP_PER_ENTRY, kvCountAt, "metadata count " + kvCount);
        chargeEach(tensorCount, HEAP_PER_TENSOR, tensorCountAt, "tensor count " + tensorCount);

        // gguf_metadata_kv_t metadata_kv[metadata_kv_count];
        Map<String, GgufValue> kv = new LinkedHashMap<>((int) Math.min(kvCount * 2, 1024));
        long alignmentAt = -1;
        for (long i = 0; i < kvCount; i++) {
            long keyAt = pos;
            // gguf_string_t key;
            String key = readString("the key of metadata entry " + i, MAX_NAME_BYTES);
            if (key.isEmpty()) {
                throw error(keyAt, "the key of metadata entry " + i + " is empty");
            }
            if (kv.containsKey(key)) {
                throw error(keyAt, "duplicate metadata key '" + key + "'");
            }
            // gguf_metadata_value_type value_type;
            long typeAt = pos;
            long typeId = readU32("the value type of '" + key + "'");
            GgufValueType type = GgufValueType.fromId(typeId);
            if (type == null) {
                throw error(typeAt, "metadata key '" + key + "' has unknown value type " + typeId + " (valid: 0-12)");
            }
            // gguf_metadata_value_t value;
            if (key.equals("general.alignment")) {
                alignmentAt = pos;
            }
            kv.put(key, readValue(type, key));
        }
        GgufMetadata metadata = new GgufMetadata(kv);
        long alignment = alignment(kv.get("general.alignment"), alignmentAt);

        // gguf_tensor_info_t tensor_infos[tensor_count];
        int nTensors = (int) tensorCount; // the heap budget keeps it far below 2^31
        List<Entry> entries = new ArrayList<>(Math.min(nTensors, 4096));
        Set<String> names = new HashSet<>();
        for (int i = 0; i < nTensors; i++) {
            entries.add(readTensorInfo(i, alignment, names));
        }

        // uint8_t _padding[]; uint8_t tensor_data[];
        long dataOffset = alignUp(pos, alignment);
        if (nTensors > 0 && dataOffset > size) {
            throw error(pos, "the file ends at byte " + size + ", before the tensor data section (byte " + dataOffset
                    + "); the file is truncated");
        }
        long dataSize = nTensors > 0 ? size - dataOffset : 0;
        for (Entry e : entries) {
            GgufTensorInfo t = e.info();
            if (t.offset() > dataSize || t.bytes() > dataSize - t.offset()) {
                throw error(e.offsetFieldAt(), "tensor '" + t.name() + "': data at 0x"
                        + Long.toHexString(dataOffset + t.offset()) + " + 0x" + Long.toHexString(t.bytes())
                        + " bytes exceeds the file size 0x" + Long.toHexString(size) + " (file truncated?)");
            }
        }
        List<Entry> byOffset = new ArrayList<>(entries);
        byOffset.sort(Comparator.comparingLong(e -> e.info().offset()));
        for (int k = 1; k < byOffset.size(); k++) {
            GgufTensorInfo prev = byOffset.get(k - 1).info();
            GgufTensorInfo cur = byOffset.get(k).info();
            if (prev.offset() + prev.bytes() > cur.offset()) {
                throw error(byOffset.get(k).offsetFieldAt(), "tensor '" + cur.name() + "' data (offset "
                        + cur.offset() + ") overlaps tensor '" + prev.name() + "' (offset " + prev.offset()
                        + ", " + prev.bytes() + " bytes)");
            }
        }
        List<GgufTensorInfo> infos = new ArrayList<>(entries.size());
        for (Entry e : entries) {
            infos.add(e.info());
        }
        return new GgufFile(path, (int) version, metadata, infos, alignment, dataOffset, seg, arena);
    }

    private long alignment(GgufValue align, long at) {
        if (align == null) {
            return DEFAULT_ALIGNMENT;
        }
        if (!align.type().isInteger()) {
            throw error(at, "general.alignment is a " + align.type() + ", expected an unsigned integer");
        }
        long a = align.asLong();
        if (a <= 0 || Long.bitCount(a) != 1 || a > MAX_ALIGNMENT) {
            throw error(at, "general.alignment must be a power of two up to 2^30, got " + Long.toUnsignedString(a));
        }
        return a;
    }

    private Entry readTensorInfo(int i, long alignment, Set<String> names) {
        long infoAt = pos;
        // gguf_string_t name;
        String name = readString("the name of tensor " + i, MAX_NAME_BYTES);
        if (!names.add(name)) {
            throw error(infoAt, "duplicate tensor name '" + name + "'");
        }
        // uint32_t n_dimensions;
        long dimsAt = pos;
        long nDims = readU32("the dimension count of tensor '" + name + "'");
        if (nDims < 1 || nDims > MAX_DIMS) {
            throw error(dimsAt, "tensor '" + name + "' has " + nDims + " dimensions (1 to " + MAX_DIMS + " allowed)");
        }
        // uint64_t dimensions[n_dimensions];
        long[] shape = new long[(int) nDims];
        long elements = 1;
        for (int d = 0; d < nDims; d++) {
            long dimAt = pos;
            shape[d] = readU64("dimension " + d + " of tensor '" + name + "'");
            if (shape[d] <= 0) {
                throw error(dimAt, "tensor '" + name + "' dimension " + d + " is " + Long.toUnsignedString(shape[d])
                        + " (every dimension must be at least 1)");
            }
            if (elements > Long.MAX_VALUE / shape[d]) {
                throw error(dimAt, "tensor '" + name + "' has more elements than fit in 63 bits");
            }
            elements *= shape[d];
        }
        // ggml_type type;
        long typeAt = pos;
        long typeId = readU32("the type of tensor '" + name + "'");
        if (!GgmlType.isKnownId(typeId)) {
            throw error(typeAt, "tensor '" + name + "' has unknown ggml type id " + typeId
                    + " (known: 0-3, 6-30, 34, 35, 39)", "the file is corrupt, or it needs a newer Trestle");
        }
        GgmlType type = GgmlType.fromId(typeId);
        if (shape[0] % type.blockSize() != 0) {
            throw error(dimsAt, "tensor '" + name + "' row length " + shape[0] + " is not a multiple of the "
                    + type + " block size " + type.blockSize());
        }
        long blocks = elements / type.blockSize();
        if (blocks > Long.MAX_VALUE / type.bytesPerBlock()) {
            throw error(dimsAt, "tensor '" + name + "' byte size does not fit in 63 bits");
        }
        long bytes = blocks * type.bytesPerBlock();
        // uint64_t offset;
        long offAt = pos;
        long offset = readU64("the data offset of tensor '" + name + "'");
        if (offset < 0 || offset % alignment != 0) {
            throw error(offAt, "tensor '" + name + "' data offset " + Long.toUnsignedString(offset)
                    + " is not a multiple of the alignment " + alignment);
        }
        return new Entry(new GgufTensorInfo(name, type, shape, offset, bytes), offAt);
    }

    private GgufValue readValue(GgufValueType type, String key) {
        String what = "the value of '" + key + "'";
        return switch (type) {
            case UINT8 -> new GgufValue(type, Byte.toUnsignedInt(seg.get(U8, take(1, what))));
            case INT8 -> new GgufValue(type, (int) seg.get(U8, take(1, what)));
            case UINT16 -> new GgufValue(type, Short.toUnsignedInt(seg.get(U16, take(2, what))));
            case INT16 -> new GgufValue(type, (int) seg.get(U16, take(2, what)));
            case UINT32 -> new GgufValue(type, Integer.toUnsignedLong(seg.get(U32, take(4, what))));
            case INT32 -> new GgufValue(type, seg.get(U32, take(4, what)));
            case FLOAT32 -> new GgufValue(type, seg.get(F32, take(4, what)));
            // like gguf.cpp: any non-zero byte is true
            case BOOL -> new GgufValue(type, seg.get(U8, take(1, what)) != 0);
            case STRING -> new GgufValue(type, readString(what, MAX_STRING_BYTES));
            case UINT64, INT64 -> new GgufValue(type, seg.get(U64, take(8, what)));
            case FLOAT64 -> new GgufValue(type, seg.get(F64, take(8, what)));
            case ARRAY -> new GgufValue(type, readArray(key, 1));
        };
    }

    private GgufValue.GgufArray readArray(String key, int depth) {
        long at = pos;
        if (depth > MAX_ARRAY_DEPTH) {
            throw error(at, "array '" + key + "' is nested deeper than " + MAX_ARRAY_DEPTH + " levels");
        }
        // gguf_metadata_value_type type;
        long typeId = readU32("the element type of array '" + key + "'");
        GgufValueType et = GgufValueType.fromId(typeId);
        if (et == null) {
            throw error(at, "array '" + key + "' has unknown element type " + typeId + " (valid: 0-12)");
        }
        // uint64_t len;
        long lenAt = pos;
        long n = readU64("the length of array '" + key + "'");
        long remaining = size - pos;
        if (n < 0 || n > remaining / et.minWireBytes() || n > MAX_ARRAY_ELEMENTS) {
            throw error(lenAt, "array '" + key + "' claims " + Long.toUnsignedString(n) + " " + et
                    + " elements; the " + remaining + " bytes that remain hold at most "
                    + Math.min(remaining / et.minWireBytes(), MAX_ARRAY_ELEMENTS));
        }
        int len = (int) n;
        // gguf_metadata_value_t array[len];
        return switch (et) {
            case UINT8, INT8 -> {
                chargeEach(n, 1, lenAt, "array '" + key + "'");
                byte[] a = new byte[len];
                MemorySegment.copy(seg, U8, take(n, key), a, 0, len);
                yield new GgufValue.GgufArray(et, a);
            }
            case UINT16, INT16 -> {
                chargeEach(n, 2, lenAt, "array '" + key + "'");
                short[] a = new short[len];
                MemorySegment.copy(seg, U16, take(2 * n, key), a, 0, len);
                yield new GgufValue.GgufArray(et, a);
            }
            case UINT32, INT32 -> {
                chargeEach(n, 4, lenAt, "array '" + key + "'");
                int[] a = new int[len];
                MemorySegment.copy(seg, U32, take(4 * n, key), a, 0, len);
                yield new GgufValue.GgufArray(et, a);
            }
            case UINT64, INT64 -> {
                chargeEach(n, 8, lenAt, "array '" + key + "'");
                long[] a = new long[len];
                MemorySegment.copy(seg, U64, take(8 * n, key), a, 0, len);
                yield new GgufValue.GgufArray(et, a);
            }
            case FLOAT32 -> {
                chargeEach(n, 4, lenAt, "array '" + key + "'");
                float[] a = new float[len];
                MemorySegment.copy(seg, F32, take(4 * n, key), a, 0, len);
                yield new GgufValue.GgufArray(et, a);
            }
            case FLOAT64 -> {
                chargeEach(n, 8, lenAt, "array '" + key + "'");
                double[] a = new double[len];
                MemorySegment.copy(seg, F64, take(8 * n, key), a, 0, len);
                yield new GgufValue.GgufArray(et, a);
            }
            case BOOL -> {
                chargeEach(n, 1, lenAt, "array '" + key + "'");
                boolean[] a = new boolean[len];
                long base = take(n, key);
                for (int i = 0; i < len; i++) {
                    a[i] = seg.get(U8, base + i) != 0;
                }
                yield new GgufValue.GgufArray(et, a);
            }
            case STRING -> {
                // charged as if decoded: the consumer (a tokenizer) will decode them all
                chargeEach(n, HEAP_PER_STRING, lenAt, "array '" + key + "'");
                long start = pos;
                int[] starts = new int[len];
                for (int i = 0; i < len; i++) {
                    starts[i] = skipArrayString(key, i, start);
                }
                yield new GgufValue.GgufArray(et, new PackedStrings(seg.asSlice(start, pos - start), starts));
            }
            case ARRAY -> {
                chargeEach(n, HEAP_PER_ARRAY, lenAt, "array '" + key + "'");
                GgufValue.GgufArray[] a = new GgufValue.GgufArray[len];
                for (int i = 0; i < len; i++) {
                    a[i] = readArray(key, depth + 1);
                }
                yield new GgufValue.GgufArray(et, a);
            }
        };
    }

    /** gguf_string_t: uint64_t len; char string[len]; (UTF-8, not NUL-terminated). */
    private String readString(String what, long maxBytes) {
        long at = pos;
        long len = readU64("the length of " + what);
        if (len < 0 || len > size - pos || len > maxBytes) {
            throw error(at, "the length " + Long.toUnsignedString(len) + " of " + what + " exceeds "
                    + (len >= 0 && len <= size - pos ? "the limit of " + maxBytes + " bytes"
                    : "the " + (size - pos) + " bytes that remain"));
        }
        chargeEach(len, 2, at, what);
        return decode(len);
    }

    /**
     * Checks and skips one string of a string array, returning where its bytes start relative to
     * {@code arrayStart}; the description is built only on failure (vocabularies hold 100k+ strings).
     */
    private int skipArrayString(String key, int index, long arrayStart) {
        long at = pos;
        if (8 > size - pos) {
            throw error(at, "the file ends inside element " + index + " of array '" + key + "'");
        }
        long len = seg.get(U64, pos);
        pos += 8;
        if (len < 0 || len > size - pos || len > MAX_STRING_BYTES) {
            throw error(at, "element " + index + " of array '" + key + "' claims " + Long.toUnsignedString(len)
                    + " bytes; " + (size - pos) + " remain");
        }
        if (len > heapLeft / 3) {
            chargeEach(len, 3, at, "element " + index + " of array '" + key + "'");
        }
        heapLeft -= 3 * len; // the packed copy, then the decoded String
        long start = pos - arrayStart;
        if (start + len > MAX_PACKED_BYTES) {
            throw error(at, "string array '" + key + "' is larger than 2 GiB", "the file is corrupt or hostile");
        }
        pos += len;
        return (int) start;
    }

    private String decode(long len) {
        // malformed UTF-8 becomes U+FFFD, as in any Java text decoding; llama.cpp keeps raw bytes
        byte[] b = new byte[(int) len];
        MemorySegment.copy(seg, U8, pos, b, 0, (int) len);
        pos += len;
        return new String(b, StandardCharsets.UTF_8);
    }

    private long readU32(String what) {
        return Integer.toUnsignedLong(seg.get(U32, take(4, what)));
    }

    private long readU64(String what) {
        return seg.get(U64, take(8, what));
    }

    /** Checks that {@code n} bytes remain, consumes them and returns where they start. */
    private long take(long n, String what) {
        need(n, what);
        long at = pos;
        pos += n;
        return at;
    }

    private void need(long n, String what) {
        if (n > size - pos) {
            throw error(pos, "the file ends while reading " + what + " (" + n + " bytes needed, "
                    + (size - pos) + " left)");
        }
    }

    /** Charges {@code n} items of {@code each} heap bytes to the metadata budget, before allocating them. */
    private void chargeEach(long n, long each, long at, String what) {
        if (n > heapLeft / each) {
            double wanted = (heapLimit - heapLeft) / 1048576.0 + n / 1048576.0 * each;
            throw error(at, String.format("%s would take the decoded metadata to about %.0f MiB of Java heap, more "
                            + "than the %.0f MiB allowed (half the maximum heap, at most 2 GiB)", what, wanted,
                    heapLimit / 1048576.0),
                    "the file is corrupt or hostile; if it really is a model with that much metadata, raise -Xmx");
        }
        heapLeft -= n * each;
    }

    private GgufFormatException error(long at, String problem) {
        return new GgufFormatException(source, at, problem);
    }

    private GgufFormatException error(long at, String problem, String fix) {
        return new GgufFormatException(source, at, problem, fix);
    }

    static long alignUp(long v, long alignment) {
        return (v + alignment - 1) / alignment * alignment;
    }
}
