package dev.trestle.engine.tokenizer;

import dev.trestle.common.TrestleException;
import dev.trestle.engine.gguf.GgufMetadata;
import dev.trestle.engine.gguf.GgufValue;
import dev.trestle.engine.gguf.GgufValueType;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;

/**
 * A vocabulary read from {@code tokenizer.ggml.*} metadata with llama.cpp's defaults and fix-ups
 * (special ids, add-BOS/EOS rules, end-of-generation set, special tokens detected by text).
 */
final class Vocabulary {
    static final String KEY_MODEL = "tokenizer.ggml.model";
    static final String KEY_PRE = "tokenizer.ggml.pre";
    static final String KEY_TOKENS = "tokenizer.ggml.tokens";
    static final String KEY_SCORES = "tokenizer.ggml.scores";
    static final String KEY_TOKEN_TYPE = "tokenizer.ggml.token_type";
    static final String KEY_MERGES = "tokenizer.ggml.merges";
    static final String KEY_ADD_BOS = "tokenizer.ggml.add_bos_token";
    static final String KEY_ADD_EOS = "tokenizer.ggml.add_eos_token";
    static final String KEY_ADD_SEP = "tokenizer.ggml.add_sep_token";
    static final String KEY_ADD_PREFIX = "tokenizer.ggml.add_space_prefix";
    static final String KEY_REMOVE_EXTRA_WS = "tokenizer.ggml.remove_extra_whitespaces";
    static final String KEY_CHARSMAP = "tokenizer.ggml.precompiled_charsmap";
    static final String KEY_LOWERCASE = "tokenizer.ggml.normalizer.lowercase";
    static final String KEY_STRIP_ACCENTS = "tokenizer.ggml.normalizer.strip_accents";

    final VocabType type;
    final String model;
    final String preName;
    final PreTokenizer pre; // BPE only

    final String[] texts;
    final float[] scores;
    final int[] attrs;
    final TokenTable table;
    final int maxTokenChars;

    int bos = 1;
    int eos = 2;
    int eot = -1;
    int eom = -1;
    int unk = 0;
    int sep = -1;
    int pad = -1;
    int mask = -1;
    int fimPre = -1;
    int fimSuf = -1;
    int fimMid = -1;
    int fimPad = -1;
    int fimRep = -1;
    int fimSep = -1;

    boolean addSpacePrefix;
    boolean addBos;
    boolean addEos;
    boolean addSep;
    boolean ignoreMerges;
    boolean cleanSpaces;
    boolean removeExtraWhitespaces;
    boolean escapeWhitespaces = true;
    boolean treatWhitespaceAsSuffix;
    boolean byteEncode = true;
    boolean lowercase = true;
    boolean stripAccents = true;

    /** BPE merges: "left right" strings in rank order (null for other types). */
    final String[] merges;
    /** UGM normalization table (may be empty). */
    final byte[] charsmap;

    final Set<Integer> eog = new TreeSet<>();
    /** Control, user-defined and unknown tokens, longest text first (llama.cpp's special-token cache). */
    final int[] specialTokens;
    /** Each token's bytes as token_to_piece(special=true) renders them. */
    final byte[][] pieces;

    private Vocabulary(GgufMetadata m) {
        model = m.contains(KEY_MODEL) ? m.getString(KEY_MODEL) : "none";
        String preKey = m.contains(KEY_PRE) ? m.getString(KEY_PRE) : "";
        switch (model) {
            case "no_vocab", "none" -> {
                type = VocabType.NONE;
                bos = eos = unk = -1;
            }
            case "llama" -> type = VocabType.SPM;
            case "bert" -> {
                type = VocabType.WPM;
                bos = 101;
                eos = -1;
                unk = 100;
                sep = 102;
                pad = 0;
                mask = 103;
                addSep = true;
            }
            case "gpt2", "gemma4" -> {
                type = VocabType.BPE;
                bos = 11;
                eos = 11;
                unk = -1;
                if (model.equals("gemma4")) {
                    bos = eos = -1;
                    preKey = "gemma4";
                }
            }
            case "t5" -> {
                type = VocabType.UGM;
                bos = -1;
                eos = 1;
                unk = 2;
                pad = 0;
            }
            default -> throw new TrestleException("unknown tokenizer model '" + model + "' (" + KEY_MODEL + ")",
                    "Trestle supports llama (SentencePiece), gpt2 (byte-level BPE), bert (WordPiece) and t5 (unigram);"
                            + " use --prompt-ids to pass token ids");
        }
        preName = preKey;

        if (type == VocabType.NONE) {
            // keep the placeholder token list (or the declared size) so ids can still be shown
            pre = null;
            texts = m.contains(KEY_TOKENS) ? m.getStringArray(KEY_TOKENS).clone()
                    : new String[m.architecture() != null ? m.getInt("%s.vocab_size", 0) : 0];
            for (int i = 0; i < texts.length; i++) {
                texts[i] = texts[i] == null ? "" : texts[i];
            }
            scores = new float[texts.length];
            attrs = new int[texts.length];
            table = new TokenTable(texts);
            maxTokenChars = 0;
            merges = null;
            charsmap = new byte[0];
            specialTokens = new int[0];
            pieces = new byte[0][];
            return;
        }

        switch (type) {
            case BPE -> {
                addSpacePrefix = false;
                escapeWhitespaces = false;
                cleanSpaces = true;
                PreTokenizer p;
                if (preKey.isEmpty()) {
                    System.getLogger(Vocabulary.class.getName()).log(System.Logger.Level.WARNING,
                            "GGUF has no " + KEY_PRE + "; using the 'default' pre-tokenizer (generation quality may"
                                    + " suffer; reconvert the model)");
                    p = PreTokenizer.DEFAULT;
                } else {
                    p = PreTokenizer.byName(preKey);
                    if (p == null) {
                        throw new TrestleException("unknown pre-tokenizer '" + preKey + "' (" + KEY_PRE + ")",
                                "this BPE pre-tokenizer is not supported yet; supported: "
                                        + String.join(", ", PreTokenizer.allNames()));
                    }
                }
                pre = p;
                cleanSpaces = p.has(PreTokenizer.Flags.CLEAN);
                ignoreMerges = p.has(PreTokenizer.Flags.IGNORE_MERGES);
                addBos = p.has(PreTokenizer.Flags.ADD_BOS);
                addSep = p.has(PreTokenizer.Flags.ADD_SEP);
                if (p.has(PreTokenizer.Flags.ESCAPE_WHITESPACE)) {
                    escapeWhitespaces = true;
                }
                byteEncode = !p.has(PreTokenizer.Flags.RAW_BYTES);
                if (p.has(PreTokenizer.Flags.NO_BOS_ID)) {
                    bos = -1;
                }
            }
            case SPM -> {
                pre = null;
                addSpacePrefix = true;
                cleanSpaces = false;
                addBos = true;
                addEos = false;
            }
            case WPM -> {
                pre = null;
                addSpacePrefix = false;
                cleanSpaces = true;
                addBos = true;
                addEos = false;
                addSep = true;
            }
            default -> { // UGM
                pre = null;
                addBos = false;
                addEos = true;
            }
        }
        addSpacePrefix = m.getBool(KEY_ADD_PREFIX, addSpacePrefix);
        removeExtraWhitespaces = m.getBool(KEY_REMOVE_EXTRA_WS, removeExtraWhitespaces);

        if (type == VocabType.BPE) {
            if (!m.contains(KEY_MERGES) && pre == PreTokenizer.KIMI_K2) {
                merges = new String[0]; // Kimi-K2 files may carry no merges
            } else if (!m.contains(KEY_MERGES)) {
                throw new TrestleException("GGUF has no " + KEY_MERGES + " for its BPE vocabulary",
                        "the model file is incomplete; reconvert it");
            } else {
                merges = m.getStringArray(KEY_MERGES);
            }
        } else {
            merges = null;
        }
        charsmap = type == VocabType.UGM && m.contains(KEY_CHARSMAP) ? charsmapBytes(m) : new byte[0];

        if (!m.contains(KEY_TOKENS)) {
            throw new TrestleException("GGUF has no " + KEY_TOKENS, "the model file has no vocabulary; use --prompt-ids");
        }
        String[] raw = m.getStringArray(KEY_TOKENS);
        int n = raw.length;
        texts = new String[n];
        int maxLen = 0;
        for (int i = 0; i < n; i++) {
            String w = raw[i];
            texts[i] = w.isEmpty() ? "[EMPTY_" + i + "]" : w;
            maxLen = Math.max(maxLen, texts[i].length());
        }
        maxTokenChars = maxLen;
        scores = new float[n];
        if (m.contains(KEY_SCORES)) {
            float[] s = m.getFloatArray(KEY_SCORES);
            if (s.length < n) {
                throw new TrestleException(KEY_SCORES + " has " + s.length + " entries for " + n + " tokens",
                        "the model file is corrupt");
            }
            System.arraycopy(s, 0, scores, 0, n);
        }
        attrs = new int[n];
        if (m.contains(KEY_TOKEN_TYPE)) {
            int[] t = m.getIntArray(KEY_TOKEN_TYPE);
            if (t.length < n) {
                throw new TrestleException(KEY_TOKEN_TYPE + " has " + t.length + " entries for " + n + " tokens",
                        "the model file is corrupt");
            }
            for (int i = 0; i < n; i++) {
                attrs[i] = TokenAttr.fromGgufType(t[i]);
            }
        } else {
            Arrays.fill(attrs, TokenAttr.NORMAL);
        }
        table = new TokenTable(texts);

        readSpecialIds(m);
        readAddFlags(m);
        lowercase = m.getBool(KEY_LOWERCASE, lowercase);
        stripAccents = m.getBool(KEY_STRIP_ACCENTS, lowercase);
        detectSpecialTokens();
        specialTokens = sortedSpecialTokens();
        applyNamedAttributes(m);
        pieces = new byte[n][];
        for (int i = 0; i < n; i++) {
            pieces[i] = renderPiece(i);
        }
    }

    /** Reads and validates the vocabulary in {@code m}. */
    static Vocabulary load(GgufMetadata m) {
        return new Vocabulary(m);
    }

    int size() {
        return texts.length;
    }

    boolean has(int id, int attr) {
        return (attrs[id] & attr) != 0;
    }

    private static byte[] charsmapBytes(GgufMetadata m) {
        GgufValue.GgufArray a = m.getArray(KEY_CHARSMAP);
        if (a.elementType() != GgufValueType.UINT8 && a.elementType() != GgufValueType.INT8) {
            throw new TrestleException(KEY_CHARSMAP + " is not a byte array", "the model file is corrupt");
        }
        return (byte[]) a.data();
    }

    private void readSpecialIds(GgufMetadata m) {
        bos = specialId(m, "tokenizer.ggml.bos_token_id", bos);
        eos = specialId(m, "tokenizer.ggml.eos_token_id", eos);
        eot = specialId(m, "tokenizer.ggml.eot_token_id", eot);
        eom = specialId(m, "tokenizer.ggml.eom_token_id", eom);
        unk = specialId(m, "tokenizer.ggml.unknown_token_id", unk);
        sep = specialId(m, "tokenizer.ggml.seperator_token_id", sep);
        pad = specialId(m, "tokenizer.ggml.padding_token_id", pad);
        mask = specialId(m, "tokenizer.ggml.mask_token_id", mask);
        fimPre = specialId(m, "tokenizer.ggml.fim_pre_token_id", fimPre);
        fimSuf = specialId(m, "tokenizer.ggml.fim_suf_token_id", fimSuf);
        fimMid = specialId(m, "tokenizer.ggml.fim_mid_token_id", fimMid);
        fimPad = specialId(m, "tokenizer.ggml.fim_pad_token_id", fimPad);
        fimRep = specialId(m, "tokenizer.ggml.fim_rep_token_id", fimRep);
        fimSep = specialId(m, "tokenizer.ggml.fim_sep_token_id", fimSep);
        fimPre = specialId(m, "tokenizer.ggml.prefix_token_id", fimPre);
        fimSuf = specialId(m, "tokenizer.ggml.suffix_token_id", fimSuf);
        fimMid = specialId(m, "tokenizer.ggml.middle_token_id", fimMid);
    }

    /** A special id from the GGUF; a default outside the vocabulary is disabled, a bad GGUF value ignored. */
    private int specialId(GgufMetadata m, String key, int current) {
        int id = current >= size() ? -1 : current;
        if (m.contains(key)) {
            GgufValue v = m.get(key);
            if (v.type().isInteger()) {
                long value = v.asLong();
                if (value >= 0 && value < size()) {
                    id = (int) value;
                }
            }
        }
        return id;
    }

    private void readAddFlags(GgufMetadata m) {
        addBos = m.getBool(KEY_ADD_BOS, addBos);
        addEos = m.getBool(KEY_ADD_EOS, addEos);
        addSep = m.getBool(KEY_ADD_SEP, addSep);
        if (pre == PreTokenizer.GEMMA4) {
            addBos = true; // Gemma 4 always starts with BOS, whatever the file says
        }
        requireSpecial(addBos, bos, KEY_ADD_BOS, "tokenizer.ggml.bos_token_id");
        requireSpecial(addEos, eos, KEY_ADD_EOS, "tokenizer.ggml.eos_token_id");
        requireSpecial(addSep, sep, KEY_ADD_SEP, "tokenizer.ggml.seperator_token_id");
    }

    private static void requireSpecial(boolean add, int id, String addKey, String idKey) {
        if (add && id < 0) {
            throw new TrestleException(addKey + " is true, but " + idKey + " is not set",
                    "the model file's tokenizer metadata is inconsistent; reconvert it");
        }
    }

    private static final Set<String> EOT_TEXTS = Set.of("<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>",
            "<|endoftext|>", "<|end_of_text|>", "<EOT>", "_<EOT>", "[EOT]", "<｜end▁of▁sentence｜>", "<end_of_utterance>");
    private static final Set<String> FIM_PRE_TEXTS = Set.of("<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>",
            "<｜fim▁begin｜>", "<PRE>", "▁<PRE>", "<|code_prefix|>", "<|prefix|>");
    private static final Set<String> FIM_SUF_TEXTS = Set.of("<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>",
            "<｜fim▁hole｜>", "<SUF>", "▁<SUF>", "<|code_suffix|>", "<|suffix|>");
    private static final Set<String> FIM_MID_TEXTS = Set.of("<|fim_middle|>", "<fim-middle>", "<fim_middle>",
            "<｜fim▁end｜>", "<MID>", "▁<MID>", "<|code_middle|>", "<|middle|>");
    private static final Set<String> FIM_PAD_TEXTS = Set.of("<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]");
    private static final Set<String> FIM_REP_TEXTS = Set.of("<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>",
            "<reponame>");
    private static final Set<String> EOG_TEXTS = Set.of("<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>",
            "<|call|>", "<|flush|>", "<|calls|>", "<end_of_turn>", "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>",
            "_<EOT>", "[EOT]", "[EOS]", "<|end_of_text|>", "<end_of_utterance>", "<eos>", "<turn|>",
            "<|tool_response>", "<｜end▁of▁sentence｜>", "[e~[");

    /** Finds EOT/EOM/FIM/EOG tokens by their text (converters often omit the ids), as llama.cpp does. */
    private void detectSpecialTokens() {
        // llama.cpp walks an unordered map; texts are unique so the first match by id is as good
        for (int id = 0; id < size(); id++) {
            if (table.get(texts[id]) != id) {
                continue; // a duplicate text: only the first id is reachable by text
            }
            String t = texts[id];
            if (eot < 0 && EOT_TEXTS.contains(t)) {
                eot = id;
                markControl(id);
            }
            if (eom < 0 && t.equals("<|eom_id|>")) {
                eom = id;
                markControl(id);
            }
            if (fimPre < 0 && FIM_PRE_TEXTS.contains(t)) {
                fimPre = id;
                markControl(id);
            }
            if (fimSuf < 0 && FIM_SUF_TEXTS.contains(t)) {
                fimSuf = id;
                markControl(id);
            }
            if (fimMid < 0 && FIM_MID_TEXTS.contains(t)) {
                fimMid = id;
                markControl(id);
            }
            if (fimPad < 0 && FIM_PAD_TEXTS.contains(t)) {
                fimPad = id;
                markControl(id);
            }
            if (fimRep < 0 && FIM_REP_TEXTS.contains(t)) {
                fimRep = id;
                markControl(id);
            }
            if (fimSep < 0 && t.equals("<|file_sep|>")) {
                fimSep = id;
                markControl(id);
            }
        }
        // control tokens named "unused..." are unused
        for (int id = 0; id < size(); id++) {
            if (has(id, TokenAttr.CONTROL) && !has(id, TokenAttr.UNUSED) && texts[id].contains("unused")) {
                attrs[id] |= TokenAttr.UNUSED;
            }
        }
        for (int id : new int[] {fimPad, fimRep, fimSep}) {
            if (id >= 0) {
                eog.add(id);
            }
        }
        for (int id = 0; id < size(); id++) {
            if (table.get(texts[id]) == id && EOG_TEXTS.contains(texts[id])) {
                eog.add(id);
                markControl(id);
            }
        }
        // gpt-oss: these structural tokens are always rendered
        for (int id = 0; id < size(); id++) {
            String t = texts[id];
            if (t.equals("<|channel|>") || t.equals("<|message|>") || t.equals("<|start|>") || t.equals("<|constrain|>")) {
                attrs[id] = TokenAttr.USER_DEFINED;
            }
        }
        for (int id : new int[] {eos, eot, eom}) {
            if (id >= 0) {
                eog.add(id);
            }
        }
        // o200k_harmony / solar-open: <|end|> ends a message, not the generation
        boolean hasReturn = false;
        boolean hasCall = false;
        boolean hasFlush = false;
        int endId = -1;
        for (int id : eog) {
            String t = texts[id];
            switch (t) {
                case "<|return|>" -> hasReturn = true;
                case "<|call|>", "<|calls|>" -> hasCall = true;
                case "<|flush|>" -> hasFlush = true;
                case "<|end|>" -> endId = id;
                default -> {
                }
            }
        }
        if (endId >= 0 && ((hasReturn && hasCall) || (hasCall && hasFlush))) {
            eog.remove(endId);
            attrs[endId] = TokenAttr.USER_DEFINED;
        }
        // gemma4 / paddleocr: </s> is a normal token when <|tool_response> exists
        int sId = -1;
        boolean hasToolResponse = false;
        for (int id : eog) {
            if (texts[id].equals("<|tool_response>")) {
                hasToolResponse = true;
            } else if (texts[id].equals("</s>")) {
                sId = id;
            }
        }
        if (hasToolResponse && sId >= 0) {
            eog.remove(sId);
            attrs[sId] = TokenAttr.NORMAL;
        }
    }

    private void markControl(int id) {
        attrs[id] |= TokenAttr.CONTROL;
    }

    private int[] sortedSpecialTokens() {
        List<Integer> ids = new ArrayList<>();
        for (int id = 0; id < size(); id++) {
            if (has(id, TokenAttr.CONTROL | TokenAttr.USER_DEFINED | TokenAttr.UNKNOWN)) {
                ids.add(id);
            }
        }
        // longest text first, so "<|im_start|>" is matched before a shorter token inside it
        ids.sort(Comparator.comparingInt((Integer id) -> -texts[id].getBytes(StandardCharsets.UTF_8).length)
                .thenComparingInt(id -> id));
        return ids.stream().mapToInt(Integer::intValue).toArray();
    }

    /** Model-specific strip rules llama.cpp keys on the tokenizer, architecture or model name. */
    private void applyNamedAttributes(GgufMetadata m) {
        String name = m.getString("general.name", "").toLowerCase(Locale.ROOT);
        String arch = m.getString("general.architecture", "");
        if (preName.contains("jina-v2-de") || preName.contains("jina-v2-es") || preName.contains("jina-v2-code")
                || arch.contains("nomic-bert-moe") || arch.contains("jina-bert-v3")) {
            setAttr("<mask>", TokenAttr.LSTRIP, true);
        } else if (name.contains("phi-3") || name.contains("phi3")) {
            for (int id : specialTokens) {
                attrs[id] |= TokenAttr.RSTRIP;
            }
            setAttr("</s>", TokenAttr.RSTRIP, true);
            for (String t : new String[] {"<unk>", "<s>", "<|endoftext|>"}) {
                setAttr(t, TokenAttr.RSTRIP, false);
            }
        } else if (name.contains("modern-bert")) {
            setAttr("[MASK]", TokenAttr.LSTRIP, true);
        }
    }

    private void setAttr(String text, int attr, boolean value) {
        int id = table.get(text);
        if (id < 0) {
            return;
        }
        attrs[id] = value ? attrs[id] | attr : attrs[id] & ~attr;
    }

    /** token_to_piece(id, special = true) with no stripping. */
    private byte[] renderPiece(int id) {
        String text = texts[id];
        int a = attrs[id];
        if ((a & (TokenAttr.UNKNOWN | TokenAttr.CONTROL | TokenAttr.USER_DEFINED)) != 0) {
            return text.getBytes(StandardCharsets.UTF_8);
        }
        if ((a & TokenAttr.NORMAL) != 0) {
            if (type == VocabType.BPE && !escapeWhitespaces) {
                return byteLevelDecode(text);
            }
            return text.replace('\u2581', ' ').getBytes(StandardCharsets.UTF_8);
        }
        if ((a & TokenAttr.BYTE) != 0) {
            return new byte[] {(byte) hexByte(text)};
        }
        return new byte[0];
    }

    /** The byte a {@code <0xXX>} token stands for. */
    static int hexByte(String text) {
        if (text.length() >= 5) {
            try {
                return Integer.parseInt(text.substring(3, 5), 16);
            } catch (NumberFormatException e) {
                // fall through
            }
        }
        return 0;
    }

    private static byte[] byteLevelDecode(String text) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream(text.length());
        for (int i = 0; i < text.length(); ) {
            int cp = text.codePointAt(i);
            i += Character.charCount(cp);
            int b = ByteLevel.decode(cp);
            if (b >= 0) {
                out.write(b);
            } else {
                // llama.cpp's marker for a character outside the byte alphabet
                StringBuilder sb = new StringBuilder("[UNK_BYTE_0x");
                for (byte x : Character.toString(cp).getBytes(StandardCharsets.UTF_8)) {
                    sb.append(String.format("%02x", x & 0xFF));
                }
                sb.append(text).append(']');
                out.writeBytes(sb.toString().getBytes(StandardCharsets.UTF_8));
            }
        }
        return out.toByteArray();
    }
}
