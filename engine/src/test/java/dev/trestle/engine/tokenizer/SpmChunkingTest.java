package dev.trestle.engine.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.trestle.engine.gguf.GgufFile;
import dev.trestle.testdata.SharedData;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** Merging SentencePiece text in independent chunks gives exactly the whole-text merge result. */
class SpmChunkingTest {

    @Test
    void chunkedMergeEqualsWholeTextMerge() throws IOException {
        String text = (" " + TokenizerBehaviourTest.corpus()).replace(' ', '\u2581');
        for (Path p : new Path[] {SharedData.reference("tokenizer/ggml-vocab-llama-spm.gguf"),
            SharedData.model("stories260K.gguf")}) {
            Vocabulary vocab;
            try (GgufFile f = GgufFile.open(p)) {
                vocab = Vocabulary.load(f.metadata());
            }
            int[] bytes = SpmEncoder.byteTokens(vocab);
            // a pair set holding every neighbour pair of the input never cuts: llama.cpp's single pass
            LongSet everyPair = new LongSet();
            int[] cps = text.codePoints().toArray();
            for (int i = 1; i < cps.length; i++) {
                everyPair.add(((long) cps[i - 1] << 32) | (cps[i] & 0xFFFFFFFFL));
            }
            IntList whole = new IntList();
            new SpmEncoder(vocab, bytes, everyPair).encode(text, whole);
            IntList chunked = new IntList();
            new SpmEncoder(vocab, bytes, SpmEncoder.innerPairs(vocab)).encode(text, chunked);
            assertTrue(whole.size() > 100);
            assertArrayEquals(whole.toArray(), chunked.toArray(), p.getFileName().toString());
        }
    }
}
