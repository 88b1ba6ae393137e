/**
 * Tokenizers built from a GGUF file's {@code tokenizer.ggml.*} metadata, reproducing llama.cpp's
 * {@code llama-vocab.cpp} token for token.
 *
 * <p>{@link dev.trestle.engine.tokenizer.Tokenizer#fromGguf} reads the vocabulary
 * ({@code Vocabulary}: ids, scores, token types, special ids, add-BOS/EOS rules, the
 * end-of-generation set and the special tokens llama.cpp recognises by their text) and picks the
 * algorithm from {@code tokenizer.ggml.model}:
 * <ul>
 *   <li>{@code llama}: SentencePiece BPE ({@code SpmEncoder}), highest-score merge first, byte fallback;</li>
 *   <li>{@code gpt2} / {@code gemma4}: byte-level BPE ({@code BpeEncoder}) after the regex pre-tokenizer that
 *       {@code tokenizer.ggml.pre} names ({@code PreTokenizer}, {@code RegexSplitter}); an unknown name is an error;</li>
 *   <li>{@code bert}: WordPiece ({@code WordPieceEncoder}); {@code t5}: unigram Viterbi ({@code UnigramEncoder});</li>
 *   <li>{@code no_vocab} / {@code none}: ids only; tokenizing text fails with a hint to use {@code --prompt-ids}.</li>
 * </ul>
 *
 * <p>Encoding first cuts special-token texts out of the input (longest first; control tokens only with
 * {@code parseSpecial}, user-defined ones always), then runs the algorithm on the text between them.
 * Merge loops use a binary heap keyed by (rank or score, left index) and id-pair merge tables, so
 * they never build strings. Decoding renders each token's bytes ({@code pieceBytes}); a
 * {@link dev.trestle.engine.tokenizer.Utf8Stream} turns a token stream into text without ever
 * emitting half a character.
 *
 * <p>Deliberate difference: Unicode categories come from the JDK (Unicode 16), llama.cpp's table is
 * generated from an older UnicodeData.txt, so code points assigned since then may split differently.
 */
package dev.trestle.engine.tokenizer;
