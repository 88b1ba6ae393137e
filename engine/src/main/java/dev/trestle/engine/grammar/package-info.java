/**
 * Constrained decoding: GBNF grammars (llama.cpp's format) and JSON schemas, applied to the logits before
 * sampling.
 *
 * <h2>Pieces</h2>
 * <ul>
 *   <li>{@link dev.trestle.engine.grammar.GbnfParser} parses GBNF text into a validated
 *       {@link dev.trestle.engine.grammar.Grammar} (undefined rules, unbalanced parentheses, bad escapes and
 *       left recursion are {@link dev.trestle.engine.grammar.GrammarException}s naming line and column).</li>
 *   <li>{@link dev.trestle.engine.grammar.JsonSchemaToGbnf} turns a JSON schema into GBNF with llama.cpp's
 *       rule-naming conventions; {@code jsonObject()} is the grammar for {@code response_format: json_object}.</li>
 *   <li>{@link dev.trestle.engine.grammar.GrammarMatcher} recognizes code points or UTF-8 bytes incrementally
 *       (a pushdown automaton over sets of parse stacks, like llama_grammar), keeping a partial UTF-8
 *       character between tokens.</li>
 *   <li>{@link dev.trestle.engine.grammar.VocabTrie} (one per vocabulary, shared, immutable) and
 *       {@link dev.trestle.engine.grammar.GrammarMask} (one per generating sequence): {@code apply(logits)}
 *       sets every token that cannot continue the grammar to -inf, {@code accept(token)} advances,
 *       {@code canEnd()} says whether end of generation is allowed. These three methods are the sampler's
 *       LogitFilter hook.</li>
 * </ul>
 *
 * <h2>Wiring (server and CLI)</h2>
 * <pre>{@code
 * Grammar g = switch (request) {
 *     case grammar text  -> GbnfParser.parse(text);                       // "grammar", --grammar(-file)
 *     case JSON schema   -> JsonSchemaToGbnf.toGrammar(schemaJson);       // "json_schema", --json-schema,
 *                                                                         // response_format json_schema
 *     case json_object   -> GbnfParser.parse(JsonSchemaToGbnf.jsonObject());
 * };                                                                      // GrammarException -> HTTP 400
 * VocabTrie trie = VocabTrie.of(tokenizer);   // once per model, shared by all requests
 * GrammarMask mask = new GrammarMask(g, trie);  // one per sequence
 * sampler.setFilter(mask::apply);              // the sampler masks before its chain
 * // after each sampled token: mask.accept(token); stop when mask.isFinished()
 * }</pre>
 *
 * <h2>How the mask stays fast</h2>
 * The automaton is memoized: parse stacks are hash-consed, sets of stacks are interned as states, and each
 * state caches its transitions (an array for ASCII, a partition of the code point space for the rest), so
 * after warm-up a character costs one array load. The allowed set is computed by walking the vocabulary's
 * byte trie depth-first: a rejected prefix prunes its whole subtree; a subtree whose bytes (all ASCII) all
 * loop back to the current state, such as plain text inside a JSON string, is accepted as one contiguous
 * token range without being walked; and finished sets are cached per state (64 most recent), so returning to
 * a state costs a bitset copy.
 *
 * <p>Measured per-step cost ({@code GrammarMaskBench} in the tests: JSON grammar, 300 runs after warm-up,
 * one thread, on the 2-core development VM shared with other jobs at load average ~15, so the best run is
 * the cost and the mean mostly measures preemption):
 * <table>
 *   <caption>mask computation per decode step (best / mean of 300)</caption>
 *   <tr><th>state</th><th>GPT-2, 50,257 tokens (98k trie nodes)</th><th>synthetic, 150,000 tokens (702k nodes)</th></tr>
 *   <tr><td>start of object, after a key</td><td>0.004–0.006 / 0.07–0.09 ms</td><td>0.002–0.003 / 0.004 ms</td></tr>
 *   <tr><td>start of a value, inside a number</td><td>0.016 / 0.14–0.3 ms</td><td>0.035 / 0.14–0.3 ms</td></tr>
 *   <tr><td>inside a string (nearly every token allowed: the worst case)</td><td>0.08 / 0.56 ms</td><td>0.6 / 2.8 ms</td></tr>
 *   <tr><td>applying a computed or cached set to the logits</td><td>0.01–0.1 ms</td><td>0.03–0.04 ms</td></tr>
 * </table>
 * The synthetic vocabulary is GPT-2's plus 100,000 random concatenations of two GPT-2 tokens (so its trie is
 * deeper than a real 150k BPE vocabulary's). Building the trie takes 60 ms for GPT-2 and 210 ms for the
 * synthetic 150k (best of 8), once per model.
 *
 * <h2>Limits</h2>
 * Memory of the memoized automaton grows with the distinct parse states a generation visits (bounded by its
 * length). Not thread-safe per mask; the trie is shared. llama.cpp's newer token-reference syntax in GBNF
 * ({@code <[id]>}, {@code <|token|>}) is not supported.
 */
package dev.trestle.engine.grammar;
