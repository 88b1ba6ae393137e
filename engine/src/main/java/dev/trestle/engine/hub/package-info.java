/**
 * Getting models: Hugging Face repository references and file choice (llama.cpp's {@code -hf} rules),
 * the hub's HTTP API, resumable verified downloads, the local model cache with its index, resolving a
 * command line's model source to a local file, and the offline demo model.
 *
 * <p>Every download is checked against the size and sha256 the hub reports before it gets its final
 * name; a file that fails never reaches the cache.
 */
package dev.trestle.engine.hub;
