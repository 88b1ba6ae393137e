package dev.trestle.engine.tokenizer;

/** The tokenization algorithm a vocabulary uses ({@code tokenizer.ggml.model}). */
enum VocabType {
    /** {@code no_vocab} / {@code none}: token ids only. */
    NONE,
    /** {@code llama}: SentencePiece BPE over characters with byte fallback. */
    SPM,
    /** {@code gpt2}: byte-level BPE with a regex pre-tokenizer. */
    BPE,
    /** {@code bert}: WordPiece. */
    WPM,
    /** {@code t5}: SentencePiece unigram. */
    UGM
}
