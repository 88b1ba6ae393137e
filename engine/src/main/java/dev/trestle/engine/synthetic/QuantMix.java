package dev.trestle.engine.synthetic;

import dev.trestle.backends.type.GgmlType;
import dev.trestle.common.TrestleException;
import dev.trestle.engine.gguf.GgufFileType;
import java.util.Locale;

/**
 * Which storage type each tensor gets for a file type ("Q4_K_M"), following llama-quantize's choices without an
 * importance matrix, so a synthetic file has the same bytes per tensor as a file quantized by llama.cpp.
 */
public final class QuantMix {
    /** The part of the model a weight belongs to, as far as the mix rules care. */
    public enum Role {
        TOKEN_EMBD, OUTPUT, ATTN_Q, ATTN_K, ATTN_V, ATTN_OUT, FFN_GATE, FFN_UP, FFN_DOWN, ROUTER, NORM, OTHER;

        /** The role of a tensor by its llama.cpp name ("blk.3.ffn_down_exps.weight" is FFN_DOWN). */
        public static Role ofTensorName(String name) {
            String n = name.endsWith(".weight") ? name.substring(0, name.length() - ".weight".length()) : name;
            String part = n.startsWith("blk.") ? n.substring(n.indexOf('.', 4) + 1) : n;
            return switch (part) {
                case "token_embd" -> TOKEN_EMBD;
                case "output" -> OUTPUT;
                case "attn_q" -> ATTN_Q;
                case "attn_k" -> ATTN_K;
                case "attn_v" -> ATTN_V;
                case "attn_output" -> ATTN_OUT;
                case "ffn_gate", "ffn_gate_exps" -> FFN_GATE;
                case "ffn_up", "ffn_up_exps" -> FFN_UP;
                case "ffn_down", "ffn_down_exps" -> FFN_DOWN;
                case "ffn_gate_inp" -> ROUTER;
                default -> part.endsWith("_norm") ? NORM : OTHER;
            };
        }
    }

    private final GgufFileType fileType;
    private final GgmlType base;

    private QuantMix(GgufFileType fileType, GgmlType base) {
        this.fileType = fileType;
        this.base = base;
    }

    /** The mix for a file type name as llama-quantize spells it (Q4_0, Q8_0, Q4_K_M, F16 ...). */
    public static QuantMix of(String name) {
        String n = name.trim().toUpperCase(Locale.ROOT);
        return switch (n) {
            case "F32" -> new QuantMix(GgufFileType.ALL_F32, GgmlType.F32);
            case "F16" -> new QuantMix(GgufFileType.MOSTLY_F16, GgmlType.F16);
            case "BF16" -> new QuantMix(GgufFileType.MOSTLY_BF16, GgmlType.BF16);
            case "Q4_0" -> new QuantMix(GgufFileType.MOSTLY_Q4_0, GgmlType.Q4_0);
            case "Q4_1" -> new QuantMix(GgufFileType.MOSTLY_Q4_1, GgmlType.Q4_1);
            case "Q5_0" -> new QuantMix(GgufFileType.MOSTLY_Q5_0, GgmlType.Q5_0);
            case "Q5_1" -> new QuantMix(GgufFileType.MOSTLY_Q5_1, GgmlType.Q5_1);
            case "Q8_0" -> new QuantMix(GgufFileType.MOSTLY_Q8_0, GgmlType.Q8_0);
            case "Q4_K_S" -> new QuantMix(GgufFileType.MOSTLY_Q4_K_S, GgmlType.Q4_K);
            case "Q4_K_M", "Q4_K" -> new QuantMix(GgufFileType.MOSTLY_Q4_K_M, GgmlType.Q4_K);
            case "Q5_K_S" -> new QuantMix(GgufFileType.MOSTLY_Q5_K_S, GgmlType.Q5_K);
            case "Q5_K_M", "Q5_K" -> new QuantMix(GgufFileType.MOSTLY_Q5_K_M, GgmlType.Q5_K);
            case "Q6_K" -> new QuantMix(GgufFileType.MOSTLY_Q6_K, GgmlType.Q6_K);
            default -> throw new TrestleException("synthetic models can not be written as " + name,
                    "use one of F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K_S, Q4_K_M, Q5_K_S, Q5_K_M, Q6_K");
        };
    }

    /** The value of {@code general.file_type}. */
    public GgufFileType fileType() {
        return fileType;
    }

    /** The file type's name for file names (Q4_K_M). */
    public String label() {
        return fileType.name().replace("MOSTLY_", "").replace("ALL_", "");
    }

    /**
     * The storage type of a weight: {@code layer} of {@code nLayer} (ignored outside blocks), {@code rowLength}
     * its first dimension, {@code tied} whether token_embd doubles as the output matrix.
     */
    public GgmlType typeOf(Role role, int layer, int nLayer, long rowLength, boolean tied) {
        if (role == Role.NORM || role == Role.ROUTER || role == Role.OTHER) {
            return GgmlType.F32; // 1-D tensors and the router stay F32 in llama-quantize
        }
        if (!base.isQuantized()) {
            return base;
        }
        GgmlType t = base;
        boolean moreBits = layer < nLayer / 8 || layer >= 7 * nLayer / 8 || (layer - nLayer / 8) % 3 == 2;
        switch (role) {
            case OUTPUT -> t = outputType(rowLength);
            case TOKEN_EMBD -> t = tied ? outputType(rowLength) : base;
            case ATTN_V -> {
                if ((fileType == GgufFileType.MOSTLY_Q4_K_M || fileType == GgufFileType.MOSTLY_Q5_K_M) && moreBits) {
                    t = GgmlType.Q6_K;
                } else if (fileType == GgufFileType.MOSTLY_Q4_K_S && layer < 4) {
                    t = GgmlType.Q5_K;
                }
            }
            case FFN_DOWN -> {
                if ((fileType == GgufFileType.MOSTLY_Q4_K_M || fileType == GgufFileType.MOSTLY_Q5_K_M) && moreBits) {
                    t = GgmlType.Q6_K;
                } else if (fileType == GgufFileType.MOSTLY_Q4_K_S && layer < nLayer / 8) {
                    t = GgmlType.Q5_K;
                }
            }
            default -> {
                // attn_q, attn_k, attn_output, ffn_gate, ffn_up keep the base type for these file types
            }
        }
        return fallback(t, rowLength);
    }

    private GgmlType outputType(long rowLength) {
        if (rowLength % GgmlType.Q6_K.blockSize() != 0) {
            return GgmlType.Q8_0;
        }
        return base == GgmlType.Q8_0 ? GgmlType.Q8_0 : GgmlType.Q6_K;
    }

    /** llama-quantize's replacement when a row is not a whole number of the type's blocks. */
    private static GgmlType fallback(GgmlType t, long rowLength) {
        if (rowLength % t.blockSize() == 0) {
            return t;
        }
        GgmlType f = switch (t) {
            case Q4_K -> GgmlType.Q5_0;
            case Q5_K -> GgmlType.Q5_1;
            case Q6_K -> GgmlType.Q8_0;
            default -> GgmlType.F16;
        };
        return rowLength % f.blockSize() == 0 ? f : GgmlType.F16;
    }
}
