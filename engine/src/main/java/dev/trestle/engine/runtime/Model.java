package dev.trestle.engine.runtime;

import dev.trestle.backends.spi.OpKind;
import dev.trestle.common.TrestleException;
import dev.trestle.engine.gguf.GgufFile;
import dev.trestle.engine.gguf.GgufTensorInfo;
import dev.trestle.engine.model.Arch;
import dev.trestle.engine.model.DecoderModel;
import dev.trestle.engine.model.ModelConfig;
import dev.trestle.engine.model.TensorKind;
import dev.trestle.engine.model.WeightLoader;
import java.util.ArrayList;
import java.util.List;

/** A loaded model: its architecture, hyperparameters and mapped weights. Contexts are created from it. */
public final class Model implements AutoCloseable {
    private final GgufFile file;
    private final Arch arch;
    private final ModelConfig config;
    private final DecoderModel impl;

    private Model(GgufFile file, Arch arch, ModelConfig config, DecoderModel impl) {
        this.file = file;
        this.arch = arch;
        this.config = config;
        this.impl = impl;
    }

    /**
     * Reads the architecture and hyperparameters and binds every weight of {@code file} (which the model then
     * owns and closes). Fails with the architecture's name when it is not supported.
     */
    public static Model load(GgufFile file, EngineOptions options) {
        String name = file.metadata().architecture();
        if (name == null) {
            throw new TrestleException("the GGUF file has no general.architecture", "pass a model file");
        }
        Arch arch = Arch.fromGguf(name);
        DecoderModel impl = arch.create();
        ModelConfig cfg = impl.readHParams(arch, file.metadata());
        if (cfg.nEmbd() <= 0 || cfg.nLayer() <= 0 || cfg.nHead() <= 0 || cfg.headDim() <= 0
                || cfg.nHeadKv() <= 0 || cfg.nHead() % cfg.nHeadKv() != 0) {
            throw new TrestleException("invalid hyperparameters in " + file.path() + ": " + cfg,
                    "the model file is corrupt");
        }
        impl.load(cfg, new WeightLoader(file));
        return new Model(file, arch, cfg, impl);
    }

    public Arch arch() {
        return arch;
    }

    public ModelConfig config() {
        return config;
    }

    public GgufFile file() {
        return file;
    }

    DecoderModel impl() {
        return impl;
    }

    /**
     * The memory profile the scheduler plans with: every tensor the architecture reads, with its bytes, layer,
     * role and op. Tensors no supported graph reads ({@code .input_scale}, {@code cls.output}) are left out.
     */
    public List<TensorUse> tensorUses() {
        List<TensorUse> uses = new ArrayList<>();
        for (GgufTensorInfo t : file.tensors().values()) {
            TensorKind.Classified c = TensorKind.classify(t.name());
            if (c == null || c.suffix().equals("input_scale")) {
                continue;
            }
            OpKind op;
            if (!c.suffix().equals("weight") || t.rank() == 1) {
                op = OpKind.MUL;
            } else if (c.kind() == TensorKind.TOKEN_EMBD) {
                op = OpKind.GET_ROWS;
            } else if (c.kind().role() == TensorKind.LayerRole.EXPERT_FFN && t.rank() == 3) {
                op = OpKind.MUL_MAT_ID;
            } else {
                op = OpKind.MUL_MAT;
            }
            uses.add(new TensorUse(t.name(), t.type(), t.bytes(), c.layer(), c.kind().role(), op));
        }
        return uses;
    }

    /** Creates a context (KV cache and buffers) with these options. */
    public Context newContext(EngineOptions options) {
        return new Context(this, options);
    }

    /** Creates a context whose layers run where {@code offload} puts them (CPU or Vulkan devices). */
    public Context newContext(EngineOptions options, Offload offload) {
        return new Context(this, options, offload);
    }

    @Override
    public void close() {
        file.close();
    }
}
