package dev.trestle.engine.tokenizer;

import dev.trestle.common.TrestleException;
import dev.trestle.engine.gguf.GgufMetadata;

/** Chooses the tokenizer implementation from {@code tokenizer.ggml.model}. */
final class TokenizerFactory {
    private TokenizerFactory() {
    }

    static Tokenizer create(GgufMetadata m) {
        String model = m.getString("tokenizer.ggml.model", "none");
        throw new TrestleException("tokenizer model '" + model + "' is not supported yet",
                "use --prompt-ids to pass token ids");
    }
}
