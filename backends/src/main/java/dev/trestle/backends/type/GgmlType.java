package dev.trestle.backends.type;

/**
 * The ggml tensor storage types, with their GGUF wire ids and block geometry.
 *
 * <p>Ids are explicit (never ordinals): the gaps are ids ggml retired (4, 5: Q4_2/Q4_3; 31-33 and
 * 36-38: repacked layouts that never appear in files).
 */
public enum GgmlType {
    F32(0, 1, 4),
    F16(1, 1, 2),
    Q4_0(2, 32, 18),
    Q4_1(3, 32, 20),
    Q5_0(6, 32, 22),
    Q5_1(7, 32, 24),
    Q8_0(8, 32, 34),
    Q8_1(9, 32, 36),
    Q2_K(10, 256, 84),
    Q3_K(11, 256, 110),
    Q4_K(12, 256, 144),
    Q5_K(13, 256, 176),
    Q6_K(14, 256, 210),
    Q8_K(15, 256, 292),
    IQ2_XXS(16, 256, 66),
    IQ2_XS(17, 256, 74),
    IQ3_XXS(18, 256, 98),
    IQ1_S(19, 256, 50),
    IQ4_NL(20, 32, 18),
    IQ3_S(21, 256, 110),
    IQ2_S(22, 256, 82),
    IQ4_XS(23, 256, 136),
    I8(24, 1, 1),
    I16(25, 1, 2),
    I32(26, 1, 4),
    I64(27, 1, 8),
    F64(28, 1, 8),
    IQ1_M(29, 256, 56),
    BF16(30, 1, 2),
    TQ1_0(34, 256, 54),
    TQ2_0(35, 256, 66),
    MXFP4(39, 32, 17);

    private static final GgmlType[] BY_ID = new GgmlType[64];

    static {
        for (GgmlType t : values()) {
            BY_ID[t.id] = t;
        }
    }

    private final int id;
    private final int blockSize;
    private final int bytesPerBlock;

    GgmlType(int id, int blockSize, int bytesPerBlock) {
        this.id = id;
        this.blockSize = blockSize;
        this.bytesPerBlock = bytesPerBlock;
    }

    /** The GGUF/ggml wire id. */
    public int id() {
        return id;
    }

    /** Elements per block (1 for plain types). */
    public int blockSize() {
        return blockSize;
    }

    /** Bytes per block. */
    public int bytesPerBlock() {
        return bytesPerBlock;
    }

    /** True for block-quantized types (everything but the plain float and integer types). */
    public boolean isQuantized() {
        return blockSize > 1;
    }

    /**
     * Bytes needed for {@code elements} values, or -1 when {@code elements} is not a multiple of the
     * block size (such a row cannot be stored in this type).
     */
    public long bytesFor(long elements) {
        if (elements < 0 || elements % blockSize != 0) {
            return -1;
        }
        return Math.multiplyExact(elements / blockSize, (long) bytesPerBlock);
    }

    /** True when a type with this id exists. */
    public static boolean isKnownId(long id) {
        return id >= 0 && id < BY_ID.length && BY_ID[(int) id] != null;
    }

    /**
     * The type with wire id {@code id}.
     *
     * @throws IllegalArgumentException naming the id when no such type exists
     */
    public static GgmlType fromId(long id) {
        if (!isKnownId(id)) {
            throw new IllegalArgumentException("unknown ggml type id " + id
                    + " (known: 0-3, 6-30, 34, 35, 39; the file may need a newer Trestle)");
        }
        return BY_ID[(int) id];
    }

    /**
     * The type named {@code name}, case-insensitive, as llama.cpp spells it ("q4_0", "f16", "bf16").
     *
     * @throws IllegalArgumentException listing the valid names
     */
    public static GgmlType fromName(String name) {
        for (GgmlType t : values()) {
            if (t.name().equalsIgnoreCase(name)) {
                return t;
            }
        }
        throw new IllegalArgumentException("unknown type '" + name + "'");
    }

    /** The lower-case name llama.cpp prints ("q4_K", "f16"). */
    public String llamaName() {
        String n = name().toLowerCase(java.util.Locale.ROOT);
        return n.endsWith("_k") ? n.substring(0, n.length() - 1) + "K" : n;
    }
}
