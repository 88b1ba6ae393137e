package dev.trestle.engine.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.trestle.engine.gguf.GgufFile;
import dev.trestle.testdata.SharedData;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Every llama.cpp reference tokenization in shared/reference/tokenizer, reproduced exactly. */
class TokenizerReferenceTest {

    static Tokenizer load(Path gguf) {
        try (GgufFile f = GgufFile.open(gguf)) {
            return Tokenizer.fromGguf(f.metadata());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"ggml-vocab-llama-spm.gguf", "ggml-vocab-phi-3.gguf", "ggml-vocab-gpt-2.gguf",
        "ggml-vocab-bert-bge.gguf", "stories260K.gguf"})
    void reproducesEveryReferenceCase(String vocab) throws Exception {
        Path dir = SharedData.reference("tokenizer");
        Path gguf = vocab.startsWith("stories") ? SharedData.model(vocab) : dir.resolve(vocab);
        Tokenizer tok = load(gguf);
        ReferenceCases cases = ReferenceCases.read(dir.resolve(vocab + ".inp"), dir.resolve(vocab + ".out"));
        assertEquals(46, cases.inputs().size(), "46 test strings in " + vocab + ".inp");
        assertEquals(cases.inputs().size(), cases.outputs().size(), "one .out line per test");
        List<String> failures = new ArrayList<>();
        for (int i = 0; i < cases.inputs().size(); i++) {
            String in = cases.inputs().get(i);
            int[] expected = cases.outputs().get(i);
            int[] actual = tok.encode(in, false, false);
            if (!Arrays.equals(expected, actual)) {
                failures.add("#" + i + " '" + in.replace("\n", "\\n") + "'\n  expected " + Arrays.toString(expected)
                        + "\n  actual   " + Arrays.toString(actual));
            }
        }
        assertTrue(failures.isEmpty(), vocab + ": " + failures.size() + " mismatches\n" + String.join("\n", failures));
    }
}
