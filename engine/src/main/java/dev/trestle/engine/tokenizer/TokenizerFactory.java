package dev.trestle.engine.tokenizer;

import dev.trestle.engine.gguf.GgufMetadata;

/** Builds the tokenizer that {@code tokenizer.ggml.model} names. */
final class TokenizerFactory {
    private TokenizerFactory() {
    }

    static Tokenizer create(GgufMetadata m) {
        return new GgufTokenizer(Vocabulary.load(m));
    }
}
