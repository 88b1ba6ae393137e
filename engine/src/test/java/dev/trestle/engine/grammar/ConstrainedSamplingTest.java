package dev.trestle.engine.grammar;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.trestle.testdata.SharedData;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * A nonsense "model" (random logits) constrained by a schema grammar must still produce JSON that parses and
 * validates: tokens are sampled at temperature 1.0 from the masked distribution until end of generation.
 */
class ConstrainedSamplingTest {
    static final ObjectMapper JSON = new ObjectMapper();

    static final String PERSON = """
            {"type": "object",
             "properties": {
               "name": {"type": "string", "minLength": 1, "maxLength": 12},
               "age": {"type": "integer", "minimum": 0, "maximum": 130},
               "score": {"type": "number", "minimum": 0, "maximum": 1},
               "role": {"enum": ["admin", "user", "guest"]},
               "active": {"type": "boolean"},
               "born": {"type": "string", "format": "date"},
               "id": {"type": "string", "format": "uuid"},
               "tags": {"type": "array", "items": {"type": "string", "maxLength": 5}, "minItems": 1, "maxItems": 3},
               "code": {"type": "string", "pattern": "^[A-Z]{2}-\\\\d{3}(-[a-z\\"\\\\\\\\]{1,4})?$"},
               "pet": {"anyOf": [{"$ref": "#/$defs/pet"}, {"type": "null"}]}
             },
             "required": ["name", "age", "role", "tags", "code"],
             "$defs": {"pet": {"type": "object",
                               "properties": {"kind": {"const": "cat"}, "lives": {"type": "integer", "minimum": 1, "maximum": 9}},
                               "required": ["kind"]}}}""";

    static String sample(GrammarMask mask, VocabBytes vocab, long seed, int maxTokens) {
        Random rnd = new Random(seed);
        float[] logits = new float[vocab.bytes().length];
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int step = 0; step < maxTokens; step++) {
            for (int i = 0; i < logits.length; i++) {
                logits[i] = (float) rnd.nextGaussian() * 2f;
            }
            mask.apply(logits);
            int t = sampleSoftmax(logits, 1.0f, rnd);
            mask.accept(t);
            if (vocab.eog().length > 0 && t == vocab.eog()[0]) {
                return out.toString(StandardCharsets.UTF_8);
            }
            out.writeBytes(vocab.bytes()[t]);
        }
        throw new AssertionError("no end of generation within " + maxTokens + " tokens: "
                + out.toString(StandardCharsets.UTF_8));
    }

    static int sampleSoftmax(float[] logits, float temperature, Random rnd) {
        float max = Float.NEGATIVE_INFINITY;
        for (float l : logits) {
            max = Math.max(max, l);
        }
        assertTrue(max > Float.NEGATIVE_INFINITY, "every token masked");
        double sum = 0;
        for (float l : logits) {
            sum += l == Float.NEGATIVE_INFINITY ? 0 : Math.exp((l - max) / temperature);
        }
        double r = rnd.nextDouble() * sum;
        int last = -1;
        for (int i = 0; i < logits.length; i++) {
            if (logits[i] == Float.NEGATIVE_INFINITY) {
                continue;
            }
            last = i;
            r -= Math.exp((logits[i] - max) / temperature);
            if (r <= 0) {
                return i;
            }
        }
        return last;
    }

    private static void runSeeds(VocabBytes vocab, String schema, int seeds) throws Exception {
        Grammar g = JsonSchemaToGbnf.toGrammar(schema);
        VocabTrie trie = new VocabTrie(vocab.bytes(), vocab.eog());
        JsonNode s = JSON.readTree(schema);
        int withPet = 0;
        for (long seed = 0; seed < seeds; seed++) {
            String text = sample(new GrammarMask(g, trie), vocab, seed, 4000);
            JsonNode doc = JSON.readTree(text);
            assertEquals(List.of(), SchemaCheck.validate(s, doc), text);
            withPet += doc.has("pet") ? 1 : 0;
        }
        assertTrue(withPet > 0, "optional properties never sampled");
    }

    @Test
    void stories260kVocabFiftySeeds() throws Exception {
        runSeeds(VocabBytes.load(SharedData.model("stories260K.gguf")), PERSON, 50);
    }

    @Test
    void gpt2VocabEightSeeds() throws Exception {
        runSeeds(VocabBytes.load(SharedData.reference("tokenizer/ggml-vocab-gpt-2.gguf")), PERSON, 8);
    }
}
