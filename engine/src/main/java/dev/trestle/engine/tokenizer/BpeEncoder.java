package dev.trestle.engine.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Byte-level BPE (llama.cpp's {@code llm_tokenizer_bpe}): the pre-tokenizer splits the text into
 * words, each word's UTF-8 bytes become GPT-2 byte characters (or stay raw UTF-8 for
 * SentencePiece-style vocabularies), and a priority queue applies the lowest-ranked merge first
 * until none applies.
 */
final class BpeEncoder {
    private final Vocabulary vocab;
    private final Shared shared;

    // per-word state of one call
    private char[] word = new char[64];
    private int[] start = new int[64];
    private int[] len = new int[64];
    private int[] id = new int[64];
    private int[] prev = new int[64];
    private int[] next = new int[64];
    private final PairHeap heap = new PairHeap();

    /** What every call shares: merge table, compiled pre-tokenizer, byte token tables. */
    static final class Shared {
        final MergeTable merges;
        final RegexSplitter splitter;
        /** Token of each byte's single-character form (byte-level), or -1. */
        final int[] byteCharTokens = new int[256];
        /** {@code <0xXX>} tokens for raw-UTF-8 vocabularies, or -1. */
        final int[] hexByteTokens = new int[256];

        Shared(Vocabulary vocab) {
            merges = new MergeTable(vocab.merges, vocab.table);
            splitter = new RegexSplitter(vocab.pre.regexes);
            for (int b = 0; b < 256; b++) {
                byteCharTokens[b] = vocab.table.get(String.valueOf(ByteLevel.encode(b)));
                hexByteTokens[b] = vocab.table.get(String.format("<0x%02X>", b));
            }
        }
    }

    /** A single-use encoder (cheap: the tables are shared). */
    BpeEncoder(Vocabulary vocab, Shared shared) {
        this.vocab = vocab;
        this.shared = shared;
    }

    /** Appends the tokens of one text fragment. */
    void encode(String text, IntList out) {
        int[] cps = text.codePoints().toArray();
        IntList words = shared.splitter.split(cps);
        int pos = 0;
        for (int w = 0; w < words.size(); w++) {
            int n = words.get(w);
            int chars = vocab.byteEncode ? loadByteLevel(cps, pos, n) : loadRaw(cps, pos, n);
            encodeWord(chars, out);
            pos += n;
        }
    }

    /** The word's UTF-8 bytes as byte characters into {@code word}; returns its length. */
    private int loadByteLevel(int[] cps, int from, int n) {
        int k = 0;
        ensureWord(n * 4);
        for (int i = from; i < from + n; i++) {
            int cp = cps[i];
            if (cp < 0x80) {
                word[k++] = ByteLevel.encode(cp);
            } else if (cp < 0x800) {
                word[k++] = ByteLevel.encode(0xC0 | (cp >> 6));
                word[k++] = ByteLevel.encode(0x80 | (cp & 0x3F));
            } else if (cp < 0x10000) {
                word[k++] = ByteLevel.encode(0xE0 | (cp >> 12));
                word[k++] = ByteLevel.encode(0x80 | ((cp >> 6) & 0x3F));
                word[k++] = ByteLevel.encode(0x80 | (cp & 0x3F));
            } else {
                word[k++] = ByteLevel.encode(0xF0 | (cp >> 18));
                word[k++] = ByteLevel.encode(0x80 | ((cp >> 12) & 0x3F));
                word[k++] = ByteLevel.encode(0x80 | ((cp >> 6) & 0x3F));
                word[k++] = ByteLevel.encode(0x80 | (cp & 0x3F));
            }
        }
        return k;
    }

    private int loadRaw(int[] cps, int from, int n) {
        ensureWord(n * 2);
        int k = 0;
        for (int i = from; i < from + n; i++) {
            k += Character.toChars(cps[i], word, k);
        }
        return k;
    }

    private void encodeWord(int chars, IntList out) {
        if (chars == 0) {
            return;
        }
        ensureSymbols(chars);
        int n = 0;
        int whole = -1;
        if (vocab.ignoreMerges) {
            whole = vocab.table.get(word, 0, chars);
        } else if (vocab.pre == PreTokenizer.GEMMA4 && allNewlines(chars)) {
            whole = vocab.table.get(word, 0, chars);
        }
        if (whole >= 0) {
            out.add(whole);
            return;
        }
        for (int i = 0; i < chars; ) {
            int cl = Character.isHighSurrogate(word[i]) && i + 1 < chars ? 2 : 1;
            start[n] = i;
            len[n] = cl;
            id[n] = cl == 1 && vocab.byteEncode ? byteCharToken(word[i]) : vocab.table.get(word, i, i + cl);
            prev[n] = n - 1;
            i += cl;
            next[n] = i == chars ? -1 : n + 1;
            n++;
        }
        heap.clear();
        for (int i = 1; i < n; i++) {
            tryAddPair(i - 1, i);
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
            id[left] = mergedId(left, right);
            len[left] += len[right];
            len[right] = 0;
            next[left] = next[right];
            if (next[right] >= 0) {
                prev[next[right]] = left;
            }
            if (prev[left] >= 0) {
                tryAddPair(prev[left], left);
            }
            if (next[left] >= 0) {
                tryAddPair(left, next[left]);
            }
        }
        for (int i = 0; i != -1; i = next[i]) {
            if (id[i] >= 0) {
                out.add(id[i]);
            } else {
                addByteFallback(start[i], len[i], out);
            }
        }
    }

    private int byteCharToken(char c) {
        int b = ByteLevel.decode(c);
        return b >= 0 ? shared.byteCharTokens[b] : vocab.table.get(String.valueOf(c));
    }

    private void tryAddPair(int left, int right) {
        int rank;
        if (id[left] >= 0 && id[right] >= 0) {
            long found = shared.merges.find(id[left], id[right]);
            if (found < 0) {
                return;
            }
            rank = (int) (found >>> 32);
        } else {
            if (!shared.merges.hasTextMerges()) {
                return;
            }
            rank = shared.merges.findText(new String(word, start[left], len[left]), new String(word, start[right], len[right]));
            if (rank < 0) {
                return;
            }
        }
        heap.push(PairHeap.rankKey(rank, left), len[left] + len[right]);
    }

    private int mergedId(int left, int right) {
        if (id[left] >= 0 && id[right] >= 0) {
            long found = shared.merges.find(id[left], id[right]);
            if (found >= 0) {
                return (int) found;
            }
        }
        return vocab.table.get(word, start[left], start[left] + len[left] + len[right]);
    }

    /** A piece that is no token: llama.cpp emits whatever single bytes are tokens and drops the rest. */
    private void addByteFallback(int from, int n, IntList out) {
        if (vocab.byteEncode) {
            for (byte b : new String(word, from, n).getBytes(StandardCharsets.UTF_8)) {
                if (b >= 0) {
                    int t = vocab.table.get(String.valueOf((char) b));
                    if (t >= 0) {
                        out.add(t);
                    }
                }
            }
        } else {
            for (byte b : new String(word, from, n).getBytes(StandardCharsets.UTF_8)) {
                int t = shared.hexByteTokens[b & 0xFF];
                if (t >= 0) {
                    out.add(t);
                }
            }
        }
    }

    private boolean allNewlines(int chars) {
        for (int i = 0; i < chars; i++) {
            if (word[i] != '\n') {
                return false;
            }
        }
        return true;
    }

    private void ensureWord(int n) {
        if (word.length < n) {
            word = new char[Math.max(n, word.length * 2)];
        }
    }

    private void ensureSymbols(int n) {
        if (start.length < n) {
            int cap = Math.max(n, start.length * 2);
            start = Arrays.copyOf(start, cap);
            len = Arrays.copyOf(len, cap);
            id = Arrays.copyOf(id, cap);
            prev = Arrays.copyOf(prev, cap);
            next = Arrays.copyOf(next, cap);
        }
    }
}
