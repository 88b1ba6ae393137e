/**
 * Token sampling: {@link dev.trestle.engine.sampling.Sampler} runs llama.cpp's default chain
 * (logit bias, penalties, top-k, typical-p, top-p, min-p, temperature, seeded draw) configured by
 * {@link dev.trestle.engine.sampling.SamplerConfig}; a {@link dev.trestle.engine.sampling.LogitFilter}
 * (grammar) masks logits before the chain.
 */
package dev.trestle.engine.sampling;
