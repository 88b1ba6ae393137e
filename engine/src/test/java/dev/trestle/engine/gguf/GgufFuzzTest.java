package dev.trestle.engine.gguf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.trestle.common.TrestleException;
import dev.trestle.testdata.SharedData;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Mutates the real files in the shared models (truncation at every byte or field boundary, seeded
 * random byte flips in the header, huge values in every count, length, type and offset field) and
 * checks that the reader never crashes, never runs out of memory and never throws anything but a
 * {@link TrestleException} with a message; a mutation that still parses must describe tensor data
 * that lies inside the file.
 */
class GgufFuzzTest {
    private static final long SEED = 0x6767_7566L;

    /** Small enough to truncate at every byte up to the data section. */
    private static final List<String> EVERY_BYTE = List.of(
            "stories260K.gguf", "tinyllamas-stories-260k-f32.gguf", "gguf-edge/gguf-v2-f32.gguf",
            "gguf-edge/gguf-v3-q4-0.gguf", "gguf-edge/gguf-unknown-type.gguf", "gguf-edge/gguf-unsupported-version.gguf");

    /** Readable files of every kind (F32, F16, K-quants, MoE, 32k vocab, vocab-only), with flip counts. */
    private static final List<Object[]> FLIPS = List.of(
            new Object[] {"models/stories260K.gguf", 1200},
            new Object[] {"models/synthetic/stories260K-moe4top2-synthetic.gguf", 200},
            new Object[] {"models/llama-2-tiny-random.gguf", 100},
            new Object[] {"models/archs/llama-dense-f16.gguf", 300},
            new Object[] {"models/archs/gemma3-dense-rescaled-f16.gguf", 150},
            new Object[] {"models/quant/qwen3moe-moe-q4_k_m.gguf", 250},
            new Object[] {"models/gguf-edge/gguf-v2-f32.gguf", 100},
            new Object[] {"models/gguf-edge/gguf-v3-q4-0.gguf", 100},
            new Object[] {"reference/tokenizer/ggml-vocab-bert-bge.gguf", 60});

    private int accepted;
    private int rejected;

    @Test
    void truncationAtEveryByteOfTheSmallFiles() throws IOException {
        for (String name : EVERY_BYTE) {
            Path p = SharedData.model(name);
            try (Arena arena = Arena.ofConfined(); FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
                MemorySegment whole = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
                // every cut up to 64 bytes into the data section (to the end of the edge files' single
                // tensor; the rest of stories260K only shortens its last tensor); a rejected file at every byte
                long limit = whole.byteSize() - 1;
                try (GgufFile f = GgufReader.read(whole, name)) {
                    long dataEnd = 0;
                    for (GgufTensorInfo t : f.tensors().values()) {
                        dataEnd = Math.max(dataEnd, f.dataOffset() + t.offset() + t.bytes());
                    }
                    limit = Math.min(dataEnd - 1, f.dataOffset() + 64);
                } catch (GgufFormatException rejectedWhole) {
                    limit = Math.min(limit, 11456);
                }
                for (long n = 0; n <= limit; n++) {
                    assertFalse(parse(whole.asSlice(0, n), name + " cut at " + n), name + " cut at " + n + " was accepted");
                }
            }
        }
        System.out.printf("GgufFuzzTest: %d truncated prefixes, all rejected%n", rejected);
        assertTrue(rejected > 25_000, "truncations tried: " + rejected);
    }

    @Test
    void truncationAtEveryFieldBoundaryOfEveryFile() throws IOException {
        int files = 0;
        for (Path p : GgufRoundTripTest.sharedGgufFiles().toList()) {
            MemorySegment whole = MemorySegment.ofArray(Files.readAllBytes(p));
            HeaderWalk walk;
            try (GgufFile f = GgufReader.read(whole, p.toString())) {
                walk = HeaderWalk.of(whole);
                assertEquals(f.dataOffset(), walk.dataOffset, p.toString());
                // inside the data section: one byte short of each tensor's end names that tensor
                for (GgufTensorInfo t : f.tensors().values()) {
                    long cut = f.dataOffset() + t.offset() + t.bytes() - 1;
                    TrestleException e = rejection(whole.asSlice(0, cut), p + " cut inside " + t.name());
                    assertTrue(e.getMessage().contains("'" + t.name() + "'"), e.getMessage());
                }
            } catch (GgufFormatException expectedForRejectedFiles) {
                continue;
            }
            boolean hasTensors = walk.dataOffset < whole.byteSize();
            long end = hasTensors ? walk.dataOffset : walk.headerEnd - 1;
            for (HeaderWalk.Field fld : walk.fields) {
                if (!sampled(fld)) {
                    continue;
                }
                for (long cut : new long[] {fld.at(), fld.at() + 1, fld.at() + fld.width() - 1}) {
                    if (cut <= end) {
                        assertFalse(parse(whole.asSlice(0, cut), p + " cut at " + cut), p + " cut at " + cut);
                    }
                }
            }
            files++;
        }
        System.out.printf("GgufFuzzTest: %d field-boundary truncations of %d files, all rejected%n", rejected, files);
        assertEquals(25, files);
    }

    @Test
    void seededRandomByteFlipsInTheHeader() throws IOException {
        Random rnd = new Random(SEED);
        int mutations = 0;
        for (Object[] spec : FLIPS) {
            Path p = SharedData.root().resolve((String) spec[0]);
            byte[] bytes = Files.readAllBytes(p);
            MemorySegment seg = MemorySegment.ofArray(bytes);
            HeaderWalk walk = HeaderWalk.of(seg);
            long header = Math.min(walk.dataOffset, bytes.length);
            for (int i = 0; i < (int) spec[1]; i++) {
                int at;
                int width;
                int kind = rnd.nextInt(3);
                if (kind == 2) {
                    // overwrite a whole field with random bits: hits counts, lengths and offsets squarely
                    HeaderWalk.Field f = walk.fields.get(rnd.nextInt(walk.fields.size()));
                    at = (int) f.at();
                    width = Math.min(f.width(), 8);
                } else {
                    at = rnd.nextInt((int) header);
                    width = 1;
                }
                byte[] saved = java.util.Arrays.copyOfRange(bytes, at, at + width);
                for (int k = 0; k < width; k++) {
                    bytes[at + k] = switch (kind) {
                        case 0 -> (byte) (bytes[at + k] ^ (1 << rnd.nextInt(8)));
                        default -> (byte) rnd.nextInt(256);
                    };
                }
                parse(seg, p.getFileName() + " mutation " + i + " at byte " + at);
                System.arraycopy(saved, 0, bytes, at, width);
                mutations++;
            }
        }
        System.out.printf("GgufFuzzTest: %d header mutations, %d rejected, %d still valid%n", mutations, rejected, accepted);
        assertEquals(2460, mutations);
        assertTrue(rejected > mutations / 4, "rejected " + rejected + " of " + mutations);
    }

    @Test
    void hugeValuesInEveryCountLengthTypeAndOffsetField() throws IOException {
        int injected = 0;
        for (String name : List.of("models/stories260K.gguf", "models/gguf-edge/gguf-v2-f32.gguf",
                "models/gguf-edge/gguf-v3-q4-0.gguf", "models/archs/llama-dense-f16.gguf",
                "models/quant/llama-dense-q4_k_m.gguf", "models/synthetic/stories260K-moe4top2-synthetic.gguf")) {
            byte[] bytes = Files.readAllBytes(SharedData.root().resolve(name));
            MemorySegment seg = MemorySegment.ofArray(bytes);
            ByteBuffer bb = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
            long size = bytes.length;
            for (HeaderWalk.Field f : HeaderWalk.of(seg).fields) {
                if (!f.kind().isSizeLike() || !sampled(f)) {
                    continue;
                }
                int at = (int) f.at();
                if (f.width() == 8) {
                    long saved = bb.getLong(at);
                    // impossible in any file this size: must be rejected
                    for (long v : new long[] {-1L, Long.MAX_VALUE, Long.MIN_VALUE, 1L << 40, -8L}) {
                        bb.putLong(at, v);
                        assertFalse(parse(seg, name + " " + f + " = " + v), name + " " + f + " = " + v + " accepted");
                        injected++;
                    }
                    // near the edge of what fits: must only fail cleanly
                    for (long v : new long[] {0, 1L << 31, 0xFFFF_FFFFL, 1L << 32, size, size - at, size - at - 8, size + 1}) {
                        bb.putLong(at, v);
                        parse(seg, name + " " + f + " = " + v);
                        injected++;
                    }
                    bb.putLong(at, saved);
                } else {
                    int saved = bb.getInt(at);
                    // invalid as a value type, an element type, a dimension count and a ggml type alike
                    for (int v : new int[] {-1, Integer.MIN_VALUE, Integer.MAX_VALUE, 44, 1000}) {
                        bb.putInt(at, v);
                        assertFalse(parse(seg, name + " " + f + " = " + v), name + " " + f + " = " + v + " accepted");
                        injected++;
                    }
                    bb.putInt(at, saved);
                }
            }
        }
        System.out.printf("GgufFuzzTest: %d huge values injected, %d rejected%n", injected, rejected);
        assertTrue(injected > 5_000, "injected " + injected);
    }

    /** Fields outside arrays, and the first few elements of each array (vocabularies hold 32k+). */
    private static boolean sampled(HeaderWalk.Field f) {
        return f.element() < 4 || f.element() % 4999 == 0;
    }

    private TrestleException rejection(MemorySegment seg, String what) {
        try (GgufFile f = GgufReader.read(seg, "fuzz.gguf")) {
            fail(what + ": accepted");
            return null;
        } catch (TrestleException e) {
            return e;
        }
    }

    /**
     * Parses {@code seg}; true when accepted (and the tensor data it describes is readable), false
     * when rejected with a clear TrestleException. Anything else fails the test.
     */
    private boolean parse(MemorySegment seg, String what) {
        try (GgufFile f = GgufReader.read(seg, "fuzz.gguf")) {
            GgufSummary.of(f);
            for (GgufTensorInfo t : f.tensors().values()) {
                MemorySegment d = f.tensorData(t);
                d.get(ValueLayout.JAVA_BYTE, 0);
                d.get(ValueLayout.JAVA_BYTE, d.byteSize() - 1);
            }
            accepted++;
            return true;
        } catch (TrestleException e) {
            String m = e.getMessage();
            if (m == null || m.isBlank() || (e instanceof GgufFormatException g
                    && (g.offset() < 0 || g.offset() > seg.byteSize() || !m.contains("invalid GGUF at byte")))) {
                fail(what + ": unclear rejection: " + m, e);
            }
            rejected++;
            return false;
        } catch (Throwable t) {
            fail(what + ": " + t, t);
            return false;
        }
    }
}
