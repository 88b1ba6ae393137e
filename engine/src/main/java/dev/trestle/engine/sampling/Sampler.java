package dev.trestle.engine.sampling;

import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Picks the next token from a vocabulary's logits with llama.cpp's default sampler chain:
 * logit filter (grammar hook), logit bias, repetition penalties over a window, top-k, typical-p,
 * top-p, min-p, temperature, then a seeded draw ({@code dist}); a temperature of 0 or less decodes
 * greedily (argmax, the lowest id wins a tie).
 *
 * <p>One instance per sequence: it holds the penalty window and the random generator, so the same
 * seed and the same logits give the same tokens. Working buffers are allocated once (vocabulary
 * sized); {@link #sample} allocates nothing. Not thread-safe.
 *
 * <p>Ties between equal logits are broken by the lower token id wherever llama.cpp leaves the order
 * unspecified; with that caveat, the stages and the draw reproduce llama.cpp's arithmetic (float
 * softmax, double accumulation in {@code dist}, MT19937 with libstdc++'s uniform double).
 */
public final class Sampler {
    private final SamplerConfig config;
    private final int vocabSize;

    private final float[] work;        // (vocab) logits after filter, bias and penalties, by token id
    private final int[] ids;           // (vocab) candidate token ids
    private final float[] logits;      // (vocab) candidate logits
    private final float[] probs;       // (vocab) candidate probabilities, valid after a softmax
    private final int[] tmpIds;        // (vocab) reorder scratch
    private final float[] tmpLogits;   // (vocab) reorder scratch
    private final float[] tmpProbs;    // (vocab) reorder scratch
    private final long[] keys;         // (vocab) sort keys: order bits << 32 | index
    private int size;
    private boolean sorted;

    private final int[] biasIds;
    private final float[] biasValues;

    private final int window;          // penalty window length, 0 = penalties off
    private final int[] ring;          // (window) last accepted tokens
    private int ringStart;
    private int ringSize;
    private final int[] counts;        // (vocab) occurrences of each token in the window
    private final int[] stamp;         // (vocab) marks tokens already penalized this step
    private int stampGen;

    private final Mt19937 rng;
    private long seedUsed;
    private LogitFilter filter;

    /**
     * A sampler for a vocabulary of {@code vocabSize} tokens.
     *
     * @param contextSize what {@code repeat_last_n = -1} stands for (the context length)
     */
    public Sampler(SamplerConfig config, int vocabSize, int contextSize) {
        if (vocabSize <= 0) {
            throw new IllegalArgumentException("vocabulary size must be positive, got " + vocabSize);
        }
        this.config = config;
        this.vocabSize = vocabSize;
        this.work = new float[vocabSize];
        this.ids = new int[vocabSize];
        this.logits = new float[vocabSize];
        this.probs = new float[vocabSize];
        this.tmpIds = new int[vocabSize];
        this.tmpLogits = new float[vocabSize];
        this.tmpProbs = new float[vocabSize];
        this.keys = new long[vocabSize];
        this.biasIds = new int[config.logitBias().size()];
        this.biasValues = new float[biasIds.length];
        int b = 0;
        for (Map.Entry<Integer, Float> e : config.logitBias().entrySet()) {
            int id = e.getKey();
            if (id < 0 || id >= vocabSize) {
                throw new IllegalArgumentException("logit_bias names token " + id + ", outside the vocabulary (0-"
                        + (vocabSize - 1) + ")");
            }
            biasIds[b] = id;
            biasValues[b++] = e.getValue();
        }
        int n = config.repeatLastN() == -1 ? contextSize : config.repeatLastN();
        if (n < 0) {
            throw new IllegalArgumentException("repeat_last_n = -1 needs a context size, got " + contextSize);
        }
        boolean neutral = config.repeatPenalty() == 1.0f && config.frequencyPenalty() == 0.0f
                && config.presencePenalty() == 0.0f;
        this.window = neutral ? 0 : n;
        this.ring = new int[window];
        this.counts = new int[window == 0 ? 0 : vocabSize];
        this.stamp = new int[window == 0 ? 0 : vocabSize];
        this.seedUsed = resolveSeed(config.seed());
        this.rng = new Mt19937(seedUsed);
    }

    /** A sampler whose config does not use {@code repeat_last_n = -1}. */
    public Sampler(SamplerConfig config, int vocabSize) {
        this(config, vocabSize, -1);
    }

    private static long resolveSeed(long seed) {
        if (seed == SamplerConfig.DEFAULT_SEED || seed == 0xFFFFFFFFL) {
            return new SecureRandom().nextInt() & 0xFFFFFFFFL;
        }
        return seed & 0xFFFFFFFFL;
    }

    /** The config this sampler runs. */
    public SamplerConfig config() {
        return config;
    }

    /** The 32-bit seed in use (the random one when the config asked for -1). */
    public long seed() {
        return seedUsed;
    }

    /** Installs (or with null removes) the filter applied to the logits before the chain. */
    public void setFilter(LogitFilter filter) {
        this.filter = filter;
    }

    /**
     * Chooses the next token. Does not change the penalty window: call {@link #accept} with the
     * token actually used. Advances the random generator (except when greedy).
     *
     * @param input the model's logits for the last position, one per token id (not modified)
     * @throws IllegalStateException when the filter and biases leave no token possible
     */
    public int sample(float[] input) {
        if (input.length != vocabSize) {
            throw new IllegalArgumentException("expected " + vocabSize + " logits, got " + input.length);
        }
        System.arraycopy(input, 0, work, 0, vocabSize);
        if (filter != null) {
            filter.apply(work);
        }
        for (int i = 0; i < biasIds.length; i++) {
            work[biasIds[i]] += biasValues[i];
        }
        applyPenalties();

        if (config.isGreedy()) {
            return greedy();
        }
        selectTopK(config.topK());
        if (Float.isInfinite(maxLogit()) && maxLogit() < 0) {
            throw noTokenLeft();
        }
        typical(config.typicalP(), config.minKeep());
        topP(config.topP(), config.minKeep());
        minP(config.minP(), config.minKeep());
        temperature(config.temperature());
        return dist();
    }

    /** Records {@code token} in the penalty window (llama-server also feeds the prompt through here). */
    public void accept(int token) {
        if (window == 0) {
            return;
        }
        if (token < 0 || token >= vocabSize) {
            throw new IllegalArgumentException("token " + token + " outside the vocabulary");
        }
        counts[token]++;
        if (ringSize >= window) {
            counts[ring[ringStart]]--;
            ringStart = (ringStart + 1) % window;
            ringSize--;
        }
        ring[(ringStart + ringSize) % window] = token;
        ringSize++;
    }

    /** Forgets the penalty window and re-seeds the generator (a new random seed if the config has -1). */
    public void reset() {
        while (ringSize > 0) {
            counts[ring[ringStart]]--;
            ringStart = (ringStart + 1) % window;
            ringSize--;
        }
        ringStart = 0;
        seedUsed = resolveSeed(config.seed());
        rng.seed(seedUsed);
    }

    /**
     * The {@code n} most probable tokens of the final distribution of the last {@link #sample} call
     * (after every stage and the temperature), most probable first. Greedy decoding leaves one
     * candidate with probability 1.
     */
    public List<TokenProb> topLogprobs(int n) {
        int m = Math.min(n, size);
        for (int i = 0; i < size; i++) {
            keys[i] = orderKey(probs[i], i);
        }
        Arrays.sort(keys, 0, size);
        List<TokenProb> out = new ArrayList<>(m);
        for (int i = 0; i < m; i++) {
            int c = (int) keys[i];
            out.add(new TokenProb(ids[c], probs[c], (float) Math.log(probs[c])));
        }
        return out;
    }

    /**
     * The {@code n} most probable tokens of softmax({@code rawLogits}), the distribution llama-server
     * reports for {@code logprobs} by default (before any sampling stage). Allocates its result.
     */
    public static List<TokenProb> topOfSoftmax(float[] rawLogits, int n) {
        return topOfSoftmax(rawLogits, n, logSumExp(rawLogits));
    }

    /** As {@link #topOfSoftmax(float[], int)} with the normalizer {@code logSumExp(rawLogits)} already known. */
    public static List<TokenProb> topOfSoftmax(float[] rawLogits, int n, double logSumExp) {
        int m = Math.min(n, rawLogits.length);
        int[] best = new int[m];
        int have = 0;
        for (int id = 0; id < rawLogits.length; id++) {
            // insertion into a small sorted list: higher logit first, lower id first on ties
            if (have == m && rawLogits[id] <= rawLogits[best[m - 1]]) {
                continue;
            }
            int pos = have < m ? have++ : m - 1;
            while (pos > 0 && rawLogits[best[pos - 1]] < rawLogits[id]) {
                best[pos] = best[pos - 1];
                pos--;
            }
            best[pos] = id;
        }
        List<TokenProb> out = new ArrayList<>(have);
        for (int i = 0; i < have; i++) {
            out.add(softmaxProb(rawLogits, best[i], logSumExp));
        }
        return out;
    }

    /** log(sum(exp(logits))), computed stably: the normalizer of softmax(logits) in log space. */
    public static double logSumExp(float[] rawLogits) {
        float max = Float.NEGATIVE_INFINITY;
        for (float v : rawLogits) {
            max = Math.max(max, v);
        }
        double sum = 0;
        for (float v : rawLogits) {
            sum += Math.exp(v - max);
        }
        return max + Math.log(sum);
    }

    /** Token {@code id}'s probability under softmax(rawLogits), given that distribution's {@link #logSumExp}. */
    public static TokenProb softmaxProb(float[] rawLogits, int id, double logSumExp) {
        double lp = rawLogits[id] - logSumExp;
        return new TokenProb(id, (float) Math.exp(lp), (float) lp);
    }

    // ---- stages -------------------------------------------------------------------------------

    private void applyPenalties() {
        if (window == 0 || ringSize == 0) {
            return;
        }
        stampGen++;
        float repeat = config.repeatPenalty();
        float freq = config.frequencyPenalty();
        float presence = config.presencePenalty();
        for (int k = 0; k < ringSize; k++) {
            int t = ring[(ringStart + k) % window];
            if (stamp[t] == stampGen) {
                continue;
            }
            stamp[t] = stampGen;
            int count = counts[t];
            float l = work[t];
            // dividing a negative logit would raise it, so negatives are multiplied instead
            l = l <= 0 ? l * repeat : l / repeat;
            work[t] = l - ((float) count * freq + (count > 0 ? 1f : 0f) * presence);
        }
    }

    private int greedy() {
        int best = 0;
        for (int i = 1; i < vocabSize; i++) {
            if (work[i] > work[best]) {
                best = i;
            }
        }
        if (work[best] == Float.NEGATIVE_INFINITY) {
            throw noTokenLeft();
        }
        ids[0] = best;
        logits[0] = work[best];
        probs[0] = 1f;
        size = 1;
        sorted = true;
        return best;
    }

    /** Fills the candidates: the k best (sorted) when k > 0, else the whole vocabulary in id order. */
    private void selectTopK(int k) {
        if (k <= 0) {
            for (int i = 0; i < vocabSize; i++) {
                ids[i] = i;
                logits[i] = work[i];
            }
            size = vocabSize;
            sorted = false;
            return;
        }
        k = Math.min(k, vocabSize);
        selectBest(work, vocabSize, k);
        for (int i = 0; i < k; i++) {
            int id = (int) keys[i];
            ids[i] = id;
            logits[i] = work[id];
        }
        size = k;
        sorted = true;
    }

    /**
     * Leaves in keys[0..k), ascending, the order keys of the k best of {@code vals[0..n)} (highest
     * value, then lowest index), using a bounded max-heap whose root is the worst kept entry.
     */
    private void selectBest(float[] vals, int n, int k) {
        int heap = 0;
        float worst = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            float v = vals[i];
            if (heap == k) {
                // a later index never wins a tie, so anything not above the worst kept value is out
                if (v <= worst) {
                    continue;
                }
                siftDown(orderKey(v, i), heap);
                worst = valueOf(keys[0]);
            } else {
                long key = orderKey(v, i);
                int c = heap++;
                while (c > 0 && keys[(c - 1) >> 1] < key) {
                    keys[c] = keys[(c - 1) >> 1];
                    c = (c - 1) >> 1;
                }
                keys[c] = key;
                if (heap == k) {
                    worst = valueOf(keys[0]);
                }
            }
        }
        Arrays.sort(keys, 0, k);
    }

    private void siftDown(long key, int heap) {
        int c = 0;
        while (true) {
            int l = 2 * c + 1;
            if (l >= heap) {
                break;
            }
            int r = l + 1;
            int big = r < heap && keys[r] > keys[l] ? r : l;
            if (keys[big] <= key) {
                break;
            }
            keys[c] = keys[big];
            c = big;
        }
        keys[c] = key;
    }

    private void typical(float p, int minKeep) {
        if (p >= 1.0f) {
            return;
        }
        softmax(true);
        float entropy = 0.0f;
        for (int i = 0; i < size; i++) {
            if (probs[i] > 0) { // llama.cpp would turn 0 * log(0) into NaN here
                entropy += -probs[i] * (float) Math.log(probs[i]);
            }
        }
        for (int i = 0; i < size; i++) {
            float shifted = Math.abs(-(float) Math.log(probs[i]) - entropy);
            keys[i] = orderKey(-shifted, i); // ascending shifted score, then current position
        }
        Arrays.sort(keys, 0, size);
        float cumSum = 0.0f;
        int last = size;
        for (int i = 0; i < size; i++) {
            cumSum += probs[(int) keys[i]];
            if (cumSum > p && (minKeep == 0 || i >= minKeep - 1)) {
                last = i + 1;
                break;
            }
        }
        permute(last);
        sorted = false;
    }

    private void topP(float p, int minKeep) {
        if (p >= 1.0f) {
            return;
        }
        softmax(false);
        if (!sorted && size > 1024 && prefixReaches(p, minKeep)) {
            return;
        }
        if (!sorted) {
            sortByLogit();
        }
        float cumSum = 0.0f;
        int last = size;
        for (int i = 0; i < size; i++) {
            cumSum += probs[i];
            if (cumSum >= p && i + 1 >= minKeep) {
                last = i + 1;
                break;
            }
        }
        size = last;
    }

    /**
     * Top-p over a large unsorted set (top-k off): most mass usually sits in a short head, so try the
     * 256 best first, as llama.cpp does, and sort everything only when they do not reach p.
     */
    private boolean prefixReaches(float p, int minKeep) {
        int k = 256;
        selectBest(logits, size, k);
        float cumSum = 0.0f;
        for (int i = 0; i < k; i++) {
            cumSum += probs[(int) keys[i]];
            if (cumSum >= p && i + 1 >= minKeep) {
                permute(i + 1);
                sorted = true;
                return true;
            }
        }
        return false;
    }

    private void minP(float p, int minKeep) {
        if (p <= 0.0f || size == 0) {
            return;
        }
        if (!sorted) {
            float minLogit = maxLogit() + (float) Math.log(p); // p_i >= p * p_max
            int kept = 0;
            for (int i = 0; i < size; i++) {
                if (logits[i] >= minLogit) {
                    kept++;
                }
            }
            if (kept > 0 && kept >= minKeep) {
                int w = 0;
                for (int i = 0; i < size; i++) {
                    if (logits[i] >= minLogit) {
                        ids[w] = ids[i];
                        logits[w] = logits[i];
                        probs[w] = probs[i];
                        w++;
                    }
                }
                size = w;
                return;
            }
            sortByLogit();
        }
        float minLogit = logits[0] + (float) Math.log(p);
        int i = 1;
        for (; i < size; i++) {
            if (logits[i] < minLogit && i >= minKeep) {
                break;
            }
        }
        size = i;
    }

    private void temperature(float temp) {
        for (int i = 0; i < size; i++) {
            logits[i] /= temp;
        }
    }

    private int dist() {
        if (size == 1) {
            probs[0] = 1.0f;
            return ids[0];
        }
        float max = maxLogit();
        double sumCum = 0.0;
        for (int i = 0; i < size; i++) {
            float pr = (float) Math.exp(logits[i] - max);
            probs[i] = pr;
            sumCum += pr;
        }
        double target = sumCum * rng.nextDouble();
        double run = 0.0;
        int selected = -1;
        for (int i = 0; i < size; i++) {
            if (selected < 0) {
                run += probs[i];
                if (run >= target) {
                    selected = i;
                }
            }
            probs[i] = (float) (probs[i] / sumCum);
        }
        return ids[selected < 0 ? size - 1 : selected];
    }

    // ---- helpers ------------------------------------------------------------------------------

    /** Softmax over the candidates in float, like llama_sampler_softmax_impl. */
    private void softmax(boolean sort) {
        if (sort && !sorted) {
            sortByLogit();
        }
        float max = maxLogit();
        float cumSum = 0.0f;
        for (int i = 0; i < size; i++) {
            float pr = (float) Math.exp(logits[i] - max);
            probs[i] = pr;
            cumSum += pr;
        }
        for (int i = 0; i < size; i++) {
            probs[i] /= cumSum;
        }
    }

    private float maxLogit() {
        if (sorted) {
            return logits[0];
        }
        float max = logits[0];
        for (int i = 1; i < size; i++) {
            max = Math.max(max, logits[i]);
        }
        return max;
    }

    /** Sorts candidates by logit, highest first; equal logits keep their current order. */
    private void sortByLogit() {
        for (int i = 0; i < size; i++) {
            keys[i] = orderKey(logits[i], i);
        }
        Arrays.sort(keys, 0, size);
        permute(size);
        sorted = true;
    }

    /** Reorders the candidates to the positions in the low halves of keys[0..n) and keeps n. */
    private void permute(int n) {
        for (int i = 0; i < n; i++) {
            int c = (int) keys[i];
            tmpIds[i] = ids[c];
            tmpLogits[i] = logits[c];
            tmpProbs[i] = probs[c];
        }
        System.arraycopy(tmpIds, 0, ids, 0, n);
        System.arraycopy(tmpLogits, 0, logits, 0, n);
        System.arraycopy(tmpProbs, 0, probs, 0, n);
        size = n;
    }

    /**
     * A long that sorts ascending as (value descending, tie ascending): the float's bits mapped to
     * an order-preserving int, inverted, in the high half; the tie-breaker in the low half.
     */
    private static long orderKey(float value, int tie) {
        int bits = Float.floatToIntBits(value);
        int ordered = bits < 0 ? bits ^ 0x7fffffff : bits; // ascending as signed int
        return ((long) ~ordered << 32) | (tie & 0xffffffffL);
    }

    /** The value an {@link #orderKey} was made from. */
    private static float valueOf(long key) {
        int ordered = ~(int) (key >> 32);
        return Float.intBitsToFloat(ordered < 0 ? ordered ^ 0x7fffffff : ordered);
    }

    private static IllegalStateException noTokenLeft() {
        return new IllegalStateException("no token can be sampled: the logit filter or logit_bias excluded every token");
    }
}
