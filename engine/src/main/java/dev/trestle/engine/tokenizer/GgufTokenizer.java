package dev.trestle.engine.tokenizer;

import dev.trestle.common.TrestleException;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The {@link Tokenizer} for a GGUF vocabulary: splits out special-token texts, runs the
 * vocabulary's algorithm (SPM, BPE, WordPiece, unigram) on the text between them, adds BOS/EOS/SEP as the
 * vocabulary asks, and detokenizes with llama.cpp's leading-space and clean-up rules.
 * Thread-safe: tables are shared and immutable, each call has its own merge buffers.
 */
final class GgufTokenizer implements Tokenizer {
    private final Vocabulary vocab;
    private final int[] spmByteTokens;
    private final LongSet spmInnerPairs;
    private final BpeEncoder.Shared bpe;
    private final WordPieceEncoder wpm;
    private final UnigramEncoder ugm;

    GgufTokenizer(Vocabulary vocab) {
        this.vocab = vocab;
        this.spmByteTokens = vocab.type == VocabType.SPM ? SpmEncoder.byteTokens(vocab) : null;
        this.spmInnerPairs = vocab.type == VocabType.SPM ? SpmEncoder.innerPairs(vocab) : null;
        this.bpe = vocab.type == VocabType.BPE ? new BpeEncoder.Shared(vocab) : null;
        this.wpm = new WordPieceEncoder(vocab);
        this.ugm = vocab.type == VocabType.UGM ? new UnigramEncoder(vocab) : null;
    }

    /** A piece of the input: a special token already recognised, or a range of raw text. */
    private record Fragment(int token, int start, int end) {
        boolean isText() {
            return token < 0;
        }
    }

    @Override
    public int[] encode(String text, boolean addSpecial, boolean parseSpecial) {
        if (vocab.type == VocabType.NONE) {
            throw new TrestleException("this model has no vocabulary; use --prompt-ids",
                    "pass token ids directly with --prompt-ids");
        }
        String s = wellFormed(text);
        List<Fragment> fragments = partition(s, parseSpecial);
        IntList out = new IntList(Math.max(16, s.length() / 3));
        switch (vocab.type) {
            case SPM -> encodeSpm(s, fragments, addSpecial, out);
            case BPE -> encodeBpe(s, fragments, addSpecial, out);
            case WPM -> encodeWpm(s, fragments, addSpecial, out);
            case UGM -> encodeUgm(s, fragments, addSpecial, out);
            default -> throw new IllegalStateException(vocab.type.toString());
        }
        return out.toArray();
    }

    private void encodeSpm(String s, List<Fragment> fragments, boolean addSpecial, IntList out) {
        boolean prevSpecial = true; // the first text gets the space prefix
        if (addSpecial && vocab.addBos) {
            out.add(vocab.bos);
        }
        SpmEncoder enc = new SpmEncoder(vocab, spmByteTokens, spmInnerPairs);
        for (Fragment f : fragments) {
            if (f.isText()) {
                String piece = s.substring(f.start, f.end);
                if (vocab.addSpacePrefix && prevSpecial) {
                    piece = " " + piece;
                }
                enc.encode(piece.replace(' ', '\u2581'), out);
                prevSpecial = false;
            } else {
                out.add(f.token);
                prevSpecial = true;
            }
        }
        if (addSpecial && vocab.addEos) {
            out.add(vocab.eos);
        }
    }

    private void encodeBpe(String s, List<Fragment> fragments, boolean addSpecial, IntList out) {
        if (addSpecial && vocab.addBos) {
            out.add(vocab.bos);
        }
        BpeEncoder enc = new BpeEncoder(vocab, bpe);
        for (Fragment f : fragments) {
            if (f.isText()) {
                String piece = s.substring(f.start, f.end);
                if (vocab.escapeWhitespaces) {
                    piece = piece.replace(' ', '\u2581');
                }
                enc.encode(piece, out);
            } else {
                out.add(f.token);
            }
        }
        if (addSpecial && vocab.addEos) {
            out.add(vocab.eos);
        }
    }

    private void encodeWpm(String s, List<Fragment> fragments, boolean addSpecial, IntList out) {
        if (addSpecial) {
            out.add(vocab.bos);
        }
        for (Fragment f : fragments) {
            if (f.isText()) {
                wpm.encode(s.substring(f.start, f.end), out);
            } else {
                out.add(f.token);
            }
        }
        if (addSpecial) {
            out.add(vocab.sep);
        }
    }

    private void encodeUgm(String s, List<Fragment> fragments, boolean addSpecial, IntList out) {
        if (addSpecial && vocab.addBos) {
            out.add(vocab.bos);
        }
        for (Fragment f : fragments) {
            if (f.isText()) {
                ugm.encode(s.substring(f.start, f.end), out);
            } else {
                out.add(f.token);
            }
        }
        if (addSpecial && vocab.addEos) {
            out.add(vocab.eos);
        }
    }

    /** Splits out special tokens, longest first (llama.cpp's {@code tokenizer_st_partition}). */
    private List<Fragment> partition(String s, boolean parseSpecial) {
        List<Fragment> frags = new ArrayList<>();
        if (s.isEmpty()) {
            return frags;
        }
        frags.add(new Fragment(-1, 0, s.length()));
        for (int special : vocab.specialTokens) {
            int attr = vocab.attrs[special];
            // control and unknown tokens are plain text unless asked; user-defined ones always split
            if (!parseSpecial && (attr & (TokenAttr.CONTROL | TokenAttr.UNKNOWN)) != 0) {
                continue;
            }
            String st = vocab.texts[special];
            Occurrences occ = new Occurrences(s, st);
            if (occ.find(0) < 0) {
                continue;
            }
            List<Fragment> next = null;
            for (int k = 0; k < frags.size(); k++) {
                Fragment f = frags.get(k);
                int idx = f.isText() ? occ.find(f.start) : -1;
                if (idx < 0 || idx + st.length() > f.end) {
                    if (next != null) {
                        next.add(f);
                    }
                    continue;
                }
                if (next == null) {
                    next = new ArrayList<>(frags.subList(0, k));
                }
                int base = f.start;
                while (true) {
                    if (idx > base) {
                        int leftEnd = idx;
                        if ((attr & TokenAttr.LSTRIP) != 0) {
                            while (leftEnd > base && isCSpace(s.charAt(leftEnd - 1))) {
                                leftEnd--;
                            }
                        }
                        if (leftEnd > base) {
                            next.add(new Fragment(-1, base, leftEnd));
                        }
                    }
                    next.add(new Fragment(special, idx, idx + st.length()));
                    base = idx + st.length();
                    if ((attr & TokenAttr.RSTRIP) != 0) {
                        while (base < f.end && isCSpace(s.charAt(base))) {
                            base++;
                        }
                    }
                    if (base >= f.end) {
                        break;
                    }
                    idx = occ.find(base);
                    if (idx < 0 || idx + st.length() > f.end) {
                        next.add(new Fragment(-1, base, f.end));
                        break;
                    }
                }
            }
            if (next != null) {
                frags = next;
            }
        }
        return frags;
    }

    /**
     * First occurrence of a token text at or after a position, remembering the last answer: the
     * partition asks with increasing positions, so the text is scanned about once per token.
     */
    private static final class Occurrences {
        private final String text;
        private final String needle;
        private int from = Integer.MAX_VALUE;
        private int found = -1;

        Occurrences(String text, String needle) {
            this.text = text;
            this.needle = needle;
        }

        int find(int at) {
            boolean reusable = from <= at && (found < 0 || found >= at);
            if (!reusable) {
                from = at;
                found = text.indexOf(needle, at);
            }
            return found;
        }
    }

    /** C's isspace in the "C" locale. */
    private static boolean isCSpace(char c) {
        return c == ' ' || (c >= '\t' && c <= '\r');
    }

    /** Replaces unpaired surrogates (not encodable in UTF-8) by U+FFFD. */
    private static String wellFormed(String text) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (Character.isSurrogate(c)) {
                boolean paired = Character.isHighSurrogate(c) && i + 1 < text.length()
                        && Character.isLowSurrogate(text.charAt(i + 1));
                if (!paired) {
                    StringBuilder sb = new StringBuilder(text.length());
                    text.codePoints().forEach(cp -> sb.appendCodePoint(
                            cp >= Character.MIN_SURROGATE && cp <= Character.MAX_SURROGATE ? 0xFFFD : cp));
                    return sb.toString();
                }
                i++;
            }
        }
        return text;
    }

    @Override
    public String decode(int[] ids, boolean skipSpecial) {
        return new String(decodeBytes(ids, skipSpecial), StandardCharsets.UTF_8);
    }

    /** llama.cpp's {@code llama_detokenize(remove_special = skipSpecial, unparse_special = !skipSpecial)}. */
    byte[] decodeBytes(int[] ids, boolean skipSpecial) {
        if (vocab.type == VocabType.NONE) {
            return new byte[0];
        }
        int from = 0;
        int to = ids.length;
        boolean removeSpace = vocab.addSpacePrefix;
        if (skipSpecial && vocab.addBos && to > from && ids[from] == vocab.bos) {
            removeSpace = false;
            from++;
        }
        if (skipSpecial && vocab.addEos && to > from && ids[to - 1] == vocab.eos) {
            to--;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = from; i < to; i++) {
            byte[] piece = piece(ids[i], !skipSpecial);
            int skip = removeSpace && piece.length > 0 && piece[0] == ' ' ? 1 : 0;
            out.write(piece, skip, piece.length - skip);
            removeSpace = false;
        }
        byte[] text = out.toByteArray();
        return vocab.cleanSpaces ? cleanSpaces(text) : text;
    }

    /** HF's clean_up_tokenization_spaces as llama.cpp applies it: " ." -> ".", " 's" -> "'s", ... */
    private static byte[] cleanSpaces(byte[] t) {
        int total = t.length;
        // pass 1: drop the space before ? ! . ,
        int n = total > 0 ? 1 : 0;
        for (int i = 1; i < total; i++) {
            byte x = t[i];
            if (t[i - 1] == ' ' && (x == '?' || x == '!' || x == '.' || x == ',')) {
                n--;
            }
            t[n++] = x;
        }
        // pass 2: " ' " -> "'"
        total = n;
        n = total > 0 ? 1 : 0;
        for (int i = 1; i < total; i++) {
            byte x = t[i];
            if (x == '\'' && i + 1 < total && t[i - 1] == ' ' && t[i + 1] == ' ') {
                n--;
                t[++i] = 0;
            }
            t[n++] = x;
        }
        // pass 3: " 's", " 'm", " 're", " 've" lose their space
        total = n;
        n = total > 0 ? 1 : 0;
        for (int i = 1; i < total; i++) {
            byte x = t[i];
            if (t[i - 1] == ' ' && x == '\'' && i + 1 < total) {
                byte x1 = t[i + 1];
                if (x1 == 's' || x1 == 'm') {
                    n--;
                } else if (i + 2 < total) {
                    byte x2 = t[i + 2];
                    if ((x1 == 'r' && x2 == 'e') || (x1 == 'v' && x2 == 'e')) {
                        n--;
                    }
                }
            }
            t[n++] = x;
        }
        return java.util.Arrays.copyOf(t, n);
    }

    private byte[] piece(int id, boolean special) {
        checkId(id);
        if (vocab.type == VocabType.NONE) {
            return new byte[0];
        }
        if (!special && vocab.has(id, TokenAttr.UNKNOWN | TokenAttr.CONTROL)) {
            return new byte[0];
        }
        return vocab.pieces[id];
    }

    @Override
    public byte[] pieceBytes(int id, boolean special) {
        return piece(id, special).clone();
    }

    @Override
    public String tokenText(int id) {
        checkId(id);
        return vocab.texts[id];
    }

    private void checkId(int id) {
        if (id < 0 || id >= vocab.size()) {
            throw new TrestleException("token id " + id + " is outside the vocabulary (0.." + (vocab.size() - 1) + ")",
                    "pass ids from this model's vocabulary");
        }
    }

    @Override
    public int vocabSize() {
        return vocab.size();
    }

    @Override
    public int bos() {
        return vocab.bos;
    }

    @Override
    public int eos() {
        return vocab.eos;
    }

    @Override
    public boolean isEog(int id) {
        return vocab.eog.contains(id);
    }

    @Override
    public boolean isControl(int id) {
        return id >= 0 && id < vocab.size() && vocab.has(id, TokenAttr.CONTROL);
    }

    @Override
    public boolean addsBos() {
        return vocab.addBos;
    }

    @Override
    public String model() {
        return vocab.model;
    }
}
