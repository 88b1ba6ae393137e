package dev.trestle.engine.gguf;

import dev.trestle.backends.type.GgmlType;

/**
 * llama.cpp's model file types ({@code enum llama_ftype}, stored as {@code general.file_type}): what
 * most weight tensors are quantized to. Constants are named as in llama.h without the
 * {@code LLAMA_FTYPE_} prefix; {@link #description()} is the name llama.cpp prints.
 */
public enum GgufFileType {
    ALL_F32(0, "all F32"),
    MOSTLY_F16(1, "F16"),
    MOSTLY_Q4_0(2, "Q4_0"),
    MOSTLY_Q4_1(3, "Q4_1"),
    // 4-6: Q4_1_SOME_F16, Q4_2, Q4_3 were removed from llama.cpp
    MOSTLY_Q8_0(7, "Q8_0"),
    MOSTLY_Q5_0(8, "Q5_0"),
    MOSTLY_Q5_1(9, "Q5_1"),
    MOSTLY_Q2_K(10, "Q2_K - Medium"),
    MOSTLY_Q3_K_S(11, "Q3_K - Small"),
    MOSTLY_Q3_K_M(12, "Q3_K - Medium"),
    MOSTLY_Q3_K_L(13, "Q3_K - Large"),
    MOSTLY_Q4_K_S(14, "Q4_K - Small"),
    MOSTLY_Q4_K_M(15, "Q4_K - Medium"),
    MOSTLY_Q5_K_S(16, "Q5_K - Small"),
    MOSTLY_Q5_K_M(17, "Q5_K - Medium"),
    MOSTLY_Q6_K(18, "Q6_K"),
    MOSTLY_IQ2_XXS(19, "IQ2_XXS - 2.0625 bpw"),
    MOSTLY_IQ2_XS(20, "IQ2_XS - 2.3125 bpw"),
    MOSTLY_Q2_K_S(21, "Q2_K - Small"),
    MOSTLY_IQ3_XS(22, "IQ3_XS - 3.3 bpw"),
    MOSTLY_IQ3_XXS(23, "IQ3_XXS - 3.0625 bpw"),
    MOSTLY_IQ1_S(24, "IQ1_S - 1.5625 bpw"),
    MOSTLY_IQ4_NL(25, "IQ4_NL - 4.5 bpw"),
    MOSTLY_IQ3_S(26, "IQ3_S - 3.4375 bpw"),
    MOSTLY_IQ3_M(27, "IQ3_S mix - 3.66 bpw"),
    MOSTLY_IQ2_S(28, "IQ2_S - 2.5 bpw"),
    MOSTLY_IQ2_M(29, "IQ2_M - 2.7 bpw"),
    MOSTLY_IQ4_XS(30, "IQ4_XS - 4.25 bpw"),
    MOSTLY_IQ1_M(31, "IQ1_M - 1.75 bpw"),
    MOSTLY_BF16(32, "BF16"),
    // 33-35: Q4_0_4_4, Q4_0_4_8, Q4_0_8_8 were removed from GGUF files (runtime repacking instead)
    MOSTLY_TQ1_0(36, "TQ1_0 - 1.69 bpw ternary"),
    MOSTLY_TQ2_0(37, "TQ2_0 - 2.06 bpw ternary"),
    MOSTLY_MXFP4_MOE(38, "MXFP4 MoE"),
    MOSTLY_NVFP4(39, "NVFP4"),
    MOSTLY_Q1_0(40, "Q1_0"),
    MOSTLY_Q2_0(41, "Q2_0");

    /** llama.cpp's LLAMA_FTYPE_GUESSED: the file had no general.file_type and the loader guessed. */
    public static final int GUESSED = 1024;

    private final int id;
    private final String description;

    GgufFileType(int id, String description) {
        this.id = id;
        this.description = description;
    }

    /** The {@code general.file_type} value. */
    public int id() {
        return id;
    }

    /** The name llama.cpp prints for this file type ("Q4_K - Medium"). */
    public String description() {
        return description;
    }

    /** The short name users pass to llama-quantize and see in file names ("Q4_K_M", "F16"). */
    public String shortName() {
        String n = name();
        return n.startsWith("MOSTLY_") ? n.substring(7) : n.startsWith("ALL_") ? n.substring(4) : n;
    }

    /** The type with this id (the {@link #GUESSED} flag ignored), or null. */
    public static GgufFileType fromId(long id) {
        long bare = id & ~GUESSED;
        for (GgufFileType t : values()) {
            if (t.id == bare) {
                return t;
            }
        }
        return null;
    }

    /**
     * llama.cpp's text for a raw {@code general.file_type} value: the description, prefixed with
     * "(guessed) " when the {@link #GUESSED} flag is set, or "unknown, may not work".
     */
    public static String describe(long rawId) {
        GgufFileType t = fromId(rawId);
        String name = t == null ? "unknown, may not work" : t.description;
        return (rawId & GUESSED) != 0 ? "(guessed) " + name : name;
    }

    /**
     * The file type llama.cpp's loader guesses from the type most tensors have, when a file has no
     * {@code general.file_type} (K-quants guess the Medium mix); {@link #ALL_F32} for types without one.
     */
    public static GgufFileType guessFrom(GgmlType mostCommon) {
        return switch (mostCommon) {
            case F32 -> ALL_F32;
            case F16 -> MOSTLY_F16;
            case BF16 -> MOSTLY_BF16;
            case Q4_0 -> MOSTLY_Q4_0;
            case Q4_1 -> MOSTLY_Q4_1;
            case Q5_0 -> MOSTLY_Q5_0;
            case Q5_1 -> MOSTLY_Q5_1;
            case Q8_0 -> MOSTLY_Q8_0;
            case Q2_K -> MOSTLY_Q2_K;
            case Q3_K -> MOSTLY_Q3_K_M;
            case Q4_K -> MOSTLY_Q4_K_M;
            case Q5_K -> MOSTLY_Q5_K_M;
            case Q6_K -> MOSTLY_Q6_K;
            case TQ1_0 -> MOSTLY_TQ1_0;
            case TQ2_0 -> MOSTLY_TQ2_0;
            case IQ2_XXS -> MOSTLY_IQ2_XXS;
            case IQ2_XS -> MOSTLY_IQ2_XS;
            case IQ2_S -> MOSTLY_IQ2_S;
            case IQ3_XXS -> MOSTLY_IQ3_XXS;
            case IQ1_S -> MOSTLY_IQ1_S;
            case IQ1_M -> MOSTLY_IQ1_M;
            case IQ4_NL -> MOSTLY_IQ4_NL;
            case IQ4_XS -> MOSTLY_IQ4_XS;
            case IQ3_S -> MOSTLY_IQ3_S;
            case Q8_1, Q8_K, I8, I16, I32, I64, F64, MXFP4 -> ALL_F32;
        };
    }
}
