package dev.trestle.engine.grammar;

import dev.trestle.testdata.SharedData;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Random;

/**
 * Per-step cost of grammar masking (not a test: run by hand, see the grammar package notes).
 * Vocabularies: GPT-2's 50,257 tokens, and a synthetic 150k one (GPT-2's plus 100k random concatenations
 * of two GPT-2 tokens, so prefixes are shared the way large BPE vocabularies share them).
 */
public final class GrammarMaskBench {
    private GrammarMaskBench() {
    }

    public static void main(String[] args) {
        VocabBytes gpt2 = VocabBytes.load(SharedData.reference("tokenizer/ggml-vocab-gpt-2.gguf"));
        byte[][] big = Arrays.copyOf(gpt2.bytes(), 150_000);
        Random rnd = new Random(42);
        for (int i = gpt2.bytes().length; i < big.length; i++) {
            byte[] a = gpt2.bytes()[rnd.nextInt(50_000)];
            byte[] b = gpt2.bytes()[rnd.nextInt(50_000)];
            byte[] c = Arrays.copyOf(a, a.length + b.length);
            System.arraycopy(b, 0, c, a.length, b.length);
            big[i] = c;
        }
        Grammar json = Grammars.load("json");
        for (byte[][] vocab : new byte[][][] {gpt2.bytes(), big}) {
            long t0 = System.nanoTime();
            VocabTrie trie = new VocabTrie(vocab, gpt2.eog());
            System.out.printf("vocab %d tokens: trie %d nodes, built in %.1f ms%n", vocab.length, trie.nodeCount(),
                    (System.nanoTime() - t0) / 1e6);
            String[][] points = {
                {"start of object", ""},
                {"after a key", "{\"name\""},
                {"start of a value", "{\"name\": "},
                {"inside a string", "{\"name\": \"Jo"},
                {"inside a number", "{\"n\": 12"},
            };
            for (String[] p : points) {
                GrammarMask mask = new GrammarMask(json, trie);
                if (!mask.matcher().acceptBytes(p[1].getBytes(StandardCharsets.UTF_8))) {
                    throw new IllegalStateException("bad prefix " + p[1]);
                }
                int allowed = 0;
                for (int i = 0; i < 300; i++) { // warm-up: JIT and the automaton's transition caches
                    allowed = mask.computeUncached();
                }
                int reps = 300;
                long best = Long.MAX_VALUE;
                long total = 0;
                for (int i = 0; i < reps; i++) {
                    long s = System.nanoTime();
                    mask.computeUncached();
                    long d = System.nanoTime() - s;
                    best = Math.min(best, d);
                    total += d;
                }
                float[] logits = new float[vocab.length];
                long applyBest = Long.MAX_VALUE;
                for (int i = 0; i < reps; i++) {
                    long s = System.nanoTime();
                    mask.apply(logits); // state unchanged: the cached set, applied to the logits
                    applyBest = Math.min(applyBest, System.nanoTime() - s);
                }
                System.out.printf("  %-17s allowed %6d  walk best %.3f ms, mean %.3f ms; cached apply best %.3f ms%n",
                        p[0], allowed, best / 1e6, total / 1e6 / reps, applyBest / 1e6);
            }
        }
    }
}
