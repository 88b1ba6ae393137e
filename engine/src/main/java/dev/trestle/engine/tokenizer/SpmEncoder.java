package dev.trestle.engine.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * SentencePiece BPE (llama.cpp's {@code llm_tokenizer_spm}): start from single characters and
 * repeatedly merge the adjacent pair whose concatenation is the highest-scoring token; characters
 * left unmerged and absent from the vocabulary become byte tokens.
 */
final class SpmEncoder {
    private final Vocabulary vocab;
    private final int[] byteTokens;
    private final LongSet innerPairs;

    // symbol chain of one call
    private int[] start = new int[64];
    private int[] len = new int[64];
    private int[] prev = new int[64];
    private int[] next = new int[64];
    private final PairHeap heap = new PairHeap();

    /** A single-use encoder (cheap: the tables are shared). */
    SpmEncoder(Vocabulary vocab, int[] byteTokens, LongSet innerPairs) {
        this.vocab = vocab;
        this.byteTokens = byteTokens;
        this.innerPairs = innerPairs;
    }

    /**
     * Every pair of adjacent code points inside some token text. Where two neighbouring characters
     * of the input form no such pair, no merge can ever cross between them, so the text is merged
     * in independent chunks: same result, small heaps.
     */
    static LongSet innerPairs(Vocabulary vocab) {
        LongSet pairs = new LongSet();
        for (String t : vocab.texts) {
            int prev = -1;
            for (int i = 0; i < t.length(); ) {
                int cp = t.codePointAt(i);
                i += Character.charCount(cp);
                if (prev >= 0) {
                    pairs.add(pairKey(prev, cp));
                }
                prev = cp;
            }
        }
        return pairs;
    }

    private static long pairKey(int a, int b) {
        return ((long) a << 32) | (b & 0xFFFFFFFFL);
    }

    /** Token for each byte: {@code <0xXX>}, else the byte itself as text (ASCII), else unknown. */
    static int[] byteTokens(Vocabulary vocab) {
        int[] tokens = new int[256];
        for (int b = 0; b < 256; b++) {
            int id = vocab.table.get(String.format("<0x%02X>", b));
            if (id < 0 && b < 0x80) {
                id = vocab.table.get(String.valueOf((char) b));
            }
            tokens[b] = id >= 0 ? id : vocab.unk;
        }
        return tokens;
    }

    /** Appends the tokens of {@code text} (spaces already escaped to U+2581). */
    void encode(String text, IntList out) {
        int length = text.length();
        int chunkStart = 0;
        int prevCp = -1;
        for (int i = 0; i < length; ) {
            int cp = text.codePointAt(i);
            if (prevCp >= 0 && !innerPairs.contains(pairKey(prevCp, cp))) {
                encodeChunk(text, chunkStart, i, out);
                chunkStart = i;
            }
            prevCp = cp;
            i += Character.charCount(cp);
        }
        if (chunkStart < length) {
            encodeChunk(text, chunkStart, length, out);
        }
    }

    /** llama.cpp's merge loop over {@code text[from, to)}. */
    private void encodeChunk(String text, int from, int to, IntList out) {
        int n = 0;
        ensure(to - from);
        for (int i = from; i < to; ) {
            int cl = Character.charCount(text.codePointAt(i));
            cl = Math.min(cl, to - i);
            start[n] = i;
            len[n] = cl;
            prev[n] = n - 1;
            i += cl;
            next[n] = i == to ? -1 : n + 1;
            n++;
        }
        if (n == 0) {
            return;
        }
        heap.clear();
        for (int i = 1; i < n; i++) {
            tryAddPair(text, i - 1, i);
        }
        while (!heap.isEmpty()) {
            long key = heap.topKey();
            int size = heap.topSize();
            heap.pop();
            int left = PairHeap.left(key);
            int right = next[left];
            // stale: one side was merged since this pair was queued
            if (right < 0 || len[left] == 0 || len[right] == 0 || len[left] + len[right] != size) {
                continue;
            }
            len[left] += len[right];
            len[right] = 0;
            next[left] = next[right];
            if (next[right] >= 0) {
                prev[next[right]] = left;
            }
            if (prev[left] >= 0) {
                tryAddPair(text, prev[left], left);
            }
            if (next[left] >= 0) {
                tryAddPair(text, left, next[left]);
            }
        }
        for (int i = 0; i != -1; i = next[i]) {
            int id = vocab.table.get(text, start[i], start[i] + len[i]);
            if (id >= 0) {
                out.add(id);
            } else {
                for (byte b : text.substring(start[i], start[i] + len[i]).getBytes(StandardCharsets.UTF_8)) {
                    int t = byteTokens[b & 0xFF];
                    if (t >= 0) { // no byte token and no <unk>: nothing can stand for this byte
                        out.add(t);
                    }
                }
            }
        }
    }

    private void tryAddPair(String text, int left, int right) {
        int from = start[left];
        int to = start[right] + len[right];
        int id = vocab.table.get(text, from, to);
        if (id < 0) {
            return;
        }
        heap.push(PairHeap.scoreKey(vocab.scores[id], left), to - from);
    }

    private void ensure(int n) {
        if (start.length < n) {
            int cap = Math.max(n, start.length * 2);
            start = Arrays.copyOf(start, cap);
            len = Arrays.copyOf(len, cap);
            prev = Arrays.copyOf(prev, cap);
            next = Arrays.copyOf(next, cap);
        }
    }
}
