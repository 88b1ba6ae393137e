package dev.trestle.engine.tokenizer;

import dev.trestle.common.TrestleException;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * SentencePiece unigram (T5, llama.cpp's {@code llm_tokenizer_ugm}): the text is normalized with
 * the model's precompiled character map (a XOR-compressed double array of prefix replacements),
 * spaces become U+2581, and a Viterbi pass picks the segmentation with the highest total token
 * score; characters no token covers cost the unknown score, and runs of unknowns collapse into one.
 */
final class UnigramEncoder {
    private static final float UNKNOWN_PENALTY = 10.0f;

    private final Vocabulary vocab;
    private final Trie tokens = new Trie();
    private final ByteTrie userDefined = new ByteTrie();
    private final float unknownScore;
    private final int[] xcda;
    private final byte[] replacements;

    UnigramEncoder(Vocabulary vocab) {
        this.vocab = vocab;
        float min = Float.MAX_VALUE;
        for (int id = 0; id < vocab.size(); id++) {
            if (vocab.has(id, TokenAttr.NORMAL)) {
                min = Math.min(min, vocab.scores[id]);
            }
            if (vocab.has(id, TokenAttr.NORMAL | TokenAttr.USER_DEFINED | TokenAttr.UNUSED)) {
                tokens.insert(vocab.texts[id], id);
            }
            if (vocab.has(id, TokenAttr.USER_DEFINED)) {
                userDefined.insert(vocab.texts[id].getBytes(StandardCharsets.UTF_8));
            }
        }
        unknownScore = min - UNKNOWN_PENALTY;
        byte[] map = vocab.charsmap;
        if (map.length > 0) {
            if (map.length < 4) {
                throw corrupt();
            }
            long blob = (map[0] & 0xFFL) | (map[1] & 0xFFL) << 8 | (map[2] & 0xFFL) << 16 | (map[3] & 0xFFL) << 24;
            if (blob + 4 >= map.length) {
                throw corrupt();
            }
            xcda = new int[(int) (blob / 4)];
            for (int i = 0; i < xcda.length; i++) {
                int o = 4 + 4 * i;
                xcda[i] = (map[o] & 0xFF) | (map[o + 1] & 0xFF) << 8 | (map[o + 2] & 0xFF) << 16 | (map[o + 3] & 0xFF) << 24;
            }
            replacements = Arrays.copyOfRange(map, 4 + (int) blob, map.length);
        } else {
            xcda = new int[0];
            replacements = new byte[0];
        }
    }

    private static TrestleException corrupt() {
        return new TrestleException("the tokenizer's precompiled_charsmap is malformed", "the model file is corrupt; reconvert it");
    }

    void encode(String text, IntList out) {
        String s = normalize(text);
        int n = s.length();
        if (n == 0) {
            return;
        }
        int[] bestToken = new int[n + 1];
        int[] bestFrom = new int[n + 1];
        double[] bestScore = new double[n + 1];
        Arrays.fill(bestScore, -Double.MAX_VALUE);
        bestToken[0] = vocab.unk;
        bestScore[0] = 0;
        for (int pos = 0; pos < n; ) {
            int charLen = Character.charCount(s.codePointAt(pos));
            boolean singleFound = false;
            double base = bestScore[pos];
            int node = 0;
            for (int end = pos; end < n; end++) {
                node = tokens.child(node, s.charAt(end));
                if (node < 0) {
                    break;
                }
                int id = tokens.value(node);
                if (id >= 0) {
                    if (end + 1 - pos == charLen) {
                        singleFound = true;
                    }
                    // user-defined tokens score 0 so they win over the (negative) log probabilities
                    double score = base + (vocab.has(id, TokenAttr.USER_DEFINED) ? 0.0 : (double) vocab.scores[id]);
                    if (score > bestScore[end + 1]) {
                        bestToken[end + 1] = id;
                        bestFrom[end + 1] = pos;
                        bestScore[end + 1] = score;
                    }
                }
            }
            if (!singleFound) {
                int end = pos + charLen;
                double score = base + unknownScore;
                if (score > bestScore[end]) {
                    bestToken[end] = vocab.unk;
                    bestFrom[end] = pos;
                    bestScore[end] = score;
                }
            }
            pos += charLen;
        }
        int before = out.size();
        boolean prevUnknown = false;
        for (int at = n; ; at = bestFrom[at]) {
            boolean unknown = bestToken[at] == vocab.unk;
            if (!(prevUnknown && unknown)) {
                out.add(bestToken[at]);
            }
            if (bestFrom[at] == 0) {
                break;
            }
            prevUnknown = unknown;
        }
        reverse(out, before);
    }

    private static void reverse(IntList out, int from) {
        int[] tail = new int[out.size() - from];
        for (int i = 0; i < tail.length; i++) {
            tail[i] = out.get(out.size() - 1 - i);
        }
        out.truncate(from);
        out.addAll(tail);
    }

    /** The model's normalization: character map, space escaping, optional space prefix/merging. */
    String normalize(String text) {
        byte[] in = text.getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream out = new ByteArrayOutputStream(in.length * 3);
        byte[] space = vocab.escapeWhitespaces ? "\u2581".getBytes(StandardCharsets.UTF_8) : new byte[] {' '};
        boolean prepend = !vocab.treatWhitespaceAsSuffix && vocab.addSpacePrefix;
        boolean append = vocab.treatWhitespaceAsSuffix && vocab.addSpacePrefix;
        boolean merge = vocab.removeExtraWhitespaces;
        boolean spacePrepended = false;
        boolean inWord = false;
        int[] result = new int[3]; // replacement source (-1 = input, -2 = U+FFFD, else offset), length, consumed
        for (int off = 0; off < in.length; ) {
            normalizePrefix(in, off, result);
            byte[] src = result[0] == -1 ? in : result[0] == -2 ? REPLACEMENT : replacements;
            int from = result[0] == -1 ? off : result[0] == -2 ? 0 : result[0];
            for (int i = 0; i < result[1]; i++) {
                byte c = src[from + i];
                if (c != ' ') {
                    if (!inWord) {
                        inWord = true;
                        if ((prepend && !spacePrepended) || merge) {
                            out.writeBytes(space);
                            spacePrepended = true;
                        }
                    }
                    out.write(c);
                } else {
                    inWord = false;
                    if (!merge) {
                        out.writeBytes(space);
                    }
                }
            }
            off += result[2];
        }
        if (append) {
            out.writeBytes(space);
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    private static final byte[] REPLACEMENT = "\uFFFD".getBytes(StandardCharsets.UTF_8);

    private void normalizePrefix(byte[] in, int off, int[] result) {
        int user = userDefined.deepestMatch(in, off);
        if (user > 0) {
            result[0] = -1;
            result[1] = user;
            result[2] = user;
            return;
        }
        int longestLen = 0;
        int longestOff = 0;
        if (xcda.length > 0) {
            int node = base(0);
            for (int p = off; p < in.length; p++) {
                int c = in[p] & 0xFF;
                if (c == 0) {
                    break;
                }
                node ^= c;
                if (lcheck(node) != c) {
                    break;
                }
                boolean leaf = ((xcda(node) >>> 8) & 1) != 0;
                node ^= base(node);
                if (leaf) {
                    longestLen = p - off + 1;
                    longestOff = xcda(node) & 0x7FFFFFFF;
                }
            }
        }
        if (longestLen > 0) {
            if (longestOff >= replacements.length) {
                throw corrupt();
            }
            int end = longestOff;
            while (end < replacements.length && replacements[end] != 0) {
                end++;
            }
            if (end == replacements.length) {
                throw corrupt();
            }
            result[0] = longestOff;
            result[1] = end - longestOff;
            result[2] = longestLen;
            return;
        }
        int len = validUtf8Length(in, off);
        if (len > 0) {
            result[0] = -1;
            result[1] = len;
            result[2] = len;
        } else {
            result[0] = -2;
            result[1] = REPLACEMENT.length;
            result[2] = 1;
        }
    }

    private int xcda(int index) {
        if (index < 0 || index >= xcda.length) {
            throw corrupt();
        }
        return xcda[index];
    }

    private int base(int index) {
        int packed = xcda(index);
        return (packed >>> 10) << ((packed & (1 << 9)) >>> 6);
    }

    private int lcheck(int index) {
        return xcda(index) & (0x80000000 | 0xFF);
    }

    /** Length of the UTF-8 sequence at {@code off} (llama.cpp's lenient decoder), or 0 if invalid. */
    private static int validUtf8Length(byte[] b, int off) {
        int c = b[off] & 0xFF;
        int n = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
        if (n == 0 || off + n > b.length) {
            return 0;
        }
        for (int i = 1; i < n; i++) {
            if ((b[off + i] & 0xC0) != 0x80) {
                return 0;
            }
        }
        return n;
    }

    /** A character trie over token texts (UTF-16 units; every token text is well formed). */
    private static final class Trie {
        private final Map<Long, Integer> children = new HashMap<>();
        private int[] values = {-1};
        private int nodes = 1;

        void insert(String text, int id) {
            int node = 0;
            for (int i = 0; i < text.length(); i++) {
                long key = ((long) node << 16) | text.charAt(i);
                Integer child = children.get(key);
                if (child == null) {
                    child = nodes++;
                    children.put(key, child);
                    if (nodes > values.length) {
                        int old = values.length;
                        values = Arrays.copyOf(values, old * 2);
                        Arrays.fill(values, old, values.length, -1);
                    }
                }
                node = child;
            }
            if (values[node] < 0) {
                values[node] = id;
            }
        }

        int child(int node, char c) {
            Integer child = children.get(((long) node << 16) | c);
            return child == null ? -1 : child;
        }

        int value(int node) {
            return values[node];
        }
    }

    /**
     * User-defined token texts as a byte trie. llama.cpp protects the deepest path the input follows
     * in it from normalization, whether or not that path spells a whole token.
     */
    private static final class ByteTrie {
        private final Map<Long, Integer> children = new HashMap<>();
        private int nodes = 1;

        void insert(byte[] text) {
            int node = 0;
            for (byte b : text) {
                long key = ((long) node << 8) | (b & 0xFF);
                Integer child = children.get(key);
                if (child == null) {
                    child = nodes++;
                    children.put(key, child);
                }
                node = child;
            }
        }

        int deepestMatch(byte[] in, int off) {
            int node = 0;
            int p = off;
            while (p < in.length && nodes > 1) {
                Integer child = children.get(((long) node << 8) | (in[p] & 0xFF));
                if (child == null) {
                    break;
                }
                node = child;
                p++;
            }
            return p - off;
        }
    }
}
