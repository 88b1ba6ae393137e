package dev.trestle.engine.gguf;

import java.io.ByteArrayOutputStream;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;

/**
 * Builds GGUF bytes field by field, independently of {@link GgufWriter}, so tests can craft
 * headers that the writer refuses to produce (hostile counts, overlapping tensors, bad types).
 */
final class GgufBytes {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    /** magic, version, tensor count, metadata count. */
    static GgufBytes header(long version, long tensorCount, long kvCount) {
        return new GgufBytes().u32(GgufReader.MAGIC).u32(version).u64(tensorCount).u64(kvCount);
    }

    GgufBytes u8(int v) {
        out.write(v);
        return this;
    }

    GgufBytes u32(long v) {
        for (int i = 0; i < 4; i++) {
            out.write((int) (v >>> (8 * i)));
        }
        return this;
    }

    GgufBytes u64(long v) {
        for (int i = 0; i < 8; i++) {
            out.write((int) (v >>> (8 * i)));
        }
        return this;
    }

    GgufBytes str(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        u64(b.length);
        out.writeBytes(b);
        return this;
    }

    GgufBytes bytes(byte[] b) {
        out.writeBytes(b);
        return this;
    }

    GgufBytes zeros(long n) {
        for (long i = 0; i < n; i++) {
            out.write(0);
        }
        return this;
    }

    /** A metadata entry with a UINT32 value. */
    GgufBytes kvU32(String key, long v) {
        return str(key).u32(GgufValueType.UINT32.id()).u32(v);
    }

    /** A metadata entry with a STRING value. */
    GgufBytes kvString(String key, String v) {
        return str(key).u32(GgufValueType.STRING.id()).str(v);
    }

    /** A tensor info: name, n_dims, dims, ggml type id, offset. */
    GgufBytes tensor(String name, long[] dims, long typeId, long offset) {
        str(name).u32(dims.length);
        for (long d : dims) {
            u64(d);
        }
        return u32(typeId).u64(offset);
    }

    /** Zero bytes up to the next multiple of {@code alignment}. */
    GgufBytes pad(long alignment) {
        while (out.size() % alignment != 0) {
            out.write(0);
        }
        return this;
    }

    int size() {
        return out.size();
    }

    byte[] toByteArray() {
        return out.toByteArray();
    }

    MemorySegment segment() {
        return MemorySegment.ofArray(toByteArray());
    }
}
