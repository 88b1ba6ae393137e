package dev.trestle.server.serving;

import dev.trestle.engine.grammar.Grammar;
import dev.trestle.engine.sampling.SamplerConfig;
import java.util.List;
import java.util.Set;

/**
 * One completion to run: the prompt as token ids and how to generate from it.
 *
 * @param promptIds       tokenized prompt (special tokens already added)
 * @param sampling        sampler parameters
 * @param maxTokens       tokens to generate at most; -1 = until the slot's context is full
 * @param stops           stop strings (never sent to the client)
 * @param ignoreEos       keep generating past end-of-generation tokens
 * @param topLogprobs     when {@code logprobs} is on, how many alternatives per token (0 = only the chosen one)
 * @param logprobs        report log-probabilities of the chosen tokens
 * @param cachePrompt     reuse a slot's cached prefix (llama-server's cache_prompt, default on)
 * @param grammar         grammar the output must follow (the loop masks the logits with it and stops when
 *                        it is complete); null for none
 * @param embedding       compute a pooled embedding instead of generating
 * @param grammarTriggers when not empty the grammar is lazy: generation is free until one of these strings
 *                        appears in the output, and the grammar applies from where it starts (llama.cpp's lazy
 *                        grammars, as for tool calls with tool_choice auto)
 * @param preservedTokens control tokens whose text is part of the output (tool-call markers such as
 *                        {@code <|python_tag|>}, which the chat parser needs to see, and which a grammar may then
 *                        produce); others print as nothing
 */
public record GenerationRequest(int[] promptIds, SamplerConfig sampling, int maxTokens, List<String> stops,
                                boolean ignoreEos, int topLogprobs, boolean logprobs, boolean cachePrompt,
                                Grammar grammar, List<String> grammarTriggers, boolean embedding,
                                Set<Integer> preservedTokens) {

    public GenerationRequest {
        promptIds = promptIds.clone();
        stops = List.copyOf(stops);
        grammarTriggers = grammarTriggers == null ? List.of() : List.copyOf(grammarTriggers);
        preservedTokens = preservedTokens == null ? Set.of() : Set.copyOf(preservedTokens);
    }

    /** An embedding request for {@code ids}. */
    public static GenerationRequest embeddingOf(int[] ids) {
        return new GenerationRequest(ids, SamplerConfig.greedy(), 0, List.of(), false, 0, false, false, null, List.of(),
                true, Set.of());
    }
}
