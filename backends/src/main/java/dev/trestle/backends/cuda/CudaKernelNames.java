package dev.trestle.backends.cuda;

import dev.trestle.backends.cpu.RowQuantizer;
import dev.trestle.backends.cpu.kernel.RowKernels;
import dev.trestle.backends.type.GgmlType;
import dev.trestle.common.TrestleException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Names of the per-type kernels in Trestle's CUDA modules ({@code mmv_q4_k}, {@code get_rows_f16}, ...), and
 * which storage types have them. The weight types are exactly the CPU backend's, so a model that loads on the
 * CPU loads on CUDA; the KV cache types are the CPU's cache types.
 */
public final class CudaKernelNames {
    /** Weight types with matvec, get_rows and dequant_f16 kernels. */
    public static final Set<GgmlType> WEIGHT_TYPES = EnumSet.of(GgmlType.F32, GgmlType.F16, GgmlType.BF16,
            GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q5_1, GgmlType.Q8_0, GgmlType.IQ4_NL,
            GgmlType.MXFP4, GgmlType.Q2_K, GgmlType.Q3_K, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K,
            GgmlType.IQ4_XS);
    /** KV cache types with set_rows kernels and attention support. */
    public static final Set<GgmlType> CACHE_TYPES = EnumSet.copyOf(Arrays.asList(RowQuantizer.CACHE_TYPES));

    /** The element-wise, norm, rope, attention and GEMM kernels (type-independent). */
    public static final List<String> FIXED = List.of("quantize_q8_0", "quantize_q8_k", "convert_f32_f16", "gemm_f16",
            "rms_norm", "layer_norm", "add_f32", "mul_f32", "scale_f32", "silu_f32", "gelu_f32", "swiglu_f32",
            "geglu_f32", "softcap_f32", "softmax_f32", "top_k_f32", "rope_f32", "gather_rows_f32", "moe_combine_f32",
            "sigmoid_f32", "moe_weights_f32", "scale_by_expert_f32", "shexp_gate_f32",
            "flash_attn_ext", "attn_plain");

    private CudaKernelNames() {
    }

    /** The kernel-name suffix of a type: {@code q4_k}, {@code iq4_nl}, {@code bf16}. */
    public static String suffix(GgmlType t) {
        return t.name().toLowerCase(Locale.ROOT);
    }

    /** The matvec kernel for weights of {@code t}; fails naming the tensor when CUDA has none. */
    public static String matvec(GgmlType t, String tensor) {
        requireWeight(t, tensor);
        return "mmv_" + suffix(t);
    }

    public static String getRows(GgmlType t) {
        requireWeight(t, "token_embd");
        return "get_rows_" + suffix(t);
    }

    public static String dequantF16(GgmlType t) {
        requireWeight(t, "a weight");
        return "dequant_f16_" + suffix(t);
    }

    public static String setRows(GgmlType t) {
        if (!CACHE_TYPES.contains(t)) {
            throw new TrestleException("the CUDA backend cannot store KV cache rows as " + t.llamaName(),
                    "use -ctk/-ctv f16, bf16, q8_0, q5_1, q5_0, q4_1, q4_0 or f32");
        }
        return "set_rows_" + suffix(t);
    }

    /**
     * The activation format the matvec of {@code t} reads: the CPU backend's vec_dot type (Q8_0, Q8_1, Q8_K, or
     * the float type itself), which keeps CUDA's quantized dot products on the CPU's numerics.
     */
    public static GgmlType dotType(GgmlType t) {
        return RowKernels.forType(t, "a " + t.llamaName() + " weight").dotType();
    }

    /** Every kernel the Java side launches (checked against the fatbins by a test). */
    public static List<String> all() {
        List<String> l = new ArrayList<>(FIXED);
        for (GgmlType t : WEIGHT_TYPES) {
            l.add(matvec(t, "x"));
            l.add(getRows(t));
            l.add(dequantF16(t));
        }
        for (GgmlType t : CACHE_TYPES) {
            l.add(setRows(t));
        }
        return l;
    }

    private static void requireWeight(GgmlType t, String tensor) {
        if (!WEIGHT_TYPES.contains(t)) {
            throw new TrestleException("tensor " + tensor + " has type " + t.llamaName()
                    + ", which the CUDA backend cannot multiply", "keep this tensor on the CPU with -ot, or "
                    + "re-quantize the model to a supported type");
        }
    }
}
