package dev.trestle.engine.hub;

/**
 * One model file in the cache index.
 *
 * @param path         file path relative to the cache folder ("hf/ggml-org/gemma-3-1b-it-GGUF/gemma-3-1b-it-Q4_K_M.gguf")
 * @param source       where it came from: "hf", "url" or "demo"
 * @param url          the URL it was downloaded from (null for the demo)
 * @param repo         "owner/name" for hub files, else null
 * @param file         path inside the repository for hub files, else the URL's file name
 * @param revision     the commit it was downloaded at (hub files), else null
 * @param sha256       lower-case hex of the file's bytes
 * @param size         bytes
 * @param downloadedAt ISO-8601 UTC instant it was stored
 */
public record CacheEntry(String path, String source, String url, String repo, String file, String revision,
                         String sha256, long size, String downloadedAt) {
}
