package dev.trestle.engine.gguf;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A parsed, validated GGUF file whose tensor data stays memory-mapped (zero-copy).
 *
 * <p>Closing it unmaps the file; segments handed out by {@link #tensorData} must not be used after.
 */
public final class GgufFile implements AutoCloseable {
    private final Path path;
    private final int version;
    private final GgufMetadata metadata;
    private final Map<String, GgufTensorInfo> tensors;
    private final long alignment;
    private final long dataOffset;
    private final MemorySegment file;
    private final Arena arena;

    GgufFile(Path path, int version, GgufMetadata metadata, List<GgufTensorInfo> tensors, long alignment,
             long dataOffset, MemorySegment file, Arena arena) {
        this.path = path;
        this.version = version;
        this.metadata = metadata;
        Map<String, GgufTensorInfo> byName = new LinkedHashMap<>();
        for (GgufTensorInfo t : tensors) {
            byName.put(t.name(), t);
        }
        this.tensors = Collections.unmodifiableMap(byName);
        this.alignment = alignment;
        this.dataOffset = dataOffset;
        this.file = file;
        this.arena = arena;
    }

    /** Opens, maps and validates a GGUF file. */
    public static GgufFile open(Path path) {
        return GgufReader.open(path);
    }

    /** The file, or null for bytes parsed from memory under a name that is not a path. */
    public Path path() {
        return path;
    }

    /** GGUF format version (2 or 3). */
    public int version() {
        return version;
    }

    public GgufMetadata metadata() {
        return metadata;
    }

    /** Tensor infos by name, in file order. */
    public Map<String, GgufTensorInfo> tensors() {
        return tensors;
    }

    /** The named tensor's info, or null. */
    public GgufTensorInfo tensor(String name) {
        return tensors.get(name);
    }

    public long alignment() {
        return alignment;
    }

    /** Absolute file offset where the data section starts. */
    public long dataOffset() {
        return dataOffset;
    }

    /** Size of the whole file in bytes. */
    public long fileSize() {
        return file.byteSize();
    }

    /** The mapped bytes of one tensor of this file (read-only view, zero-copy). */
    public MemorySegment tensorData(GgufTensorInfo t) {
        if (tensors.get(t.name()) != t && !t.equals(tensors.get(t.name()))) {
            throw new IllegalArgumentException("tensor " + t + " does not belong to " + path);
        }
        return file.asSlice(dataOffset + t.offset(), t.bytes()).asReadOnly();
    }

    /** The mapped bytes of the named tensor; throws when absent. */
    public MemorySegment tensorData(String name) {
        GgufTensorInfo t = tensors.get(name);
        if (t == null) {
            throw new IllegalArgumentException("no tensor named " + name + " in " + path);
        }
        return tensorData(t);
    }

    /** The whole mapped file (read-only). */
    public MemorySegment segment() {
        return file.asReadOnly();
    }

    @Override
    public void close() {
        if (arena != null && arena.scope().isAlive()) {
            arena.close();
        }
    }
}
