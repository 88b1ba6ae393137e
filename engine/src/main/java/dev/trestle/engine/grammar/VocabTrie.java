package dev.trestle.engine.grammar;

import dev.trestle.engine.tokenizer.Tokenizer;
import java.util.Arrays;

/**
 * The vocabulary's token byte strings as a byte trie, built once per vocabulary and shared by every
 * {@link GrammarMask} over it (immutable, thread-safe). Tokens with no bytes (control tokens) and
 * end-of-generation tokens are kept out of the trie; the mask treats them separately.
 */
public final class VocabTrie {
    final int vocabSize;
    final boolean[] eog; // (vocab)
    final int[] eogIds;
    // nodes in depth-first order, node 0 the root
    final int[] firstChild; // (n_nodes) -1 when none
    final int[] nextSibling; // (n_nodes) -1 when none
    final byte[] label; // (n_nodes) the byte on the edge into the node
    final int[] tokBegin; // (n_nodes) tokens ending at the node: sortedTokens[tokBegin, tokEnd)
    final int[] tokEnd;
    final int[] sortedTokens;
    final int maxDepth;
    // what lies strictly below each node, for skipping subtrees the grammar state loops over
    final int[] descBegin; // (n_nodes) descendants' tokens are sortedTokens[descBegin, descEnd)
    final int[] descEnd;
    final long[] descAscii; // (2 * n_nodes) bytes 0..63 and 64..127 occurring below the node
    final boolean[] descNonAscii; // (n_nodes) some byte >= 0x80 occurs below the node
    final boolean[] descValidUtf8; // (n_nodes) every path below the node is valid UTF-8 read from the root
    final byte[][] tokenBytes; // (vocab) as given; not copied, must not be modified

    /**
     * Builds the trie.
     *
     * @param tokenBytes the bytes each token id contributes to the output (null or empty for none)
     * @param eogIds     end-of-generation token ids
     */
    public VocabTrie(byte[][] tokenBytes, int[] eogIds) {
        this.vocabSize = tokenBytes.length;
        this.tokenBytes = tokenBytes;
        this.eog = new boolean[vocabSize];
        for (int id : eogIds) {
            if (id >= 0 && id < vocabSize) {
                eog[id] = true;
            }
        }
        this.eogIds = Arrays.stream(eogIds).filter(id -> id >= 0 && id < vocabSize).distinct().toArray();
        int[] kept = new int[vocabSize];
        int n = 0;
        long totalBytes = 0;
        for (int i = 0; i < vocabSize; i++) {
            if (!eog[i] && tokenBytes[i] != null && tokenBytes[i].length > 0) {
                kept[n++] = i;
                totalBytes += tokenBytes[i].length;
            }
        }
        int[] ids = sortByBytes(Arrays.copyOf(kept, n), tokenBytes);
        int cap = (int) Math.min(totalBytes + 1, Integer.MAX_VALUE);
        int[] fc = new int[cap];
        int[] ns = new int[cap];
        byte[] lb = new byte[cap];
        int[] tb = new int[cap];
        int[] te = new int[cap];
        sortedTokens = new int[n];
        int maxLen = 0;
        for (int id : ids) {
            maxLen = Math.max(maxLen, tokenBytes[id].length);
        }
        int[] path = new int[maxLen + 1]; // node at each depth of the previous token
        int[] lastChild = new int[cap];
        int[] parentOf = new int[cap];
        Arrays.fill(fc, -1);
        Arrays.fill(ns, -1);
        Arrays.fill(lastChild, -1);
        int nodes = 1;
        byte[] prev = new byte[0];
        for (int k = 0; k < n; k++) {
            int id = ids[k];
            byte[] t = tokenBytes[id];
            sortedTokens[k] = id;
            int common = Arrays.mismatch(prev, t);
            if (common < 0) {
                common = t.length; // identical bytes
            }
            for (int d = common; d < t.length; d++) {
                int parent = path[d];
                int node = nodes++;
                lb[node] = t[d];
                parentOf[node] = parent;
                if (lastChild[parent] < 0) {
                    fc[parent] = node;
                } else {
                    ns[lastChild[parent]] = node;
                }
                lastChild[parent] = node;
                path[d + 1] = node;
            }
            int end = path[t.length];
            if (te[end] == tb[end] && (te[end] == 0)) {
                tb[end] = k;
            }
            te[end] = k + 1;
            prev = t;
        }
        firstChild = Arrays.copyOf(fc, nodes);
        nextSibling = Arrays.copyOf(ns, nodes);
        label = Arrays.copyOf(lb, nodes);
        tokBegin = Arrays.copyOf(tb, nodes);
        tokEnd = Arrays.copyOf(te, nodes);
        maxDepth = maxLen;
        descBegin = new int[nodes];
        descEnd = new int[nodes];
        descAscii = new long[2 * nodes];
        descNonAscii = new boolean[nodes];
        descValidUtf8 = new boolean[nodes];
        Arrays.fill(descBegin, Integer.MAX_VALUE);
        Arrays.fill(descValidUtf8, true);
        // UTF-8 decoder state at each node, read from the root (parents precede children in preorder)
        int[] utf8 = new int[nodes];
        for (int node = 1; node < nodes; node++) {
            int p = parentOf[node];
            utf8[node] = utf8[p] == Utf8Decoder.INVALID ? Utf8Decoder.INVALID
                    : Utf8Decoder.step(Utf8Decoder.remaining(utf8[p]), Utf8Decoder.value(utf8[p]), label[node] & 0xFF);
        }
        // node ids are in depth-first preorder, so children come after parents: fold bottom-up
        for (int node = nodes - 1; node > 0; node--) {
            int p = parentOf[node];
            int b = label[node] & 0xFF;
            descAscii[2 * p] |= descAscii[2 * node];
            descAscii[2 * p + 1] |= descAscii[2 * node + 1];
            descNonAscii[p] |= descNonAscii[node] || b >= 0x80;
            descValidUtf8[p] &= descValidUtf8[node] && utf8[node] != Utf8Decoder.INVALID;
            if (b < 64) {
                descAscii[2 * p] |= 1L << b;
            } else if (b < 128) {
                descAscii[2 * p + 1] |= 1L << (b - 64);
            }
            int begin = Math.min(descBegin[node], tokEnd[node] > tokBegin[node] ? tokBegin[node] : Integer.MAX_VALUE);
            int end = Math.max(descEnd[node], tokEnd[node]);
            descBegin[p] = Math.min(descBegin[p], begin);
            descEnd[p] = Math.max(descEnd[p], end);
        }
    }

    // Token ids in unsigned lexicographic order of their bytes: a primitive sort on (first 5 bytes, id), then
    // a comparator sort only within runs that share those 5 bytes.
    private static int[] sortByBytes(int[] ids, byte[][] bytes) {
        if (ids.length >= 1 << 24) {
            Integer[] boxed = Arrays.stream(ids).boxed().toArray(Integer[]::new);
            Arrays.sort(boxed, (a, b) -> Arrays.compareUnsigned(bytes[a], bytes[b]));
            return Arrays.stream(boxed).mapToInt(Integer::intValue).toArray();
        }
        long[] keys = new long[ids.length];
        for (int i = 0; i < ids.length; i++) {
            byte[] b = bytes[ids[i]];
            long prefix = 0;
            for (int k = 0; k < 5; k++) {
                prefix = prefix << 8 | (k < b.length ? b[k] & 0xFF : 0);
            }
            keys[i] = prefix << 24 | ids[i];
        }
        Arrays.sort(keys);
        int[] out = new int[ids.length];
        for (int i = 0; i < keys.length; i++) {
            out[i] = (int) (keys[i] & 0xFFFFFF);
        }
        for (int start = 0; start < keys.length; ) {
            int end = start + 1;
            while (end < keys.length && keys[end] >>> 24 == keys[start] >>> 24) {
                end++;
            }
            if (end - start > 1) {
                Integer[] run = new Integer[end - start];
                for (int i = start; i < end; i++) {
                    run[i - start] = out[i];
                }
                Arrays.sort(run, (a, b) -> Arrays.compareUnsigned(bytes[a], bytes[b]));
                for (int i = start; i < end; i++) {
                    out[i] = run[i - start];
                }
            }
            start = end;
        }
        return out;
    }

    /**
     * The trie of a tokenizer's vocabulary: each token's output bytes ({@code pieceBytes(id, false)}), with
     * control tokens given no bytes so a grammar never selects them, and the end-of-generation tokens apart.
     */
    public static VocabTrie of(Tokenizer tokenizer) {
        int n = tokenizer.vocabSize();
        byte[][] bytes = new byte[n][];
        int[] eog = new int[n];
        int eogCount = 0;
        for (int id = 0; id < n; id++) {
            if (tokenizer.isEog(id)) {
                eog[eogCount++] = id;
            }
            bytes[id] = tokenizer.isControl(id) ? new byte[0] : tokenizer.pieceBytes(id, false);
        }
        return new VocabTrie(bytes, Arrays.copyOf(eog, eogCount));
    }

    public int vocabSize() {
        return vocabSize;
    }

    /** Number of trie nodes (root included). */
    public int nodeCount() {
        return firstChild.length;
    }

    /** The bytes of a token (empty for none). */
    public byte[] bytes(int token) {
        byte[] b = tokenBytes[token];
        return b == null ? new byte[0] : b;
    }

    /** True for end-of-generation tokens. */
    public boolean isEog(int token) {
        return token >= 0 && token < vocabSize && eog[token];
    }
}
