package dev.trestle.engine.tokenizer;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.trestle.testdata.SharedData;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * Prints how long tokenizing 1 MB of mixed text takes with each algorithm. It reports the figure
 * only: speed belongs to benchmarks, not to assertions.
 */
class TokenizerThroughputTest {

    @Test
    void printsTimeToTokenizeOneMegabyte() throws IOException {
        StringBuilder sb = new StringBuilder();
        String corpus = TokenizerBehaviourTest.corpus();
        while (sb.length() < 1_000_000) {
            sb.append(corpus).append('\n');
        }
        String text = sb.toString();
        Path dir = SharedData.reference("tokenizer");
        for (String vocab : new String[] {"ggml-vocab-gpt-2.gguf", "ggml-vocab-llama-spm.gguf", "ggml-vocab-bert-bge.gguf"}) {
            Tokenizer t = TokenizerReferenceTest.load(dir.resolve(vocab));
            int[] ids = t.encode(text, false, false); // warm-up
            long best = Long.MAX_VALUE;
            for (int run = 0; run < 2; run++) {
                long start = System.nanoTime();
                ids = t.encode(text, false, false);
                best = Math.min(best, System.nanoTime() - start);
            }
            System.out.printf("tokenizer throughput: %-26s %,d chars -> %,d tokens in %.0f ms%n",
                    vocab, text.length(), ids.length, best / 1e6);
            assertTrue(ids.length > 0);
        }
    }
}
