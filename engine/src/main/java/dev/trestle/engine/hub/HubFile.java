package dev.trestle.engine.hub;

/**
 * One file of a hub repository listing.
 *
 * @param path   path inside the repository ("Q4_K_M/model-Q4_K_M-00001-of-00002.gguf")
 * @param size   size in bytes the hub reports (the LFS object's size for LFS files)
 * @param sha256 the LFS oid, which is the file's sha256 (lower-case hex), or null for non-LFS files
 */
public record HubFile(String path, long size, String sha256) {

    /** The last path element. */
    public String fileName() {
        int slash = path.lastIndexOf('/');
        return slash < 0 ? path : path.substring(slash + 1);
    }

    public boolean isGguf() {
        return path.endsWith(".gguf");
    }
}
