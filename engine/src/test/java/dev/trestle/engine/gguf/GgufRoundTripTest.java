package dev.trestle.engine.gguf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.trestle.testdata.SharedData;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * read -> write -> read on every GGUF in the shared data: metadata (types, values, order) and
 * tensor bytes survive, and since the originals were written by gguf.cpp/gguf-py with the same
 * layout rules, the rewritten file is byte-identical (a v2 file differs only in its version field).
 */
class GgufRoundTripTest {
    /** Files the reader must reject (they are tested in GgufReaderTest); everything else must round-trip. */
    private static final Set<String> REJECTED = Set.of(
            "tinyllamas-stories-260k-f32.gguf", "gguf-unknown-type.gguf", "gguf-unsupported-version.gguf");

    @TempDir
    Path tmp;

    static Stream<Path> sharedGgufFiles() throws IOException {
        List<Path> files = new ArrayList<>();
        for (Path root : List.of(SharedData.root().resolve("models"), SharedData.reference("tokenizer"))) {
            try (Stream<Path> s = Files.walk(root)) {
                s.filter(p -> p.toString().endsWith(".gguf")).sorted().forEach(files::add);
            }
        }
        return files.stream();
    }

    @Test
    void sharedDataHasTheExpectedFiles() throws IOException {
        List<Path> files = sharedGgufFiles().toList();
        assertTrue(files.size() >= 28, "expected the shared models, edge files and vocab files, found " + files.size());
        assertEquals(REJECTED.size(), files.stream().filter(p -> REJECTED.contains(p.getFileName().toString())).count());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("sharedGgufFiles")
    void readWriteReadIsLossless(Path original) throws IOException {
        if (REJECTED.contains(original.getFileName().toString())) {
            assertThrows(GgufFormatException.class, () -> GgufFile.open(original));
            return;
        }
        Path copy = tmp.resolve(original.getFileName());
        int version;
        try (GgufFile in = GgufFile.open(original)) {
            version = in.version();
            GgufWriter w = new GgufWriter().putAll(in.metadata());
            for (GgufTensorInfo t : in.tensors().values()) {
                w.tensor(t.name(), t.type(), t.shape(), in.tensorData(t));
            }
            w.write(copy);

            try (GgufFile out = GgufFile.open(copy)) {
                assertEquals(3, out.version());
                assertEquals(List.copyOf(in.metadata().asMap().entrySet()), List.copyOf(out.metadata().asMap().entrySet()));
                for (Map.Entry<String, GgufValue> e : in.metadata().asMap().entrySet()) {
                    assertEquals(e.getValue().type(), out.metadata().get(e.getKey()).type(), e.getKey());
                }
                assertEquals(List.copyOf(in.tensors().keySet()), List.copyOf(out.tensors().keySet()));
                assertEquals(in.dataOffset(), out.dataOffset());
                for (GgufTensorInfo t : in.tensors().values()) {
                    GgufTensorInfo u = out.tensor(t.name());
                    assertEquals(t.type(), u.type(), t.name());
                    assertArrayEquals(t.shape(), u.shape(), t.name());
                    assertEquals(t.offset(), u.offset(), t.name());
                    MemorySegment a = in.tensorData(t);
                    MemorySegment b = out.tensorData(u);
                    assertEquals(-1, a.mismatch(b), t.name());
                }
            }
        }
        byte[] expected = Files.readAllBytes(original);
        byte[] actual = Files.readAllBytes(copy);
        if (version == 2) {
            assertEquals(2, expected[4]);
            expected[4] = 3;
        }
        assertEquals(expected.length, actual.length, "file size");
        assertEquals(-1, java.util.Arrays.mismatch(expected, actual), "first differing byte");
    }
}
