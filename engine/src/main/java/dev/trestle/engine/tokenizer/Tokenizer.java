package dev.trestle.engine.tokenizer;

import dev.trestle.engine.gguf.GgufMetadata;

/**
 * Text to token ids and back, built from a GGUF file's {@code tokenizer.ggml.*} metadata, with
 * llama.cpp's exact behaviour (the contract the engine, the CLI and the server rely on).
 */
public interface Tokenizer {

    /** Builds the tokenizer the metadata describes; fails naming an unknown model or pre-tokenizer. */
    static Tokenizer fromGguf(GgufMetadata metadata) {
        return TokenizerFactory.create(metadata);
    }

    /**
     * Tokenizes {@code text}.
     *
     * @param addSpecial   add BOS/EOS as the vocabulary asks ({@code add_bos_token}/{@code add_eos_token})
     * @param parseSpecial recognise control/special token texts (e.g. "&lt;|im_start|&gt;") in {@code text}
     */
    int[] encode(String text, boolean addSpecial, boolean parseSpecial);

    /**
     * Detokenizes a whole sequence (llama.cpp's {@code llama_detokenize}, with its leading-space rules
     * and, for vocabularies that ask for it, HF's clean-up of spaces before punctuation).
     *
     * @param skipSpecial drop a leading BOS / trailing EOS the vocabulary adds and render control tokens
     *                    as nothing ({@code remove_special = true, unparse_special = false}); otherwise
     *                    control tokens are rendered as their text
     */
    String decode(int[] ids, boolean skipSpecial);

    /**
     * The raw bytes token {@code id} contributes to the output, as llama.cpp's {@code token_to_piece}
     * produces them (byte tokens become their byte; SPM's U+2581 becomes a space). Streaming callers
     * feed these to a {@link Utf8Stream} so no broken character is ever emitted.
     */
    byte[] pieceBytes(int id, boolean special);

    /** The token's text as stored in the vocabulary. */
    String tokenText(int id);

    int vocabSize();

    /** Beginning-of-sequence id, or -1 when the vocabulary has none. */
    int bos();

    /** End-of-sequence id, or -1. */
    int eos();

    /** True for every end-of-generation token (EOS, EOT, &lt;|im_end|&gt;, ...). */
    boolean isEog(int id);

    /** True for control tokens (not shown unless special output is asked for). */
    boolean isControl(int id);

    /** Whether {@code encode(text, addSpecial = true, ...)} starts with BOS ({@code add_bos_token}). */
    boolean addsBos();

    /** The {@code tokenizer.ggml.model} name ("llama", "gpt2", "bert", ...; "none" without vocabulary). */
    String model();
}
