/**
 * Knowing what a model file is before running it: {@link dev.trestle.engine.trust.ModelReport} summarises
 * what a GGUF claims (architecture, quant mix, context, tokenizer, chat template, licence) and lists
 * suspicious metadata; {@link dev.trestle.engine.gguf.GgufFileType} names {@code general.file_type}.
 */
package dev.trestle.engine.trust;
