package dev.trestle.engine.model;

import dev.trestle.common.TrestleException;
import java.util.Arrays;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/** The architectures Trestle runs, by their GGUF {@code general.architecture} name. */
public enum Arch {
    LLAMA("llama", LlamaModel::new),
    QWEN2("qwen2", Qwen2Model::new),
    QWEN2MOE("qwen2moe", Qwen2MoeModel::new),
    QWEN3("qwen3", Qwen3Model::new),
    QWEN3MOE("qwen3moe", Qwen3MoeModel::new),
    PHI3("phi3", Phi3Model::new),
    GEMMA2("gemma2", Gemma2Model::new),
    GEMMA3("gemma3", Gemma3Model::new),
    OLMOE("olmoe", OlmoeModel::new);

    private final String ggufName;
    private final Supplier<DecoderModel> factory;

    Arch(String ggufName, Supplier<DecoderModel> factory) {
        this.ggufName = ggufName;
        this.factory = factory;
    }

    public String ggufName() {
        return ggufName;
    }

    /** A fresh, unloaded instance of this architecture's model class. */
    public DecoderModel create() {
        return factory.get();
    }

    /** The architecture named {@code name}; fails naming it and listing the supported ones. */
    public static Arch fromGguf(String name) {
        for (Arch a : values()) {
            if (a.ggufName.equals(name)) {
                return a;
            }
        }
        throw new TrestleException("unsupported model architecture '" + name + "'",
                "Trestle supports: " + Arrays.stream(values()).map(Arch::ggufName).collect(Collectors.joining(", ")));
    }
}
