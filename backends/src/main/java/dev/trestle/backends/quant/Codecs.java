package dev.trestle.backends.quant;

import dev.trestle.backends.type.GgmlType;
import dev.trestle.common.TrestleException;
import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;
import java.util.Set;

/** The registry of reference codecs, one per supported {@link GgmlType}. */
public final class Codecs {
    private static final Map<GgmlType, QuantCodec> BY_TYPE = new EnumMap<>(GgmlType.class);

    static {
        register(new F32Codec());
        register(new F16Codec());
        register(new BF16Codec());
        register(new Q4_0Codec());
        register(new Q4_1Codec());
        register(new Q5_0Codec());
        register(new Q5_1Codec());
        register(new Q8_0Codec());
        register(new Q8_1Codec());
        register(new Q2KCodec());
        register(new Q3KCodec());
        register(new Q4KCodec());
        register(new Q5KCodec());
        register(new Q6KCodec());
        register(new Q8KCodec());
        register(new IQ4_NLCodec());
        register(new IQ4_XSCodec());
        register(new MXFP4Codec());
    }

    private Codecs() {
    }

    private static void register(QuantCodec c) {
        BY_TYPE.put(c.type(), c);
    }

    /** True when a codec exists for {@code type}. */
    public static boolean isSupported(GgmlType type) {
        return BY_TYPE.containsKey(type);
    }

    /** The types that have a codec. */
    public static Set<GgmlType> supported() {
        return Collections.unmodifiableSet(BY_TYPE.keySet());
    }

    /**
     * The codec for {@code type}.
     *
     * @throws TrestleException naming the type when none exists
     */
    public static QuantCodec of(GgmlType type) {
        QuantCodec c = BY_TYPE.get(type);
        if (c == null) {
            throw new TrestleException("tensor type " + type.llamaName() + " (ggml id " + type.id()
                    + ") is not supported: no codec for it",
                    "re-quantize the model to a supported type: " + names());
        }
        return c;
    }

    /**
     * The codec for writing {@code type}.
     *
     * @throws TrestleException naming the type when it can not be quantized to
     */
    public static QuantCodec quantizerOf(GgmlType type) {
        QuantCodec c = of(type);
        if (!c.canQuantize()) {
            throw new TrestleException("quantizing to " + type.llamaName() + " is not supported",
                    "choose another target type");
        }
        return c;
    }

    private static String names() {
        StringBuilder sb = new StringBuilder();
        for (GgmlType t : BY_TYPE.keySet()) {
            sb.append(sb.isEmpty() ? "" : ", ").append(t.llamaName());
        }
        return sb.toString();
    }
}
