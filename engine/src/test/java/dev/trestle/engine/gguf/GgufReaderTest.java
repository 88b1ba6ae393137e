package dev.trestle.engine.gguf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.trestle.backends.type.GgmlType;
import dev.trestle.common.TrestleException;
import dev.trestle.testdata.SharedData;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** GgufReader on the real shared models, the edge fixtures, and headers crafted to break each rule. */
class GgufReaderTest {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    @TempDir
    Path tmp;

    @Test
    void stories260kHeaderTensorsAndData() throws IOException {
        Path p = SharedData.model("stories260K.gguf");
        try (GgufFile f = GgufFile.open(p)) {
            assertEquals(3, f.version());
            assertEquals(32, f.alignment());
            assertEquals(14176, f.dataOffset());
            assertEquals(Files.size(p), f.fileSize());
            GgufMetadata m = f.metadata();
            assertEquals("llama", m.architecture());
            assertEquals(5, m.getInt("%s.block_count"));
            assertEquals(64, m.getInt("llama.embedding_length"));
            assertEquals(2048, m.getLong("%s.context_length"));
            assertEquals(1e-5f, m.getFloat("%s.attention.layer_norm_rms_epsilon"), 1e-12);
            assertEquals("llama", m.getString("tokenizer.ggml.model"));
            // string arrays decode lazily: one element, or all of them as a String[]
            assertEquals("<0x0A>", m.getArray("tokenizer.ggml.tokens").getString(13));
            assertEquals(512, m.getArray("tokenizer.ggml.tokens").length());
            String[] tokens = m.getStringArray("tokenizer.ggml.tokens");
            assertTrue(tokens == m.getStringArray("tokenizer.ggml.tokens"), "decoded once");
            assertEquals(512, tokens.length);
            assertEquals("<unk>", tokens[0]);
            assertEquals("<0x0A>", tokens[13]);
            float[] scores = m.getFloatArray("tokenizer.ggml.scores");
            assertEquals(512, scores.length);
            assertEquals(-252f, scores[511]);
            int[] types = m.getIntArray("tokenizer.ggml.token_type");
            assertEquals(6, types[13]);
            assertEquals(1, m.getInt("tokenizer.ggml.bos_token_id"));
            assertFalse(m.contains("%s.rope.freq_base"));
            assertEquals(10000f, m.getFloat("%s.rope.freq_base", 10000f));

            // u32 4294967295 stays positive; it must never become a negative size
            GgufValue sep = m.get("tokenizer.ggml.seperator_token_id");
            assertEquals(GgufValueType.UINT32, sep.type());
            assertEquals(4294967295L, sep.asLong());
            assertEquals(4294967295L, m.getLong("tokenizer.ggml.seperator_token_id"));
            assertThrows(TrestleException.class, () -> m.getInt("tokenizer.ggml.seperator_token_id"));

            assertEquals(48, f.tensors().size());
            List<String> order = new ArrayList<>(f.tensors().keySet());
            assertEquals(List.of("token_embd.weight", "output_norm.weight", "output.weight"), order.subList(0, 3));
            GgufTensorInfo embd = f.tensor("token_embd.weight");
            assertEquals(GgmlType.F32, embd.type());
            assertArrayEquals(new long[] {64, 512}, embd.shape());
            assertEquals(64, embd.dim(0));
            assertEquals(512, embd.dim(1));
            assertEquals(1, embd.dim(2));
            assertEquals(131072, embd.bytes());
            assertEquals(0, embd.offset());
            for (GgufTensorInfo t : f.tensors().values()) {
                assertEquals(GgmlType.F32, t.type(), t.name());
            }

            // tensor data is a zero-copy view of the mapping, equal to the bytes in the file
            byte[] raw = Files.readAllBytes(p);
            ByteBuffer bb = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
            for (GgufTensorInfo t : f.tensors().values()) {
                MemorySegment d = f.tensorData(t);
                assertEquals(t.bytes(), d.byteSize());
                assertEquals(f.segment().address() + f.dataOffset() + t.offset(), d.address(), t.name());
                long last = t.bytes() / 4 - 1;
                assertEquals(bb.getFloat((int) (f.dataOffset() + t.offset())), d.get(F32, 0), t.name());
                assertEquals(bb.getFloat((int) (f.dataOffset() + t.offset() + 4 * last)), d.get(F32, 4 * last));
                assertTrue(d.isReadOnly());
            }
            assertThrows(IllegalArgumentException.class, () -> f.tensorData("no.such.tensor"));
        }
    }

    @Test
    void manifestFactsMatchForEveryListedModel() throws IOException {
        ObjectMapper json = new ObjectMapper();
        int checked = 0;
        for (Path dir : List.of(SharedData.model("archs"), SharedData.model("quant"), SharedData.reference("tokenizer"))) {
            for (JsonNode e : json.readTree(dir.resolve("manifest.json").toFile())) {
                Path p = dir.resolve(e.get("file").asText());
                try (GgufFile f = GgufFile.open(p)) {
                    String what = p.toString();
                    assertEquals(e.get("size_bytes").asLong(), f.fileSize(), what);
                    assertEquals(e.get("gguf_version").asInt(), f.version(), what);
                    assertEquals(e.get("general.architecture").asText(), f.metadata().architecture(), what);
                    assertEquals(e.get("general.file_type").asLong(), f.metadata().getLong("general.file_type"), what);
                    assertEquals(e.get("tokenizer.ggml.model").asText(), f.metadata().getString("tokenizer.ggml.model"));
                    assertEquals(e.get("n_tensors").asInt(), f.tensors().size(), what);
                    // gguf-py counts its three header fields as keys
                    assertEquals(e.get("n_kv").asInt() - 3, f.metadata().asMap().size(), what);
                    assertEquals(e.get("data_offset").asLong(), f.dataOffset(), what);
                    if (e.has("n_tokens")) {
                        assertEquals(e.get("n_tokens").asInt(), f.metadata().getStringArray("tokenizer.ggml.tokens").length);
                    }
                    Map<String, Integer> counts = new LinkedHashMap<>();
                    for (GgufTensorInfo t : f.tensors().values()) {
                        counts.merge(t.type().name(), 1, Integer::sum);
                    }
                    Map<String, Integer> expected = new LinkedHashMap<>();
                    e.get("tensor_type_counts").fields().forEachRemaining(x -> expected.put(x.getKey(), x.getValue().asInt()));
                    assertEquals(new java.util.TreeMap<>(expected), new java.util.TreeMap<>(counts), what);
                    if (e.has("tensor_shapes_ne")) {
                        for (Iterator<Map.Entry<String, JsonNode>> it = e.get("tensor_shapes_ne").fields(); it.hasNext(); ) {
                            Map.Entry<String, JsonNode> s = it.next();
                            long[] ne = new long[s.getValue().size()];
                            for (int i = 0; i < ne.length; i++) {
                                ne[i] = s.getValue().get(i).asLong();
                            }
                            assertArrayEquals(ne, f.tensor(s.getKey()).shape(), what + " " + s.getKey());
                        }
                    }
                    if (e.has("tensor_types")) {
                        e.get("tensor_types").fields().forEachRemaining(x ->
                                assertEquals(x.getValue().asText(), f.tensor(x.getKey()).type().name(), x.getKey()));
                    }
                    checked++;
                }
            }
        }
        assertEquals(20, checked);
    }

    @Test
    void ggufV2EdgeFile() {
        try (GgufFile f = GgufFile.open(SharedData.model("gguf-edge/gguf-v2-f32.gguf"))) {
            assertEquals(2, f.version());
            assertTrue(f.metadata().asMap().isEmpty());
            assertNull(f.metadata().architecture());
            assertFalse(f.metadata().contains("%s.block_count"));
            assertThrows(TrestleException.class, () -> f.metadata().getInt("%s.block_count"));
            GgufTensorInfo t = f.tensor("dense.weight");
            assertEquals(GgmlType.F32, t.type());
            assertArrayEquals(new long[] {2}, t.shape());
            assertEquals(8, t.bytes());
            assertEquals("ABCDEFGH", new String(f.tensorData(t).toArray(ValueLayout.JAVA_BYTE)));
        }
    }

    @Test
    void ggufV3Q40EdgeFile() {
        try (GgufFile f = GgufFile.open(SharedData.model("gguf-edge/gguf-v3-q4-0.gguf"))) {
            assertEquals(3, f.version());
            GgufTensorInfo t = f.tensor("quant.weight");
            assertEquals(GgmlType.Q4_0, t.type());
            assertArrayEquals(new long[] {32}, t.shape());
            assertEquals(18, t.bytes());
            byte[] block = f.tensorData(t).toArray(ValueLayout.JAVA_BYTE);
            for (int i = 0; i < 18; i++) {
                assertEquals(i, block[i], "byte " + i);
            }
        }
    }

    @Test
    void unknownTypeVersion4AndVersion1AreRejectedWithOffsets() {
        GgufFormatException unknown = assertThrows(GgufFormatException.class,
                () -> GgufFile.open(SharedData.model("gguf-edge/gguf-unknown-type.gguf")));
        // magic 4 + version 4 + counts 16 + name (8 + 13) + n_dims 4 + one dim 8 = 57
        assertEquals(57, unknown.offset());
        assertTrue(unknown.getMessage().contains("'future.weight' has unknown ggml type id 43"), unknown.getMessage());

        GgufFormatException v4 = assertThrows(GgufFormatException.class,
                () -> GgufFile.open(SharedData.model("gguf-edge/gguf-unsupported-version.gguf")));
        assertEquals(4, v4.offset());
        assertTrue(v4.getMessage().contains("GGUF version 4 is not supported"), v4.getMessage());

        GgufFormatException v1 = assertThrows(GgufFormatException.class,
                () -> GgufFile.open(SharedData.model("tinyllamas-stories-260k-f32.gguf")));
        assertEquals(4, v1.offset());
        assertTrue(v1.getMessage().contains("GGUF version 1 is no longer supported"), v1.getMessage());
        assertTrue(v1.fix().contains("re-convert"), v1.fix());
        assertEquals(1, v1.exitCode());
    }

    @Test
    void notAFileOrNotGguf() throws IOException {
        TrestleException missing = assertThrows(TrestleException.class, () -> GgufFile.open(tmp.resolve("absent.gguf")));
        assertTrue(missing.getMessage().contains("not found"));
        TrestleException dir = assertThrows(TrestleException.class, () -> GgufFile.open(tmp));
        assertTrue(dir.getMessage().contains("directory"));

        Path empty = Files.write(tmp.resolve("empty.gguf"), new byte[0]);
        GgufFormatException e = assertThrows(GgufFormatException.class, () -> GgufFile.open(empty));
        assertEquals(0, e.offset());
        assertTrue(e.getMessage().contains("ends while reading the magic"), e.getMessage());

        Path text = Files.writeString(tmp.resolve("readme.gguf"), "# not a model\n");
        GgufFormatException magic = assertThrows(GgufFormatException.class, () -> GgufFile.open(text));
        assertTrue(magic.getMessage().contains("not a GGUF file"), magic.getMessage());

        GgufFormatException swapped = assertThrows(GgufFormatException.class,
                () -> GgufReader.read(GgufBytes.header(0x0300_0000L, 0, 0).segment(), "be.gguf"));
        assertTrue(swapped.getMessage().contains("byte-swapped"), swapped.getMessage());
    }

    @Test
    void everyValueTypeWithUnsignedExtremesAndNestedArrays() {
        GgufValue.GgufArray nested = new GgufValue.GgufArray(GgufValueType.ARRAY, new GgufValue.GgufArray[] {
            GgufValue.GgufArray.ofInts(1, -2, 3),
            GgufValue.GgufArray.ofStrings("a", "", "ü€😀"),
            new GgufValue.GgufArray(GgufValueType.ARRAY, new GgufValue.GgufArray[] {
                new GgufValue.GgufArray(GgufValueType.UINT64, new long[] {-1L, 0L})})});
        GgufWriter w = new GgufWriter()
                .putString("general.architecture", "toy")
                .put("toy.u8", new GgufValue(GgufValueType.UINT8, 255))
                .put("toy.i8", new GgufValue(GgufValueType.INT8, -128))
                .put("toy.u16", new GgufValue(GgufValueType.UINT16, 65535))
                .put("toy.i16", new GgufValue(GgufValueType.INT16, -32768))
                .putUint32("toy.u32", 4294967295L)
                .putInt32("toy.i32", Integer.MIN_VALUE)
                .putUint64("toy.u64", -1L)
                .put("toy.i64", GgufValue.ofInt64(Long.MIN_VALUE))
                .putFloat32("toy.f32", -0.0f)
                .put("toy.f64", GgufValue.ofFloat64(Math.PI))
                .putBool("toy.bool", true)
                .putString("toy.str", "line\nbreak \"quoted\"")
                .putArray("toy.u8s", new GgufValue.GgufArray(GgufValueType.UINT8, new byte[] {(byte) 200, 1}))
                .putArray("toy.u32s", new GgufValue.GgufArray(GgufValueType.UINT32, new int[] {-1, 7}))
                .putArray("toy.bools", new GgufValue.GgufArray(GgufValueType.BOOL, new boolean[] {true, false}))
                .putArray("toy.f64s", new GgufValue.GgufArray(GgufValueType.FLOAT64, new double[] {1.5, -2}))
                .putArray("toy.nested", nested)
                .tensorF32("w", new long[] {4, 2}, new float[] {1, 2, 3, 4, 5, 6, 7, 8});
        Path p = tmp.resolve("toy.gguf");
        w.write(p);
        try (GgufFile f = GgufFile.open(p)) {
            GgufMetadata m = f.metadata();
            assertEquals(255, m.getInt("%s.u8"));
            assertEquals(-128, m.getInt("%s.i8"));
            assertEquals(65535, m.getInt("%s.u16"));
            assertEquals(-32768, m.getInt("%s.i16"));
            assertEquals(4294967295L, m.getLong("%s.u32"));
            assertThrows(TrestleException.class, () -> m.getInt("%s.u32"));
            assertEquals(Integer.MIN_VALUE, m.getInt("%s.i32"));
            // a UINT64 of 2^64-1 is not silently -1
            assertThrows(TrestleException.class, () -> m.getLong("%s.u64"));
            assertThrows(TrestleException.class, () -> m.getInt("%s.u64"));
            assertEquals("18446744073709551615", m.get("%s.u64").display(4));
            assertEquals(Long.MIN_VALUE, m.getLong("%s.i64"));
            assertEquals(Float.floatToRawIntBits(-0.0f), Float.floatToRawIntBits(m.getFloat("%s.f32")));
            assertEquals(Math.PI, m.get("%s.f64").asDouble());
            assertTrue(m.getBool("%s.bool"));
            assertEquals("line\nbreak \"quoted\"", m.getString("%s.str"));
            assertEquals("\"line\\nbreak \\\"quoted\\\"\"", m.get("%s.str").display(4));
            assertArrayEquals(new int[] {200, 1}, m.getIntArray("%s.u8s"));
            assertThrows(TrestleException.class, () -> m.getIntArray("%s.u32s"));
            assertEquals(4294967295L, m.getArray("%s.u32s").getLong(0));
            assertEquals("[4294967295, 7]", m.get("%s.u32s").display(4));
            assertArrayEquals(new float[] {1.5f, -2f}, m.getFloatArray("%s.f64s"));
            assertThrows(TrestleException.class, () -> m.getFloatArray("%s.nested"));
            assertEquals(nested, m.getArray("%s.nested"));
            GgufValue.GgufArray inner = ((GgufValue.GgufArray[]) m.getArray("%s.nested").data())[2];
            assertEquals(-1L, ((GgufValue.GgufArray[]) inner.data())[0].getLong(0));
            assertThrows(TrestleException.class, () -> m.getString("%s.u8"));
            assertThrows(TrestleException.class, () -> m.getStringArray("%s.u8s"));
            assertThrows(TrestleException.class, () -> m.getInt("%s.missing"));
            assertEquals(7, m.getInt("%s.missing", 7));
            assertTrue(m.find("%s.missing").isEmpty());
            float[] data = new float[8];
            MemorySegment.copy(f.tensorData("w"), F32, 0, data, 0, 8);
            assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6, 7, 8}, data);
        }
    }

    @Test
    void customAlignmentIsHonouredByWriterAndReader() throws IOException {
        Path p = tmp.resolve("aligned.gguf");
        new GgufWriter().putUint32("general.alignment", 64)
                .tensorF32("a", new long[] {3}, new float[] {1, 2, 3})
                .tensor("q", GgmlType.Q8_0, new long[] {32, 2}, MemorySegment.ofArray(new byte[68]))
                .tensorF32("b", new long[] {1}, new float[] {9})
                .write(p);
        try (GgufFile f = GgufFile.open(p)) {
            assertEquals(64, f.alignment());
            assertEquals(0, f.dataOffset() % 64);
            assertEquals(List.of(0L, 64L, 192L), f.tensors().values().stream().map(GgufTensorInfo::offset).toList());
            assertEquals(9f, f.tensorData("b").get(F32, 0));
            assertEquals(0, Files.size(p) % 64, "the last tensor is padded too, as gguf.cpp does");
        }
        GgufWriter w = new GgufWriter().tensorF32("a", new long[] {1}, new float[] {1});
        assertThrows(IllegalArgumentException.class, () -> w.tensorF32("a", new long[] {1}, new float[] {1}));
        assertThrows(IllegalArgumentException.class, () -> w.tensorF32("z", new long[] {0}, new float[0]));
        assertThrows(IllegalArgumentException.class,
                () -> w.tensor("q", GgmlType.Q4_0, new long[] {16}, MemorySegment.ofArray(new byte[9])));
        assertThrows(IllegalArgumentException.class, () -> w.tensorF32("x", new long[] {2}, new float[] {1}));
    }

    @Test
    void valuesNormalizeAndRejectOutOfRange() {
        assertEquals(GgufValue.ofUint32(5), new GgufValue(GgufValueType.UINT32, 5));
        assertEquals(Long.class, new GgufValue(GgufValueType.UINT32, 5).value().getClass());
        assertEquals(Integer.class, new GgufValue(GgufValueType.UINT8, 5L).value().getClass());
        assertThrows(IllegalArgumentException.class, () -> new GgufValue(GgufValueType.UINT8, 256));
        assertThrows(IllegalArgumentException.class, () -> new GgufValue(GgufValueType.UINT32, -1));
        assertThrows(IllegalArgumentException.class, () -> new GgufValue(GgufValueType.INT32, 1.5));
        assertThrows(IllegalArgumentException.class, () -> new GgufValue(GgufValueType.STRING, 5));
        assertThrows(IllegalArgumentException.class, () -> new GgufWriter().putUint32("general.alignment", 3));
    }

    @Test
    void fileLargerThan2GiBIsMappedAndSlicedWithLongOffsets() throws IOException {
        long bigElements = (1L << 29) + 64; // 2 GiB + 256 bytes of F32
        long bigBytes = bigElements * 4;
        long tailOffset = GgufReader.alignUp(bigBytes, 32);
        GgufBytes h = GgufBytes.header(3, 2, 1).kvString("general.architecture", "big")
                .tensor("big.weight", new long[] {bigElements}, GgmlType.F32.id(), 0)
                .tensor("tail.weight", new long[] {4}, GgmlType.F32.id(), tailOffset)
                .pad(32);
        long dataOffset = h.size();
        Path p = tmp.resolve("big.gguf");
        Files.write(p, h.toByteArray());
        try (RandomAccessFile raf = new RandomAccessFile(p.toFile(), "rw")) {
            raf.setLength(dataOffset + tailOffset + 32); // sparse: the 2 GiB in between take no disk
            raf.seek(dataOffset + tailOffset);
            ByteBuffer tail = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
            tail.putFloat(1.5f).putFloat(-2f).putFloat(3.25f).putFloat(42f);
            raf.write(tail.array());
        }
        try (GgufFile f = GgufFile.open(p)) {
            assertTrue(f.fileSize() > Integer.MAX_VALUE);
            GgufTensorInfo big = f.tensor("big.weight");
            assertEquals(bigBytes, big.bytes());
            assertEquals(bigBytes, f.tensorData(big).byteSize());
            assertEquals(0f, f.tensorData(big).get(F32, bigBytes - 4));
            MemorySegment tail = f.tensorData("tail.weight");
            assertEquals(tailOffset, f.tensor("tail.weight").offset());
            assertEquals(1.5f, tail.get(F32, 0));
            assertEquals(42f, tail.get(F32, 12));
            GgufSummary s = GgufSummary.of(f);
            assertEquals(bigElements + 4, s.parameterCount());
        }
    }

    @Test
    void craftedHeadersFailAtTheRightByteWithTheRightReason() {
        long kvStart = 24;
        // counts that cannot fit
        expect(GgufBytes.header(3, 0, -1L), 16, "metadata count 18446744073709551615 cannot fit");
        expect(GgufBytes.header(3, Long.MIN_VALUE, 0), 8, "tensor count 9223372036854775808 cannot fit");
        expect(GgufBytes.header(3, 1, 0).zeros(31), 8, "tensor count 1 cannot fit");
        // keys and values
        expect(GgufBytes.header(3, 0, 1).u64(-1L).zeros(8), kvStart, "length 18446744073709551615 of the key");
        expect(GgufBytes.header(3, 0, 1).str("").u32(4).u32(1), kvStart, "is empty");
        expect(GgufBytes.header(3, 0, 2).kvU32("a", 1).kvU32("a", 2), kvStart + 17, "duplicate metadata key 'a'");
        expect(GgufBytes.header(3, 0, 1).str("a").u32(13).u32(0), kvStart + 9, "unknown value type 13");
        expect(GgufBytes.header(3, 0, 1).str("a").u32(8).u64(1000).zeros(8), kvStart + 13, "the length 1000 of the value of 'a'");
        expect(GgufBytes.header(3, 0, 1).str("a").u32(9).u32(4).u64(3).zeros(8), kvStart + 17, "claims 3 UINT32 elements");
        expect(GgufBytes.header(3, 0, 1).str("a").u32(9).u32(99).u64(0), kvStart + 13, "unknown element type 99");
        // alignment
        expect(GgufBytes.header(3, 0, 1).kvU32("general.alignment", 3), kvStart + 8 + 17 + 4, "power of two");
        expect(GgufBytes.header(3, 0, 1).kvU32("general.alignment", 0), kvStart + 8 + 17 + 4, "power of two");
        expect(GgufBytes.header(3, 0, 1).kvString("general.alignment", "32"), kvStart + 8 + 17 + 4, "expected an unsigned integer");
        // tensor infos: tensor table starts right after the header when there is no metadata
        long t = kvStart;
        expect(GgufBytes.header(3, 2, 0).tensor("x", new long[] {8}, 0, 0).tensor("x", new long[] {8}, 0, 32).pad(32).zeros(64),
                t + 33, "duplicate tensor name 'x'");
        expect(GgufBytes.header(3, 1, 0).tensor("x", new long[0], 0, 0).zeros(40), t + 9, "has 0 dimensions");
        expect(GgufBytes.header(3, 1, 0).tensor("x", new long[] {1, 1, 1, 1, 1}, 0, 0).zeros(40), t + 9, "has 5 dimensions");
        expect(GgufBytes.header(3, 1, 0).tensor("x", new long[] {4, 0}, 0, 0).zeros(40), t + 21, "dimension 1 is 0");
        expect(GgufBytes.header(3, 1, 0).tensor("x", new long[] {-2}, 0, 0).zeros(40), t + 13, "dimension 0 is 18446744073709551614");
        expect(GgufBytes.header(3, 1, 0).tensor("x", new long[] {1L << 32, 1L << 32}, 0, 0).zeros(40), t + 21,
                "more elements than fit in 63 bits");
        for (long badType : new long[] {4, 5, 31, 36, 40, 43, 0xFFFF_FFFFL}) {
            expect(GgufBytes.header(3, 1, 0).tensor("x", new long[] {32}, badType, 0).zeros(40), t + 21,
                    "unknown ggml type id " + badType);
        }
        expect(GgufBytes.header(3, 1, 0).tensor("x", new long[] {33}, GgmlType.Q4_0.id(), 0).zeros(40), t + 9,
                "row length 33 is not a multiple of the Q4_0 block size 32");
        expect(GgufBytes.header(3, 1, 0).tensor("x", new long[] {8}, 0, 16).pad(32).zeros(64), t + 25,
                "offset 16 is not a multiple of the alignment 32");
        expect(GgufBytes.header(3, 1, 0).tensor("x", new long[] {8}, 0, 0).pad(32).zeros(31), t + 25,
                "exceeds the file size");
        expect(GgufBytes.header(3, 1, 0).tensor("x", new long[] {8}, 0, 1L << 62).pad(32).zeros(32), t + 25,
                "exceeds the file size");
        expect(GgufBytes.header(3, 1, 0).tensor("x", new long[] {8}, 0, 0), t + 33, "before the tensor data section");
        expect(GgufBytes.header(3, 2, 0).tensor("a", new long[] {16}, 0, 0).tensor("b", new long[] {8}, 0, 32).pad(32).zeros(96),
                t + 33 + 25, "tensor 'b' data (offset 32) overlaps tensor 'a' (offset 0, 64 bytes)");
    }

    @Test
    void proportionalLimitsAcceptWhatTheFileReallyHolds() {
        // a u8 array that fills the whole rest of the file is legitimate
        GgufBytes ok = GgufBytes.header(3, 0, 1).str("blob").u32(9).u32(0).u64(1 << 20).zeros(1 << 20);
        try (GgufFile f = GgufReader.read(ok.segment(), "blob.gguf")) {
            assertEquals(1 << 20, f.metadata().getArray("blob").length());
        }
        // one more than the file holds is not
        expect(GgufBytes.header(3, 0, 1).str("blob").u32(9).u32(0).u64((1 << 20) + 1).zeros(1 << 20),
                24 + 12 + 8, "claims 1048577 UINT8 elements");
        // a bool other than 0/1 reads as true, as in gguf.cpp
        try (GgufFile f = GgufReader.read(GgufBytes.header(3, 0, 1).str("b").u32(7).u8(2).segment(), "b.gguf")) {
            assertTrue(f.metadata().getBool("b"));
        }
        // nesting: 8 levels are fine, 9 are not
        assertEquals(8, depthOf(nestedArrays(8)));
        expect(nestedArrays(9), 24 + 12 + 4 + 8 * 12, "nested deeper than 8 levels");
    }

    @Test
    void heapBudgetStopsStringFloodsBeforeAllocating() throws IOException {
        // 100k empty strings fit the bytes (8 each) but would inflate ~6x on the heap
        int n = 100_000;
        GgufBytes flood = GgufBytes.header(3, 0, 1).str("flood").u32(9).u32(8).u64(n).zeros(8L * n);
        try (GgufFile f = GgufReader.read(flood.segment(), "flood.gguf")) {
            assertEquals(n, f.metadata().getStringArray("flood").length);
        }
        GgufFormatException e = assertThrows(GgufFormatException.class,
                () -> GgufReader.read(flood.segment(), "flood.gguf", 1 << 20));
        assertEquals(24 + 13 + 4 + 4, e.offset());
        assertTrue(e.getMessage().contains("Java heap"), e.getMessage());

        // the same at real scale: 10^8 empty strings in a sparse 800 MB file are refused up front
        Path p = tmp.resolve("flood.gguf");
        byte[] head = GgufBytes.header(3, 0, 1).str("flood").u32(9).u32(8).u64(100_000_000L).toByteArray();
        Files.write(p, head);
        try (RandomAccessFile raf = new RandomAccessFile(p.toFile(), "rw")) {
            raf.setLength(head.length + 800_000_000L);
        }
        GgufFormatException big = assertThrows(GgufFormatException.class, () -> GgufFile.open(p));
        assertTrue(big.getMessage().contains("array 'flood' would take the decoded metadata"), big.getMessage());
    }

    private static GgufBytes nestedArrays(int depth) {
        GgufBytes b = GgufBytes.header(3, 0, 1).str("deep").u32(GgufValueType.ARRAY.id());
        for (int i = 1; i < depth; i++) {
            b.u32(GgufValueType.ARRAY.id()).u64(1);
        }
        return b.u32(GgufValueType.UINT8.id()).u64(1).u8(7);
    }

    private static int depthOf(GgufBytes b) {
        try (GgufFile f = GgufReader.read(b.segment(), "deep.gguf")) {
            GgufValue.GgufArray a = f.metadata().getArray("deep");
            int depth = 1;
            while (a.elementType() == GgufValueType.ARRAY) {
                a = ((GgufValue.GgufArray[]) a.data())[0];
                depth++;
            }
            return depth;
        }
    }

    private static void expect(GgufBytes bytes, long offset, String fragment) {
        GgufFormatException e = assertThrows(GgufFormatException.class,
                () -> GgufReader.read(bytes.segment(), "crafted.gguf"), fragment);
        assertTrue(e.getMessage().contains(fragment), () -> "expected '" + fragment + "' in: " + e.getMessage());
        assertEquals(offset, e.offset(), () -> "offset for '" + fragment + "': " + e.getMessage());
        assertInstanceOf(TrestleException.class, e);
    }
}
