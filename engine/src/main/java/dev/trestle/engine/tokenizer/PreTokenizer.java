package dev.trestle.engine.tokenizer;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The BPE pre-tokenizers selected by {@code tokenizer.ggml.pre}: the regexes that split text
 * into words before merging (applied one after the other, each splitting the pieces the previous
 * one produced) and the flags the name implies. The patterns are the tokenizers' own (from their
 * {@code tokenizer.json}), in the case-explicit form llama.cpp runs.
 */
enum PreTokenizer {
    DEFAULT(Flags.CLEAN, List.of(
            "[\\p{P}\\$\\+<=>\\^~\\|]+",
            Patterns.GPT2,
            "\\p{N}+",
            "[0-9][0-9][0-9]"),
            "default"),
    LLAMA3(Flags.CLEAN | Flags.IGNORE_MERGES | Flags.ADD_BOS, List.of(Patterns.LLAMA3),
            "llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2", "jina-v5-nano"),
    DBRX(Flags.CLEAN, List.of(Patterns.LLAMA3), "dbrx", "smaug-bpe"),
    // the letter class is written with code point escapes: several of its characters have canonical
    // singleton decompositions (U+2126, U+212A, U+1FBE, ...) that text tools silently normalize away
    DEEPSEEK_LLM(0, List.of(
            "[\r\n]",
            "\\s?[A-Za-z\\x{B5}\\x{C0}-\\x{D6}\\x{D8}-\\x{F6}\\x{F8}-\\x{1BA}\\x{1BC}-\\x{1BF}\\x{1C4}-\\x{293}\\x{295}-\\x{2AF}\\x{370}-\\x{373}\\x{376}\\x{377}\\x{37B}-\\x{37D}\\x{37F}\\x{386}\\x{388}-\\x{38A}\\x{38C}\\x{38E}-\\x{3A1}\\x{3A3}-\\x{3F5}\\x{3F7}-\\x{481}\\x{48A}-\\x{52F}\\x{531}-\\x{556}\\x{10A0}-\\x{10C5}\\x{13A0}-\\x{13F5}\\x{13F8}-\\x{13FD}\\x{1C90}-\\x{1CBA}\\x{1CBD}-\\x{1CBF}\\x{1D00}-\\x{1D2B}\\x{1D6B}-\\x{1D77}\\x{1D79}-\\x{1D9A}"
                    + "\\x{1E00}-\\x{1F15}\\x{1F18}-\\x{1F1D}\\x{1F20}-\\x{1F45}\\x{1F48}-\\x{1F4D}\\x{1F50}-\\x{1F57}\\x{1F59}\\x{1F5B}\\x{1F5D}\\x{1F5F}-\\x{1F7D}\\x{1F80}-\\x{1FB4}\\x{1FB6}-\\x{1FBC}\\x{1FBE}\\x{1FC2}-\\x{1FC4}\\x{1FC6}-\\x{1FCC}\\x{1FD0}-\\x{1FD3}\\x{1FD6}-\\x{1FDB}\\x{1FE0}-\\x{1FEC}\\x{1FF2}-\\x{1FF4}\\x{1FF6}-\\x{1FFC}\\x{2102}\\x{2107}\\x{210A}-\\x{2113}\\x{2115}\\x{2119}-\\x{211D}\\x{2124}\\x{2126}\\x{2128}\\x{212A}-\\x{212D}\\x{212F}-\\x{2134}\\x{2139}\\x{213C}-\\x{213F}\\x{2145}-\\x{2149}\\x{214E}\\x{2183}\\x{2184}\\x{2C00}-\\x{2C7B}\\x{2C7E}-\\x{2CE4}\\x{2CEB}-\\x{2CEE}\\x{2CF2}\\x{2CF3}\\x{A640}-\\x{A66D}\\x{A680}-\\x{A69B}\\x{A722}-\\x{A76F}\\x{A771}-\\x{A787}\\x{A78B}-\\x{A78E}\\x{AB70}-\\x{ABBF}\\x{FB00}-\\x{FB06}\\x{FB13}-\\x{FB17}\\x{FF21}-\\x{FF3A}\\x{FF41}-\\x{FF5A}\\x{10400}-\\x{1044F}\\x{104B0}-\\x{104D3}\\x{104D8}-\\x{104FB}\\x{10C80}-\\x{10CB2}\\x{10CC0}-\\x{10CF2}\\x{118A0}-\\x{118DF}\\x{1E900}-\\x{1E943}]+",
            "\\s?[!-/:-~！-／：-～‘-‟　-。]+",
            "\\s+$",
            "[一-龥ࠀ-一가-퟿]+",
            "\\p{N}+"),
            "deepseek-llm"),
    DEEPSEEK3_LLM(0, List.of(
            "\\p{N}{1,3}",
            "[一-龥぀-ゟ゠-ヿ]+",
            "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+"),
            "deepseek-v3", "hunyuan-dense", "joyai-llm", "hy_v4"),
    DEEPSEEK_CODER(0, List.of(
            "[\r\n]",
            "\\s?\\p{L}+",
            "\\s?\\p{P}+",
            "[一-龥ࠀ-一가-퟿]+",
            "\\p{N}"),
            "deepseek-coder"),
    FALCON(Flags.CLEAN, List.of(
            "[\\p{P}\\$\\+<=>\\^~\\|`]+",
            Patterns.GPT2,
            "[0-9][0-9][0-9]"),
            "falcon"),
    STARCODER(Flags.CLEAN, List.of("\\p{N}", Patterns.GPT2),
            "starcoder", "refact", "codeshell", "exaone", "minerva-7b", "mellum2"),
    STARCODER_NO_CLEAN(0, List.of("\\p{N}", Patterns.GPT2), "command-r", "smollm"),
    GPT2(Flags.CLEAN, List.of(Patterns.GPT2),
            "gpt-2", "phi-2", "jina-es", "jina-de", "gigachat", "jina-v2-es", "jina-v2-de", "a.x-4.0", "mellum",
            "modern-bert", "mpt", "olmo", "jais", "exaone4"),
    GPT2_WITH_SEP(Flags.CLEAN | Flags.ADD_SEP, List.of(Patterns.GPT2), "jina-v1-en", "jina-v2-code", "roberta-bpe"),
    GPT2_NO_CLEAN(0, List.of(Patterns.GPT2), "trillion", "granite-docling"),
    QWEN2(0, List.of(Patterns.QWEN2), "qwen2", "deepseek-r1-qwen", "kormo", "f2llmv2", "hunyuan", "solar-open", "grok-2"),
    QWEN2_CLEAN(Flags.CLEAN, List.of(Patterns.QWEN2), "stablelm2", "megrez"),
    QWEN35(0, List.of(
            "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?[\\p{L}\\p{M}]+|\\p{N}| ?[^\\s\\p{L}\\p{M}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"),
            "qwen35"),
    PORO(0, List.of(" ?[^(\\s|.,!?…。，、।۔،)]+"), "poro-chat"),
    BLOOM(Flags.CLEAN, List.of(" ?[^(\\s|.,!?…。，、।۔،)]+"), "bloom", "gpt3-finnish"),
    CHATGLM4(Flags.CLEAN | Flags.NO_BOS_ID, List.of(Patterns.LLAMA3), "glm4", "chatglm-bpe"),
    VIKING(0, List.of(" ?[^(\\s|.,!?…。，、।۔،)]+", "\\p{N}"), "viking"),
    TEKKEN(Flags.IGNORE_MERGES | Flags.ADD_BOS, List.of(
            "[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))*((?=[\\p{L}])([^A-Z]))+|[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))+((?=[\\p{L}])([^A-Z]))*|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"),
            "tekken"),
    CHAMELEON(Flags.ADD_BOS, List.of(
            "<sentinel:[0-9]+>",
            "(IMGIMG)((A|B|C|D|E|F|G|H|I){1,4})Z",
            "([\\t\\n]|    |  )",
            "\\p{N}",
            "[\\p{P}!-/:-@\\[-`{-~]",
            Patterns.GPT2),
            "chameleon"),
    GPT4O(0, List.of(
            "[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))*((?=[\\p{L}])([^A-Z]))+(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))+((?=[\\p{L}])([^A-Z]))*(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"),
            "gpt-4o", "llama4", "kanana2", "talkie", "minimax-m2"),
    BAILINGMOE(0, List.of(
            "'(?:[sSdDmMtT]|[lL][lL]|[vV][eE]|[rR][eE])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]|\\s+(?!\\S)|\\s+"),
            "bailingmoe", "bailingmoe2", "llada-moe"),
    SEED_CODER(0, List.of(
            "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1}| ?[^\\s\\p{L}\\p{N}\\r\\n]+|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"),
            "seed-coder"),
    UFAKZEKA(0, List.of(
            "[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"),
            "ufakzeka"),
    // (?:\p{L}\p{M}*(?: \p{L}\p{M}*)*)+ rewritten as the same language without a nested group loop,
    // which java.util.regex runs recursively per letter (a long word would overflow the stack)
    EXAONE_MOE(Flags.CLEAN, List.of(
            "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}[\\p{L}\\p{M}]*(?: \\p{L}[\\p{L}\\p{M}]*)*|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]?|\\s*[\\r\\n]|\\s+(?!\\S)|\\s+"),
            "exaone-moe"),
    JAIS2(Flags.CLEAN, List.of(
            "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s{512}(?!\\S)|\\s{256}(?!\\S)|\\s{128}(?!\\S)|\\s{64}(?!\\S)|\\s{32}(?!\\S)|\\s{16}(?!\\S)|\\s{8}(?!\\S)|\\s{4}(?!\\S)|\\s{1,2}(?!\\S)|\\s{1}"),
            "jais-2"),
    SPARK2_5(0, List.of(
            "\\p{N}{1,3}",
            "[\\x{4E00}-\\x{9FA5}\\x{3040}-\\x{309F}\\x{30A0}-\\x{30FF}]+",
            "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+|[\r\n]|\\s+(?!\\S)|\\s+",
            "\\p{N}"),
            "spark2_5"),
    YOUTU(Flags.IGNORE_MERGES, List.of(
            "[\\x{AC00}-\\x{D7A3}\\x{3131}-\\x{318E}]+|[\\x{FF01}\\x{2026}\\x{201C}\\x{201D}\\x{2018}\\x{2019}\\x{2014}\\x{FF1A}\\x{FF1B}\\x{FF0C}\\x{3001}-\\x{303F}\\x{FE30}-\\x{FE4F}]+|[\\x{3105}-\\x{312F}]+|[\\x{4E00}-\\x{9FA5}\\x{3040}-\\x{309F}\\x{30A0}-\\x{30FF}]+",
            "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"),
            "youtu"),
    GRANITE_EMB_MULTI(Flags.IGNORE_MERGES, List.of(
            "[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}\\p{M}])([^a-z]))*((?=[\\p{L}\\p{M}])([^A-Z]))+(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}\\p{M}])([^a-z]))+((?=[\\p{L}\\p{M}])([^A-Z]))*(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"),
            "granite-embed-multi-97m"),
    TINY_AYA(0, List.of(
            "\\d{1,3}(?=(?:\\d{3})*\\b)",
            "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"),
            "tiny_aya", "cohere2moe"),
    /** Kimi-K2 (tiktoken): Han runs, letter words without Han, Llama-3 rules otherwise; merges are optional. */
    KIMI_K2(0, List.of(Patterns.KIMI_K2), "kimi-k2"),
    LAGUNA(0, List.of("[^\\n]+|[\\n]+", Patterns.QWEN2), "laguna"),
    /** SentencePiece-style BPE: spaces become U+2581, merges run on raw UTF-8 over whole lines. */
    GEMMA4(Flags.CLEAN | Flags.ESCAPE_WHITESPACE | Flags.RAW_BYTES, List.of("[^\\n]+|[\\n]+"),
            "gemma4", "granite-embed-multi-311m"),
    SARVAM_MOE(Flags.ESCAPE_WHITESPACE | Flags.RAW_BYTES, List.of("[^\\n]+|[\\n]+"), "sarvam-moe"),
    MINICPM5(Flags.CLEAN | Flags.IGNORE_MERGES, List.of(
            "\\p{N}{1,3}",
            "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}+| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"),
            "minicpm5");

    /** Name-implied settings, applied on top of the BPE defaults. */
    static final class Flags {
        /** clean_up_tokenization_spaces stays on when detokenizing. */
        static final int CLEAN = 1;
        /** A word that is itself a token is emitted without merging. */
        static final int IGNORE_MERGES = 2;
        /** BOS is added by default (the GGUF key still overrides). */
        static final int ADD_BOS = 4;
        /** SEP is added by default. */
        static final int ADD_SEP = 8;
        /** Spaces become U+2581 before tokenizing. */
        static final int ESCAPE_WHITESPACE = 16;
        /** Merges run on raw UTF-8 with {@code <0xXX>} byte fallback instead of GPT-2 byte characters. */
        static final int RAW_BYTES = 32;
        /** The vocabulary has no BOS token unless the GGUF names one. */
        static final int NO_BOS_ID = 64;

        private Flags() {
        }
    }

    /** Patterns shared by several pre-tokenizers; llama.cpp runs two of them as hand-written splitters. */
    static final class Patterns {
        static final String GPT2 = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)";
        static final String LLAMA3 = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
        /** Kimi-K2's marker pattern; llama.cpp runs the whole tiktoken pattern as a hand-written splitter. */
        static final String KIMI_K2 = "\\p{Han}+";
        static final String QWEN2 = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

        private Patterns() {
        }
    }

    private static final Map<String, PreTokenizer> BY_NAME = new HashMap<>();

    static {
        for (PreTokenizer p : values()) {
            for (String n : p.names) {
                if (BY_NAME.put(n, p) != null) {
                    throw new IllegalStateException("duplicate pre-tokenizer name " + n);
                }
            }
        }
    }

    final int flags;
    final List<String> regexes;
    final List<String> names;

    PreTokenizer(int flags, List<String> regexes, String... names) {
        this.flags = flags;
        this.regexes = regexes;
        this.names = List.of(names);
    }

    boolean has(int flag) {
        return (flags & flag) != 0;
    }

    /** The pre-tokenizer for a {@code tokenizer.ggml.pre} value, or null when the name is unknown. */
    static PreTokenizer byName(String name) {
        return BY_NAME.get(name);
    }

    /** Every accepted name, for error messages. */
    static List<String> allNames() {
        return BY_NAME.keySet().stream().sorted().toList();
    }
}
