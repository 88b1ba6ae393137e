package dev.trestle.engine.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.trestle.common.TrestleException;
import dev.trestle.engine.gguf.GgufFile;
import dev.trestle.engine.gguf.GgufWriter;
import dev.trestle.engine.runtime.Batch;
import dev.trestle.engine.runtime.Context;
import dev.trestle.engine.runtime.EngineOptions;
import dev.trestle.engine.runtime.Model;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Families without a llama.cpp reference in /work/shared (qwen2, qwen2moe, gemma2, olmoe): random-weight files
 * with llama.cpp's tensor names. Checks shapes, determinism, that a prompt decoded in one batch gives the same
 * logits as token-by-token decoding (KV cache, rope positions, masks), and that the context changes the output.
 */
class SyntheticFamilyTest {
    @TempDir
    Path dir;

    private static final int[] PROMPT = {3, 17, 42, 9, 33, 5, 60, 21};

    @ParameterizedTest
    @ValueSource(strings = {"qwen2", "qwen2moe", "gemma2", "olmoe"})
    void runsConsistently(String arch) {
        Path file = SyntheticModels.write(arch, dir.resolve(arch + ".gguf"), 7);
        EngineOptions opts = EngineOptions.defaults().withContext(64).withThreads(3);
        try (Model m = Model.load(GgufFile.open(file), opts)) {
            assertEquals(arch, m.arch().ggufName());
            assertEquals(SyntheticModels.VOCAB, m.config().nVocab());
            float[] batched;
            try (Context c = m.newContext(opts)) {
                c.decode(Batch.ofPrompt(PROMPT, 0, 0));
                batched = c.logits(PROMPT.length - 1);
            }
            float[] again;
            try (Context c = m.newContext(opts)) {
                c.decode(Batch.ofPrompt(PROMPT, 0, 0));
                again = c.logits(PROMPT.length - 1);
            }
            assertArrayEquals(batched, again, "same input, same logits");
            float[] stepwise = null;
            try (Context c = m.newContext(opts.withBatch(1, 1))) {
                for (int i = 0; i < PROMPT.length; i++) {
                    c.decode(new Batch().add(PROMPT[i], i, 0, true));
                }
                stepwise = c.logits(0);
            }
            float maxAbs = 0f;
            for (int i = 0; i < batched.length; i++) {
                assertTrue(Float.isFinite(batched[i]), "finite logits");
                assertEquals(batched[i], stepwise[i], 1e-3f, "batched vs stepwise logit " + i);
                maxAbs = Math.max(maxAbs, Math.abs(batched[i]));
            }
            if (arch.equals("gemma2")) {
                assertTrue(maxAbs <= 30f, "final soft-capping bounds logits by 30");
            }
            // the context matters: the last token alone gives different logits
            try (Context c = m.newContext(opts)) {
                c.decode(Batch.ofPrompt(new int[] {PROMPT[PROMPT.length - 1]}, 0, 0));
                float[] alone = c.logits(0);
                assertNotEquals(0.0, diff(alone, batched), 1e-3);
            }
        }
    }

    @Test
    void twoSequencesInOneBatchMatchSeparateRuns() {
        Path file = SyntheticModels.write("qwen2moe", dir.resolve("two.gguf"), 11);
        EngineOptions opts = EngineOptions.defaults().withContext(64).withThreads(2).withSeqMax(2);
        try (Model m = Model.load(GgufFile.open(file), opts); Context c = m.newContext(opts)) {
            int[] a = {1, 2, 3, 4};
            int[] b = {9, 8, 7};
            Batch batch = new Batch();
            for (int i = 0; i < a.length; i++) {
                batch.add(a[i], i, 0, i == a.length - 1);
            }
            for (int i = 0; i < b.length; i++) {
                batch.add(b[i], i, 1, i == b.length - 1);
            }
            c.decode(batch);
            float[] la = c.logits(a.length - 1);
            float[] lb = c.logits(a.length + b.length - 1);
            c.seqClear(0);
            c.seqClear(1);
            c.decode(Batch.ofPrompt(b, 0, 1));
            assertArrayEquals(lb, c.logits(b.length - 1), 1e-4f);
            c.seqClear(1);
            c.decode(Batch.ofPrompt(a, 0, 0));
            assertArrayEquals(la, c.logits(a.length - 1), 1e-4f);
            // truncating and re-decoding the tail gives the same logits (prompt-cache reuse)
            c.seqRemove(0, 2);
            c.decode(Batch.ofPrompt(new int[] {3, 4}, 2, 0));
            assertArrayEquals(la, c.logits(1), 1e-4f);
        }
    }

    @Test
    void embeddingsArePooledAndNormalized() {
        Path file = SyntheticModels.write("qwen2", dir.resolve("emb.gguf"), 5);
        EngineOptions opts = EngineOptions.defaults().withContext(32).withThreads(2).withSeqMax(2);
        try (Model m = Model.load(GgufFile.open(file), opts); Context c = m.newContext(opts)) {
            Batch b = new Batch();
            int[] a = {4, 8, 15};
            for (int i = 0; i < a.length; i++) {
                b.add(a[i], i, 0, false);
            }
            b.add(16, 0, 1, false);
            c.decode(b);
            float[] e0 = c.embedding(0);
            float[] e1 = c.embedding(1);
            assertEquals(SyntheticModels.EMBD, e0.length);
            assertEquals(1.0, norm(e0), 1e-5);
            assertEquals(1.0, norm(e1), 1e-5);
            assertNotEquals(0.0, diff(e0, e1), 1e-3);
            assertThrows(IllegalArgumentException.class, () -> c.logits(0), "no logits were asked");
        }
    }

    private static double norm(float[] v) {
        double s = 0;
        for (float x : v) {
            s += x * x;
        }
        return Math.sqrt(s);
    }

    @Test
    void traceNamesIntermediatesLikeLlamaCpp() {
        Path file = SyntheticModels.write("qwen2", dir.resolve("trace.gguf"), 13);
        EngineOptions opts = EngineOptions.defaults().withContext(16).withThreads(1);
        try (Model m = Model.load(GgufFile.open(file), opts); Context c = m.newContext(opts)) {
            java.util.List<String> names = new java.util.ArrayList<>();
            float[][] lastOut = new float[1][];
            c.setTrace((name, layer, data, rows, cols) -> {
                names.add(name + "-" + layer);
                if (name.equals("result_norm")) {
                    lastOut[0] = java.util.Arrays.copyOf(data, rows * cols);
                }
            });
            c.decode(Batch.ofPrompt(new int[] {1, 2, 3}, 0, 0));
            assertTrue(names.containsAll(java.util.List.of("inp_embd--1", "attn_norm-0", "Qcur-0", "kqv_out-1",
                    "ffn_out-1", "l_out-1", "result_norm--1")), names.toString());
            assertEquals(3 * SyntheticModels.EMBD, lastOut[0].length);
        }
    }

    @Test
    void unsupportedArchitectureNamesItAndTheSupportedOnes() {
        Path file = dir.resolve("foo.gguf");
        new GgufWriter().putString("general.architecture", "mamba9").write(file);
        TrestleException e = assertThrows(TrestleException.class,
                () -> Model.load(GgufFile.open(file), EngineOptions.defaults()));
        assertTrue(e.getMessage().contains("mamba9"), e.getMessage());
        assertTrue(e.fix().contains("qwen3moe") && e.fix().contains("gemma3"), e.fix());
    }

    @Test
    void weightTypeWithoutCpuKernelFailsAtLoadNamingTheTensor() {
        Path file = dir.resolve("iq2.gguf");
        GgufWriter w = new GgufWriter();
        w.putString("general.architecture", "llama");
        w.putUint32("llama.embedding_length", 256);
        w.putUint32("llama.block_count", 1);
        w.putUint32("llama.attention.head_count", 2);
        w.putUint32("llama.vocab_size", 4);
        w.putUint32("llama.feed_forward_length", 256);
        byte[] iq2 = new byte[4 * 66];
        w.tensor("token_embd.weight", dev.trestle.backends.type.GgmlType.IQ2_XXS, new long[] {256, 4},
                java.lang.foreign.MemorySegment.ofArray(iq2));
        w.write(file);
        TrestleException e = assertThrows(TrestleException.class,
                () -> Model.load(GgufFile.open(file), EngineOptions.defaults()));
        assertTrue(e.getMessage().contains("token_embd.weight") && e.getMessage().contains("iq2_xxs"), e.getMessage());
        assertTrue(e.fix() != null, "a fix hint is given");
    }

    @Test
    void fullContextAndBadTokensFailClearly() {
        Path file = SyntheticModels.write("qwen2", dir.resolve("q.gguf"), 3);
        EngineOptions opts = EngineOptions.defaults().withContext(4).withThreads(1);
        try (Model m = Model.load(GgufFile.open(file), opts); Context c = m.newContext(opts)) {
            TrestleException full = assertThrows(TrestleException.class,
                    () -> c.decode(Batch.ofPrompt(new int[] {1, 2, 3, 4, 5}, 0, 0)));
            assertTrue(full.getMessage().contains("context is full"), full.getMessage());
            TrestleException bad = assertThrows(TrestleException.class,
                    () -> c.decode(Batch.ofPrompt(new int[] {SyntheticModels.VOCAB}, 0, 0)));
            assertTrue(bad.getMessage().contains("out of range"), bad.getMessage());
        }
        try (Model m = Model.load(GgufFile.open(file), opts)) {
            Context c0 = m.newContext(opts.withContext(0));
            assertEquals(256, c0.nCtx(), "-c 0 means the model's training context, as in llama.cpp");
            c0.close();
        }
    }

    private static double diff(float[] a, float[] b) {
        double d = 0;
        for (int i = 0; i < a.length; i++) {
            d = Math.max(d, Math.abs(a[i] - b[i]));
        }
        return d;
    }
}
