package dev.trestle.backends.cpu.kernel;

import dev.trestle.backends.type.GgmlType;
import dev.trestle.common.TrestleException;
import java.util.EnumMap;
import java.util.Map;

/** The CPU row kernel for each supported storage type; resolved once per weight at load time. */
public final class RowKernels {
    private static final Map<GgmlType, RowKernel> KERNELS = new EnumMap<>(GgmlType.class);
    private static final Map<GgmlType, RepackedKernel> REPACKED = new EnumMap<>(GgmlType.class);

    static {
        for (RowKernel k : new RowKernel[] {new F32Kernel(), new F16Kernel(), new BF16Kernel(), new Q8_0Kernel(),
                new Q4_0Kernel(), new Q4_1Kernel(), new Q5_0Kernel(), new Q5_1Kernel(), new IQ4_NLKernel(),
                new MXFP4Kernel(), new Q2_KKernel(), new Q3_KKernel(), new Q4_KKernel(), new Q5_KKernel(),
                new Q6_KKernel(), new IQ4_XSKernel()}) {
            KERNELS.put(k.weightType(), k);
        }
    }

    static {
        // one line per repacked layout (types without one multiply their stored rows in place)
        for (RepackedKernel k : new RepackedKernel[] {
                new Q4_0Repacked(),
                new Q8_0Repacked(),
                new Q4_KRepacked(),
                q6kLayout(),
                new Q5_KRepacked(),
        }) {
            REPACKED.put(k.weightType(), k);
        }
    }

    private RowKernels() {
    }

    /**
     * Q6_K's repacked layout: 6 bits per weight where the CPU permutes bytes in one instruction (AVX-512 VBMI),
     * else one byte per weight; {@code -Dtrestle.cpu.q6k=dense|bytes} picks one (A/B timing, tests).
     */
    private static RepackedKernel q6kLayout() {
        String pick = System.getProperty("trestle.cpu.q6k", "auto");
        boolean dense = switch (pick) {
            case "dense" -> true;
            case "bytes" -> false;
            default -> Q6_KDenseRepacked.usable();
        };
        return dense ? new Q6_KDenseRepacked() : new Q6_KRepacked();
    }

    /**
     * The load-time repacked layout for {@code type}, or null when the type has none (its stored rows are
     * multiplied in place). {@code -Dtrestle.cpu.repack=false} disables repacking (plain kernels only).
     */
    public static RepackedKernel repackedFor(GgmlType type) {
        return Boolean.parseBoolean(System.getProperty("trestle.cpu.repack", "true")) ? REPACKED.get(type) : null;
    }

    /** True when the CPU backend can multiply weights of this type. */
    public static boolean supports(GgmlType type) {
        return KERNELS.containsKey(type);
    }

    /**
     * The kernel for {@code type}.
     *
     * @param what names the tensor for the error message
     * @throws TrestleException naming the tensor, its type and the supported types
     */
    public static RowKernel forType(GgmlType type, String what) {
        RowKernel k = KERNELS.get(type);
        if (k == null) {
            throw new TrestleException("tensor " + what + " has type " + type.llamaName()
                    + ", which the CPU backend cannot multiply (supported: " + supportedNames() + ")",
                    "re-quantize the model to a supported type, e.g. with llama-quantize ... Q4_K_M");
        }
        return k;
    }

    static String supportedNames() {
        StringBuilder sb = new StringBuilder();
        for (GgmlType t : KERNELS.keySet()) {
            if (!sb.isEmpty()) {
                sb.append(", ");
            }
            sb.append(t.llamaName());
        }
        return sb.toString();
    }
}
