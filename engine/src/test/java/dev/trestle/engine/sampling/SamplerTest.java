package dev.trestle.engine.sampling;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class SamplerTest {
    private static final float EPS = 1e-6f;

    /** Temperature 1 with every filter off: the draw sees the plain softmax. */
    private static SamplerConfig plain() {
        return SamplerConfig.defaults().withTopK(0).withTopP(1f).withMinP(0f).withTemperature(1f).withSeed(1234);
    }

    private static float[] logsOf(double... p) {
        float[] l = new float[p.length];
        for (int i = 0; i < p.length; i++) {
            l[i] = (float) Math.log(p[i]);
        }
        return l;
    }

    private static void assertDistribution(List<TokenProb> got, int[] tokens, double[] probs) {
        assertEquals(tokens.length, got.size(), "candidates: " + got);
        for (int i = 0; i < tokens.length; i++) {
            assertEquals(tokens[i], got.get(i).token(), "rank " + i + " of " + got);
            assertEquals(probs[i], got.get(i).prob(), 1e-5, "p of token " + tokens[i]);
            assertEquals(Math.log(probs[i]), got.get(i).logprob(), 1e-4, "logprob of token " + tokens[i]);
        }
    }

    @Test
    void defaultsAreLlamaServers() {
        SamplerConfig d = SamplerConfig.defaults();
        assertEquals(0.8f, d.temperature());
        assertEquals(40, d.topK());
        assertEquals(0.95f, d.topP());
        assertEquals(0.05f, d.minP());
        assertEquals(1.0f, d.typicalP());
        assertEquals(1.0f, d.repeatPenalty());
        assertEquals(64, d.repeatLastN());
        assertEquals(0f, d.frequencyPenalty());
        assertEquals(0f, d.presencePenalty());
        assertEquals(-1, d.seed());
        assertTrue(SamplerConfig.greedy().isGreedy());
    }

    @Test
    void greedyTakesTheFirstMaximum() {
        Sampler s = new Sampler(SamplerConfig.greedy(), 4);
        assertEquals(1, s.sample(new float[] {1, 3, 3, 2}));
        assertEquals(0, s.sample(new float[] {5, 5, 5, 5}));
        assertEquals(List.of(new TokenProb(0, 1f, 0f)), s.topLogprobs(3));
        Sampler neg = new Sampler(SamplerConfig.defaults().withTemperature(-1f), 3);
        assertEquals(2, neg.sample(new float[] {-3, -2, -1}));
    }

    @Test
    void topKKeepsTheKHighest() {
        Sampler s = new Sampler(plain().withTopK(2), 4);
        int t = s.sample(new float[] {1, 4, 3, 2});
        assertTrue(t == 1 || t == 2, "sampled " + t);
        double e = Math.E;
        assertDistribution(s.topLogprobs(10), new int[] {1, 2}, new double[] {e / (e + 1), 1 / (e + 1)});
    }

    @Test
    void topKBreaksTiesByLowerId() {
        Sampler s = new Sampler(plain().withTopK(2), 5);
        s.sample(new float[] {0, 7, 7, 7, 1});
        assertDistribution(s.topLogprobs(10), new int[] {1, 2}, new double[] {0.5, 0.5});
    }

    @Test
    void topPKeepsTheSmallestPrefixReachingP() {
        float[] logits = logsOf(0.5, 0.3, 0.15, 0.05);
        Sampler s = new Sampler(plain().withTopP(0.75f), 4);
        s.sample(logits);
        assertDistribution(s.topLogprobs(10), new int[] {0, 1}, new double[] {0.625, 0.375});
        Sampler s2 = new Sampler(plain().withTopP(0.85f), 4);
        s2.sample(logits);
        assertDistribution(s2.topLogprobs(10), new int[] {0, 1, 2}, new double[] {0.5 / 0.95, 0.3 / 0.95, 0.15 / 0.95});
        Sampler keep = new Sampler(plain().withTopP(0.1f).withMinKeep(2), 4);
        keep.sample(logits);
        assertEquals(2, keep.topLogprobs(10).size());
    }

    @Test
    void minPDropsTokensBelowAFractionOfTheBest() {
        float[] logits = logsOf(0.05, 0.5, 0.15, 0.3);
        for (int topK : new int[] {0, 4}) { // unsorted and sorted paths
            Sampler s = new Sampler(plain().withTopK(topK).withMinP(0.2f), 4);
            s.sample(logits);
            assertDistribution(s.topLogprobs(10), new int[] {1, 3, 2},
                    new double[] {0.5 / 0.95, 0.3 / 0.95, 0.15 / 0.95});
        }
    }

    @Test
    void typicalPKeepsTokensNearTheEntropy() {
        // H = 1.1421 nats; |-ln p - H| = 0.449, 0.062, 0.755, 1.854: token 1 is the most typical, then 0
        float[] logits = logsOf(0.5, 0.3, 0.15, 0.05);
        Sampler s = new Sampler(plain().withTypicalP(0.5f), 4);
        s.sample(logits);
        assertDistribution(s.topLogprobs(10), new int[] {0, 1}, new double[] {0.625, 0.375});
        Sampler narrow = new Sampler(plain().withTypicalP(0.2f), 4);
        assertEquals(1, narrow.sample(logits));
        assertDistribution(narrow.topLogprobs(10), new int[] {1}, new double[] {1.0});
    }

    @Test
    void temperatureScalesLogits() {
        Sampler s = new Sampler(plain().withTemperature(0.5f), 2);
        s.sample(new float[] {0f, (float) Math.log(2)});
        assertDistribution(s.topLogprobs(10), new int[] {1, 0}, new double[] {0.8, 0.2});
        Sampler hot = new Sampler(plain().withTemperature(2f), 2);
        hot.sample(new float[] {0f, (float) Math.log(4)});
        assertDistribution(hot.topLogprobs(10), new int[] {1, 0}, new double[] {2.0 / 3, 1.0 / 3});
    }

    private static double[] softmax(double... l) {
        double max = Double.NEGATIVE_INFINITY;
        for (double v : l) {
            max = Math.max(max, v);
        }
        double sum = 0;
        double[] p = new double[l.length];
        for (int i = 0; i < l.length; i++) {
            p[i] = Math.exp(l[i] - max);
            sum += p[i];
        }
        for (int i = 0; i < l.length; i++) {
            p[i] /= sum;
        }
        return p;
    }

    @Test
    void repeatPenaltyCountsOnlyTheWindow() {
        float[] logits = {2.0f, -1.0f, 1.2f, 1.5f};
        Sampler s = new Sampler(plain().withPenalties(3, 2.0f, 0f, 0f), 4);
        for (int t : new int[] {0, 1, 1, 3}) {
            s.accept(t);  // window of 3 keeps 1, 1, 3: token 0 has left it
        }
        s.sample(logits);
        // token 1: negative, multiplied -> -2; token 3: positive, divided -> 0.75; token 0 untouched
        double[] p = softmax(2.0, -2.0, 1.2, 0.75);
        assertDistribution(s.topLogprobs(4), new int[] {0, 2, 3, 1}, new double[] {p[0], p[2], p[3], p[1]});

        Sampler wide = new Sampler(SamplerConfig.greedy().withPenalties(4, 2.0f, 0f, 0f), 4);
        for (int t : new int[] {0, 1, 1, 3}) {
            wide.accept(t);
        }
        assertEquals(2, wide.sample(logits), "token 0 (2.0 -> 1.0) now loses to token 2 (1.2)");
    }

    @Test
    void frequencyAndPresencePenaltiesSubtractPerCount() {
        float[] logits = {2.0f, -1.0f, 1.2f, 1.5f};
        Sampler s = new Sampler(plain().withPenalties(64, 1.0f, 0.5f, 0.25f), 4);
        for (int t : new int[] {1, 1, 3}) {
            s.accept(t);
        }
        s.sample(logits);
        // token 1: -1 - (2 * 0.5 + 0.25) = -2.25; token 3: 1.5 - (0.5 + 0.25) = 0.75
        double[] p = softmax(2.0, -2.25, 1.2, 0.75);
        assertDistribution(s.topLogprobs(4), new int[] {0, 2, 3, 1}, new double[] {p[0], p[2], p[3], p[1]});
    }

    @Test
    void resetClearsTheWindowAndWholeContextWindowWorks() {
        Sampler s = new Sampler(SamplerConfig.greedy().withPenalties(-1, 100f, 0f, 0f), 3, 8);
        s.accept(0);
        assertEquals(1, s.sample(new float[] {3, 2, 1}));
        s.reset();
        assertEquals(0, s.sample(new float[] {3, 2, 1}));
        assertThrows(IllegalArgumentException.class,
                () -> new Sampler(SamplerConfig.greedy().withPenalties(-1, 1.1f, 0f, 0f), 3));
    }

    @Test
    void logitBiasIsAddedBeforeTheChain() {
        Sampler s = new Sampler(SamplerConfig.greedy()
                .withLogitBias(Map.of(2, 5f, 0, Float.NEGATIVE_INFINITY)), 3);
        assertEquals(2, s.sample(new float[] {10, 1, 4}));
        Sampler ban = new Sampler(plain().withLogitBias(Map.of(0, Float.NEGATIVE_INFINITY)), 2);
        for (int i = 0; i < 20; i++) {
            assertEquals(1, ban.sample(new float[] {10, 0}));
        }
        assertThrows(IllegalArgumentException.class,
                () -> new Sampler(SamplerConfig.greedy().withLogitBias(Map.of(7, 1f)), 3));
    }

    @Test
    void filterHookMasksBeforeSampling() {
        for (SamplerConfig c : new SamplerConfig[] {SamplerConfig.greedy(), SamplerConfig.defaults().withSeed(9)}) {
            Sampler s = new Sampler(c, 5);
            float[] logits = {5, 4, 3, 2, 1};
            s.setFilter(l -> {
                for (int i = 0; i < l.length; i++) {
                    if (i != 3) {
                        l[i] = Float.NEGATIVE_INFINITY;
                    }
                }
            });
            assertEquals(3, s.sample(logits));
            assertEquals(5f, logits[0], "the caller's logits are not touched");
            s.setFilter(l -> java.util.Arrays.fill(l, Float.NEGATIVE_INFINITY));
            assertThrows(IllegalStateException.class, () -> s.sample(logits));
        }
    }

    private static int[] run(long seed, int steps, int vocab) {
        Sampler s = new Sampler(SamplerConfig.defaults().withSeed(seed).withPenalties(16, 1.1f, 0f, 0f), vocab);
        Random r = new Random(99);
        float[] logits = new float[vocab];
        int[] out = new int[steps];
        for (int i = 0; i < steps; i++) {
            for (int j = 0; j < vocab; j++) {
                logits[j] = (float) (r.nextGaussian() * 2);
            }
            out[i] = s.sample(logits);
            s.accept(out[i]);
        }
        return out;
    }

    @Test
    void sameSeedSameTokens() {
        int[] a = run(42, 300, 1000);
        assertArrayEquals(a, run(42, 300, 1000));
        assertNotEquals(java.util.Arrays.toString(a), java.util.Arrays.toString(run(43, 300, 1000)));
        Sampler s = new Sampler(SamplerConfig.defaults().withSeed(0xFFFFFFFFL), 4);
        assertTrue(s.seed() >= 0 && s.seed() <= 0xFFFFFFFFL);
    }

    @Test
    void drawFollowsTheDistribution() {
        // p = 0.25 / 0.75; 4000 draws: the count of token 1 is binomial, sd ~ 27
        Sampler s = new Sampler(plain().withSeed(7), 2);
        float[] logits = {0f, (float) Math.log(3)};
        int ones = 0;
        for (int i = 0; i < 4000; i++) {
            ones += s.sample(logits);
        }
        assertTrue(Math.abs(ones - 3000) < 150, "token 1 drawn " + ones + " times of 4000");
    }

    @Test
    void largeVocabularyTopKStaysInTheTopK() {
        int vocab = 151_936;
        float[] logits = new float[vocab];
        Random r = new Random(5);
        for (int i = 0; i < vocab; i++) {
            logits[i] = (float) r.nextGaussian();
        }
        float[] sorted = logits.clone();
        java.util.Arrays.sort(sorted);
        float fortieth = sorted[vocab - 40];
        Sampler s = new Sampler(SamplerConfig.defaults().withSeed(3).withMinP(0f).withTopP(1f), vocab);
        for (int i = 0; i < 50; i++) {
            int t = s.sample(logits);
            assertTrue(logits[t] >= fortieth, "token " + t + " is not in the top 40");
        }
        List<TokenProb> top = s.topLogprobs(40);
        assertEquals(40, top.size());
        for (int i = 1; i < top.size(); i++) {
            assertTrue(top.get(i - 1).prob() >= top.get(i).prob());
        }
        double sum = top.stream().mapToDouble(TokenProb::prob).sum();
        assertEquals(1.0, sum, 1e-4);
    }

    @Test
    void topOfSoftmaxReportsTheRawDistribution() {
        List<TokenProb> top = Sampler.topOfSoftmax(new float[] {0f, (float) Math.log(3), 0f}, 2);
        assertEquals(2, top.size());
        assertEquals(1, top.get(0).token());
        assertEquals(0.6, top.get(0).prob(), EPS);
        assertEquals(0, top.get(1).token());
        assertEquals(0.2, top.get(1).prob(), EPS);
        assertEquals(Math.log(0.2), top.get(1).logprob(), 1e-5);
    }
}
