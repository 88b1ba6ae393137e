package dev.trestle.engine.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.trestle.common.TrestleException;
import dev.trestle.engine.gguf.GgufFile;
import dev.trestle.engine.gguf.GgufMetadata;
import dev.trestle.engine.gguf.GgufValue;
import dev.trestle.testdata.SharedData;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Special tokens, BOS/EOS, detokenization, streaming and round trips on the real vocabularies. */
class TokenizerBehaviourTest {
    static Tokenizer stories;
    static Tokenizer llama2;
    static Tokenizer llamaSpm;
    static Tokenizer phi3;
    static Tokenizer gpt2;
    static Tokenizer bert;
    static GgufMetadata gpt2Metadata;

    @BeforeAll
    static void load() {
        Path dir = SharedData.reference("tokenizer");
        stories = TokenizerReferenceTest.load(SharedData.model("stories260K.gguf"));
        llama2 = TokenizerReferenceTest.load(SharedData.model("llama-2-tiny-random.gguf"));
        llamaSpm = TokenizerReferenceTest.load(dir.resolve("ggml-vocab-llama-spm.gguf"));
        phi3 = TokenizerReferenceTest.load(dir.resolve("ggml-vocab-phi-3.gguf"));
        bert = TokenizerReferenceTest.load(dir.resolve("ggml-vocab-bert-bge.gguf"));
        try (GgufFile f = GgufFile.open(dir.resolve("ggml-vocab-gpt-2.gguf"))) {
            gpt2Metadata = f.metadata();
        }
        gpt2 = Tokenizer.fromGguf(gpt2Metadata);
    }

    static JsonNode greedy(String name) throws IOException {
        return new ObjectMapper().readTree(SharedData.reference("greedy/" + name).toFile());
    }

    static int[] ints(JsonNode array) {
        return StreamSupport.stream(array.spliterator(), false).mapToInt(JsonNode::asInt).toArray();
    }

    @Test
    void storiesPromptMatchesLlamaCpp() throws IOException {
        assertArrayEquals(new int[] {1, 403, 407, 261, 378}, stories.encode("Once upon a time", true, false));
        JsonNode ref = greedy("stories260K.json");
        assertArrayEquals(ints(ref.get("prompt_ids")), stories.encode(ref.get("prompt_text").asText(), true, false));
    }

    @Test
    void llama2PromptMatchesLlamaCpp() throws IOException {
        assertArrayEquals(new int[] {1, 9038, 2501, 263, 931}, llama2.encode("Once upon a time", true, false));
        JsonNode ref = greedy("llama-2-tiny-random.json");
        assertArrayEquals(ints(ref.get("prompt_ids")), llama2.encode(ref.get("prompt_text").asText(), true, false));
    }

    @Test
    void piecesMatchLlamaCppTextPieces() throws IOException {
        for (var e : Map.of("stories260K.json", stories, "llama-2-tiny-random.json", llama2).entrySet()) {
            JsonNode ref = greedy(e.getKey());
            assertEquals(ref.get("generated_text_pieces").asText(), concatPieces(e.getValue(), ints(ref.get("generated_ids"))),
                    e.getKey());
            int[] prompt = ints(ref.get("prompt_ids"));
            assertEquals(ref.get("prompt_text_pieces").asText(),
                    concatPieces(e.getValue(), java.util.Arrays.copyOfRange(prompt, 1, prompt.length)), e.getKey());
        }
    }

    static String concatPieces(Tokenizer t, int[] ids) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int id : ids) {
            out.writeBytes(t.pieceBytes(id, false));
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    @Test
    void bosAndEosFollowTheVocabulary() {
        assertTrue(stories.addsBos());
        assertEquals(1, stories.bos());
        assertEquals(2, stories.eos());
        assertTrue(stories.isEog(2));
        assertTrue(stories.isControl(1));
        assertFalse(stories.isControl(403));
        assertFalse(gpt2.addsBos()); // gpt-2: no add_bos_token, BPE default is off
        assertEquals(50256, gpt2.eos());
        assertTrue(gpt2.isEog(50256));
        int[] withSpecial = bert.encode("hello", true, false);
        assertEquals(101, withSpecial[0]); // [CLS]
        assertEquals(102, withSpecial[withSpecial.length - 1]); // [SEP]
    }

    @Test
    void specialTokensAreParsedOnlyWhenAsked() {
        int[] parsed = llamaSpm.encode("<s>Hello</s>", false, true);
        assertEquals(1, parsed[0]);
        assertEquals(2, parsed[parsed.length - 1]);
        int[] plain = llamaSpm.encode("<s>Hello</s>", false, false);
        for (int id : plain) {
            assertTrue(id != 1 && id != 2, "control tokens must not appear when parse_special is off");
        }
        int[] repeated = llamaSpm.encode("<s>a</s><s>b</s>", false, true);
        assertEquals(1, repeated[0]);
        assertEquals("<s> a</s><s> b</s>", llamaSpm.decode(repeated, false));
        // a special token is never split or merged with neighbouring text by BPE
        assertArrayEquals(new int[] {50256}, gpt2.encode("<|endoftext|>", false, true));
        int[] mixed = gpt2.encode("a<|endoftext|>b", false, true);
        assertArrayEquals(new int[] {gpt2.encode("a", false, false)[0], 50256, gpt2.encode("b", false, false)[0]}, mixed);
        assertTrue(gpt2.encode("<|endoftext|>", false, false).length > 1);
    }

    @Test
    void userDefinedTokensAreAlwaysSplitAndPhi3StripsAfterThem() {
        int user = idOf(phi3, "<|user|>");
        int end = idOf(phi3, "<|end|>");
        int hi = idOf(phi3, "\u2581Hi");
        // phi-3 marks its special tokens rstrip: the newline after <|user|> disappears, the text after a
        // special token gets SentencePiece's space prefix
        assertArrayEquals(new int[] {user, hi, end}, phi3.encode("<|user|>\nHi<|end|>", false, true));
        assertTrue(phi3.isEog(end));
    }

    static int idOf(Tokenizer t, String text) {
        for (int i = 0; i < t.vocabSize(); i++) {
            if (t.tokenText(i).equals(text)) {
                return i;
            }
        }
        throw new AssertionError("no token " + text);
    }

    @Test
    void detokenizeAppliesLeadingSpaceAndSpecialRules() {
        int[] ids = llama2.encode("Once upon a time", true, false);
        assertEquals("<s> Once upon a time", llama2.decode(ids, false));
        // llama.cpp keeps the space after a removed BOS
        assertEquals(" Once upon a time", llama2.decode(ids, true));
        assertEquals("Once upon a time", llama2.decode(llama2.encode("Once upon a time", false, false), false));
        assertEquals("", new String(llama2.pieceBytes(1, false), StandardCharsets.UTF_8));
        assertEquals("<s>", new String(llama2.pieceBytes(1, true), StandardCharsets.UTF_8));
        // gpt-2 cleans up tokenization spaces like HF: " ." -> "."
        assertEquals("Hello, world. It's me!", gpt2.decode(gpt2.encode("Hello , world . It 's me !", false, false), false));
        assertEquals("hello world", bert.decode(bert.encode("Hello World", false, false), false).strip());
    }

    @Test
    void streamingNeverEmitsBrokenCharacters() throws IOException {
        String corpus = corpus();
        for (Tokenizer t : List.of(stories, llamaSpm, gpt2)) {
            int[] ids = t.encode(corpus, false, false);
            Utf8Stream stream = new Utf8Stream();
            StringBuilder sb = new StringBuilder();
            for (int id : ids) {
                String emitted = stream.push(t.pieceBytes(id, false));
                assertFalse(emitted.contains("\uFFFD"), "broken character emitted after token " + id);
                sb.append(emitted);
            }
            sb.append(stream.flush());
            String expected = t == gpt2 ? corpus : corpus.substring(0); // SPM: first piece carries the prefix space
            assertEquals(t == gpt2 ? expected : " " + expected, sb.toString());
        }
    }

    @Test
    void roundTripsMultilingualCorpus() throws IOException {
        for (String part : corpus().split("\n----\n")) {
            for (Tokenizer t : List.of(stories, llamaSpm, phi3)) {
                assertEquals(part, t.decode(t.encode(part, false, false), false), "SPM round trip");
                assertEquals(part, t.decode(t.encode(part, false, false), true), "SPM round trip, skip special");
            }
            // byte-level BPE is lossless piece by piece; decode() also applies HF's space clean-up, which
            // this corpus does not trigger (no space before , . ! ? and no " 's")
            assertEquals(part, concatPieces(gpt2, gpt2.encode(part, false, false)), "BPE round trip (pieces)");
            assertEquals(part, gpt2.decode(gpt2.encode(part, false, false), false), "BPE round trip");
        }
        String code = "x = f(a, b)\n";
        assertEquals(code, gpt2.decode(gpt2.encode(code, false, false), false));
    }

    @Test
    void encodesConcurrentlyWithTheSameResult() throws Exception {
        String text = corpus();
        for (Tokenizer t : List.of(stories, gpt2, bert)) {
            int[] expected = t.encode(text, true, false);
            java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(4);
            try {
                List<java.util.concurrent.Future<int[]>> results = new java.util.ArrayList<>();
                for (int i = 0; i < 8; i++) {
                    results.add(pool.submit(() -> t.encode(text, true, false)));
                }
                for (java.util.concurrent.Future<int[]> r : results) {
                    assertArrayEquals(expected, r.get());
                }
            } finally {
                pool.shutdownNow();
            }
        }
    }

    static String corpus() throws IOException {
        try (InputStream in = TokenizerBehaviourTest.class.getResourceAsStream("/tokenizer/roundtrip-corpus.txt")) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Test
    void modelWithoutVocabularyFailsClearly() {
        Tokenizer none = TokenizerReferenceTest.load(SharedData.model("archs/qwen3-dense-f16.gguf"));
        assertEquals("no_vocab", none.model());
        assertEquals(128, none.vocabSize());
        TrestleException e = assertThrows(TrestleException.class, () -> none.encode("hi", true, false));
        assertTrue(e.getMessage().contains("this model has no vocabulary; use --prompt-ids"), e.getMessage());
    }

    @Test
    void unknownPreTokenizerIsAnErrorThatNamesIt() {
        TrestleException e = assertThrows(TrestleException.class,
                () -> Tokenizer.fromGguf(withKey(gpt2Metadata, "tokenizer.ggml.pre", GgufValue.ofString("frobnicate-9"))));
        assertTrue(e.getMessage().contains("'frobnicate-9'"), e.getMessage());
        TrestleException m = assertThrows(TrestleException.class,
                () -> Tokenizer.fromGguf(withKey(gpt2Metadata, "tokenizer.ggml.model", GgufValue.ofString("sentencepiece2"))));
        assertTrue(m.getMessage().contains("'sentencepiece2'"), m.getMessage());
    }

    @Test
    void everyPreTokenizerLoadsAndRoundTripsOnTheGpt2Vocabulary() throws IOException {
        String text = corpus();
        for (PreTokenizer p : PreTokenizer.values()) {
            if (p.has(PreTokenizer.Flags.RAW_BYTES)) {
                continue; // SentencePiece-style BPE needs a U+2581 vocabulary
            }
            GgufMetadata m = withKey(gpt2Metadata, "tokenizer.ggml.pre", GgufValue.ofString(p.names.get(0)));
            if (p.has(PreTokenizer.Flags.NO_BOS_ID) || p.has(PreTokenizer.Flags.ADD_SEP)) {
                m = withKey(m, "tokenizer.ggml.seperator_token_id", GgufValue.ofUint32(50256));
            }
            Tokenizer t = Tokenizer.fromGguf(m);
            int[] ids = t.encode(text, false, false);
            assertEquals(text, concatPieces(t, ids), p + " loses text");
        }
    }

    static GgufMetadata withKey(GgufMetadata m, String key, GgufValue value) {
        Map<String, GgufValue> map = new LinkedHashMap<>(m.asMap());
        map.put(key, value);
        return new GgufMetadata(map);
    }
}
