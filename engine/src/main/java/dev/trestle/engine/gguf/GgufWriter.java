package dev.trestle.engine.gguf;

import dev.trestle.backends.type.GgmlType;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes GGUF v3 files: metadata in insertion order, tensor infos in insertion order, then the
 * tensor data, each tensor padded to the alignment ({@code general.alignment}, default 32) as
 * gguf.cpp and gguf-py do. A file without tensors ends right after its header. A file read by
 * {@link GgufReader} and written back with the same metadata and tensors in the same order is
 * byte-identical when the original was written the same way.
 *
 * <p>Files are written to a temporary sibling and moved into place, so a crash never leaves a
 * half-written model under the final name.
 */
public final class GgufWriter {
    private final Map<String, GgufValue> metadata = new LinkedHashMap<>();
    private final List<PendingTensor> tensors = new ArrayList<>();

    /** Tensor data is supplied lazily so that large synthetic models can be streamed. */
    @FunctionalInterface
    public interface TensorSource {
        /** Writes exactly the tensor's byte size to {@code out}. */
        void writeTo(OutputStream out) throws IOException;
    }

    private record PendingTensor(String name, GgmlType type, long[] shape, long bytes, TensorSource source) {
    }

    /** Adds or replaces a metadata entry (a replaced key keeps its original position). */
    public GgufWriter put(String key, GgufValue value) {
        if (key == null || key.isEmpty()) {
            throw new IllegalArgumentException("metadata key must not be empty");
        }
        if (key.equals("general.alignment")) {
            checkAlignment(value);
        }
        metadata.put(key, java.util.Objects.requireNonNull(value, "value"));
        return this;
    }

    private static void checkAlignment(GgufValue v) {
        long a = v.type().isInteger() ? v.asLong() : -1;
        if (a <= 0 || Long.bitCount(a) != 1 || a > GgufReader.MAX_ALIGNMENT) {
            throw new IllegalArgumentException("general.alignment must be an integer power of two up to 2^30, got " + v);
        }
    }

    public GgufWriter putString(String key, String value) {
        return put(key, GgufValue.ofString(value));
    }

    public GgufWriter putUint32(String key, long value) {
        return put(key, GgufValue.ofUint32(value));
    }

    public GgufWriter putInt32(String key, int value) {
        return put(key, GgufValue.ofInt32(value));
    }

    public GgufWriter putUint64(String key, long value) {
        return put(key, GgufValue.ofUint64(value));
    }

    public GgufWriter putFloat32(String key, float value) {
        return put(key, GgufValue.ofFloat32(value));
    }

    public GgufWriter putBool(String key, boolean value) {
        return put(key, GgufValue.ofBool(value));
    }

    public GgufWriter putArray(String key, GgufValue.GgufArray value) {
        return put(key, GgufValue.ofArray(value));
    }

    /** Copies every metadata entry of {@code m}, in order. */
    public GgufWriter putAll(GgufMetadata m) {
        for (Map.Entry<String, GgufValue> e : m.asMap().entrySet()) {
            put(e.getKey(), e.getValue());
        }
        return this;
    }

    /** Adds a tensor whose bytes are already in memory (size must match type and shape). */
    public GgufWriter tensor(String name, GgmlType type, long[] shape, MemorySegment data) {
        long bytes = expectedBytes(name, type, shape);
        if (data.byteSize() != bytes) {
            throw new IllegalArgumentException("tensor " + name + ": " + data.byteSize() + " bytes given, "
                    + bytes + " expected for " + type + " " + java.util.Arrays.toString(shape));
        }
        return tensor(name, type, shape, out -> {
            byte[] buf = new byte[1 << 16];
            for (long off = 0; off < bytes; off += buf.length) {
                int n = (int) Math.min(buf.length, bytes - off);
                MemorySegment.copy(data, ValueLayout.JAVA_BYTE, off, buf, 0, n);
                out.write(buf, 0, n);
            }
        });
    }

    /** Adds an F32 tensor from a float array. */
    public GgufWriter tensorF32(String name, long[] shape, float[] values) {
        return tensor(name, GgmlType.F32, shape, MemorySegment.ofArray(toLittleEndian(values)));
    }

    /** Adds a tensor produced by {@code source}. */
    public GgufWriter tensor(String name, GgmlType type, long[] shape, TensorSource source) {
        long bytes = expectedBytes(name, type, shape);
        for (PendingTensor t : tensors) {
            if (t.name.equals(name)) {
                throw new IllegalArgumentException("duplicate tensor name " + name);
            }
        }
        tensors.add(new PendingTensor(name, type, shape.clone(), bytes, source));
        return this;
    }

    private static long expectedBytes(String name, GgmlType type, long[] shape) {
        if (shape.length < 1 || shape.length > GgufReader.MAX_DIMS) {
            throw new IllegalArgumentException("tensor " + name + ": 1..4 dimensions required");
        }
        long n = 1;
        for (long d : shape) {
            if (d <= 0) {
                throw new IllegalArgumentException("tensor " + name + ": dimensions must be positive");
            }
            n = Math.multiplyExact(n, d);
        }
        if (shape[0] % type.blockSize() != 0) {
            throw new IllegalArgumentException("tensor " + name + ": row length " + shape[0]
                    + " is not a multiple of the " + type + " block size " + type.blockSize());
        }
        return type.bytesFor(n);
    }

    /** Writes the file (atomically: temp file, then move). */
    public void write(Path path) {
        Path tmp = path.resolveSibling(path.getFileName() + ".tmp" + ProcessHandle.current().pid());
        try {
            Path parent = path.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            try (OutputStream raw = Files.newOutputStream(tmp);
                 CountingOutput out = new CountingOutput(new BufferedOutputStream(raw, 1 << 20))) {
                writeTo(out);
            }
            Files.move(tmp, path, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException ignored) {
                // the original failure is what matters
            }
            throw new UncheckedIOException("cannot write GGUF " + path + ": " + e.getMessage(), e);
        }
    }

    /**
     * Writes the header and tensor table only and leaves the data section a sparse hole of the right
     * length (zeros when read): a 30 GB model's planning-relevant part costs a few KB of disk. The
     * tensor sources are not called.
     */
    public void writeSparse(Path path) {
        try {
            Path parent = path.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            java.io.ByteArrayOutputStream header = new java.io.ByteArrayOutputStream();
            long length;
            try (CountingOutput out = new CountingOutput(header)) {
                length = writeTo(out, false);
            }
            try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(path,
                    java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.WRITE,
                    java.nio.file.StandardOpenOption.TRUNCATE_EXISTING)) {
                ch.write(ByteBuffer.wrap(header.toByteArray()));
                if (length > header.size()) {
                    ch.write(ByteBuffer.wrap(new byte[1]), length - 1);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write GGUF " + path + ": " + e.getMessage(), e);
        }
    }

    private void writeTo(CountingOutput out) throws IOException {
        writeTo(out, true);
    }

    /** Writes the header (and the data when {@code withData}); returns the file length. */
    private long writeTo(CountingOutput out, boolean withData) throws IOException {
        long alignment = GgufReader.DEFAULT_ALIGNMENT;
        GgufValue a = metadata.get("general.alignment");
        if (a != null) {
            alignment = a.asLong();
        }
        out.u32(GgufReader.MAGIC);
        out.u32(3);
        out.u64(tensors.size());
        out.u64(metadata.size());
        for (Map.Entry<String, GgufValue> e : metadata.entrySet()) {
            out.string(e.getKey());
            out.u32(e.getValue().type().id());
            writeValue(out, e.getValue());
        }
        long offset = 0;
        long[] offsets = new long[tensors.size()];
        for (int i = 0; i < tensors.size(); i++) {
            PendingTensor t = tensors.get(i);
            out.string(t.name);
            out.u32(t.shape.length);
            for (long d : t.shape) {
                out.u64(d);
            }
            out.u32(t.type.id());
            offsets[i] = offset;
            out.u64(offset);
            offset = GgufReader.alignUp(offset + t.bytes, alignment);
        }
        if (tensors.isEmpty()) {
            return out.count; // a vocab-only file has no data section to align
        }
        out.pad(alignment);
        long dataStart = out.count;
        if (!withData) {
            return tensors.isEmpty() ? dataStart : dataStart + offsets[tensors.size() - 1] + tensors.get(tensors.size() - 1).bytes;
        }
        for (int i = 0; i < tensors.size(); i++) {
            PendingTensor t = tensors.get(i);
            long before = out.count;
            t.source.writeTo(out);
            if (out.count - before != t.bytes) {
                throw new IOException("tensor " + t.name + " source wrote " + (out.count - before)
                        + " bytes, expected " + t.bytes);
            }
            if (out.count - dataStart != offsets[i] + t.bytes) {
                throw new IllegalStateException("offset bookkeeping out of step at " + t.name);
            }
            out.pad(alignment);
        }
        return out.count;
    }

    private static void writeValue(CountingOutput out, GgufValue v) throws IOException {
        Object x = v.value();
        switch (v.type()) {
            case UINT8, INT8 -> out.write(((Number) x).intValue());
            case UINT16, INT16 -> out.u16(((Number) x).intValue());
            case UINT32, INT32 -> out.u32(((Number) x).intValue());
            case UINT64, INT64 -> out.u64(((Number) x).longValue());
            case FLOAT32 -> out.u32(Float.floatToRawIntBits(((Number) x).floatValue()));
            case FLOAT64 -> out.u64(Double.doubleToRawLongBits(((Number) x).doubleValue()));
            case BOOL -> out.write((Boolean) x ? 1 : 0);
            case STRING -> out.string((String) x);
            case ARRAY -> writeArray(out, (GgufValue.GgufArray) x);
        }
    }

    private static void writeArray(CountingOutput out, GgufValue.GgufArray a) throws IOException {
        out.u32(a.elementType().id());
        out.u64(a.length());
        switch (a.data()) {
            case byte[] b -> out.write(b);
            case short[] s -> {
                for (short v : s) {
                    out.u16(v);
                }
            }
            case int[] iv -> {
                for (int v : iv) {
                    out.u32(v);
                }
            }
            case long[] lv -> {
                for (long v : lv) {
                    out.u64(v);
                }
            }
            case float[] fv -> out.write(toLittleEndian(fv));
            case double[] dv -> {
                for (double v : dv) {
                    out.u64(Double.doubleToRawLongBits(v));
                }
            }
            case boolean[] bv -> {
                for (boolean v : bv) {
                    out.write(v ? 1 : 0);
                }
            }
            case String[] sv -> {
                for (String v : sv) {
                    out.string(v);
                }
            }
            case GgufValue.GgufArray[] av -> {
                for (GgufValue.GgufArray v : av) {
                    writeArray(out, v);
                }
            }
            default -> throw new IllegalStateException("unexpected array data " + a.data().getClass());
        }
    }

    static byte[] toLittleEndian(float[] values) {
        ByteBuffer bb = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        bb.asFloatBuffer().put(values);
        return bb.array();
    }

    /** Little-endian primitive writer that tracks the byte count for alignment. */
    private static final class CountingOutput extends OutputStream {
        private final OutputStream out;
        private final byte[] scratch = new byte[8];
        long count;

        CountingOutput(OutputStream out) {
            this.out = out;
        }

        @Override
        public void write(int b) throws IOException {
            out.write(b);
            count++;
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
            count += len;
        }

        void u16(int v) throws IOException {
            scratch[0] = (byte) v;
            scratch[1] = (byte) (v >>> 8);
            write(scratch, 0, 2);
        }

        void u32(int v) throws IOException {
            for (int i = 0; i < 4; i++) {
                scratch[i] = (byte) (v >>> (8 * i));
            }
            write(scratch, 0, 4);
        }

        void u64(long v) throws IOException {
            for (int i = 0; i < 8; i++) {
                scratch[i] = (byte) (v >>> (8 * i));
            }
            write(scratch, 0, 8);
        }

        void string(String s) throws IOException {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            u64(b.length);
            write(b, 0, b.length);
        }

        void pad(long alignment) throws IOException {
            long target = GgufReader.alignUp(count, alignment);
            while (count < target) {
                write(0);
            }
        }

        @Override
        public void flush() throws IOException {
            out.flush();
        }

        @Override
        public void close() throws IOException {
            out.close();
        }
    }
}
