package dev.trestle.server.serving;

import dev.trestle.engine.sampling.LogitFilter;
import dev.trestle.engine.sampling.SamplerConfig;
import java.util.List;

/**
 * One completion to run: the prompt as token ids and how to generate from it.
 *
 * @param promptIds   tokenized prompt (special tokens already added)
 * @param sampling    sampler parameters
 * @param maxTokens   tokens to generate at most; -1 = until the slot's context is full
 * @param stops       stop strings (never sent to the client)
 * @param ignoreEos   keep generating past end-of-generation tokens
 * @param topLogprobs when {@code logprobs} is on, how many alternatives per token (0 = only the chosen one)
 * @param logprobs    report log-probabilities of the chosen tokens
 * @param cachePrompt reuse a slot's cached prefix (llama-server's cache_prompt, default on)
 * @param filter      grammar or other mask applied before sampling; null for none
 * @param embedding   compute a pooled embedding instead of generating
 */
public record GenerationRequest(int[] promptIds, SamplerConfig sampling, int maxTokens, List<String> stops,
                                boolean ignoreEos, int topLogprobs, boolean logprobs, boolean cachePrompt,
                                LogitFilter filter, boolean embedding) {

    public GenerationRequest {
        promptIds = promptIds.clone();
        stops = List.copyOf(stops);
    }

    /** An embedding request for {@code ids}. */
    public static GenerationRequest embeddingOf(int[] ids) {
        return new GenerationRequest(ids, SamplerConfig.greedy(), 0, List.of(), false, 0, false, false, null, true);
    }
}
