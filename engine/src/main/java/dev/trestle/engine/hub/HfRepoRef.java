package dev.trestle.engine.hub;

import dev.trestle.common.TrestleException;
import java.util.Locale;

/**
 * A Hugging Face model repository as {@code -hf} names it: {@code USER/REPO[:QUANT]}.
 *
 * @param owner user or organisation ("ggml-org")
 * @param name  repository name ("gemma-3-1b-it-GGUF")
 * @param tag   the quant tag after the colon ("Q4_K_M"), or null when none was given
 */
public record HfRepoRef(String owner, String name, String tag) {

    public HfRepoRef {
        if (!validPart(owner) || !validPart(name)) {
            throw invalid(owner + "/" + name);
        }
        if (tag != null && (tag.isEmpty() || !tag.matches("[A-Za-z0-9_.\\-]+"))) {
            throw new TrestleException("invalid quant tag '" + tag + "' in -hf " + owner + "/" + name + ":" + tag,
                    "use a tag like Q4_K_M, Q8_0 or F16 (case does not matter), or leave it out");
        }
    }

    /** Parses {@code USER/REPO[:QUANT]}; the tag keeps the user's spelling (matching ignores case). */
    public static HfRepoRef parse(String text) {
        if (text == null || text.isBlank()) {
            throw invalid(String.valueOf(text));
        }
        String s = text.strip();
        String tag = null;
        int colon = s.lastIndexOf(':');
        if (colon >= 0) {
            tag = s.substring(colon + 1);
            s = s.substring(0, colon);
        }
        String[] parts = s.split("/", -1);
        if (parts.length != 2) {
            throw invalid(text);
        }
        return new HfRepoRef(parts[0], parts[1], tag);
    }

    /** "owner/name", as the hub's URLs spell it. */
    public String repo() {
        return owner + "/" + name;
    }

    /** The tag upper-cased for display, or null. */
    public String tagUpper() {
        return tag == null ? null : tag.toUpperCase(Locale.ROOT);
    }

    /** Same repository with another tag. */
    public HfRepoRef withTag(String newTag) {
        return new HfRepoRef(owner, name, newTag);
    }

    @Override
    public String toString() {
        return tag == null ? repo() : repo() + ":" + tag;
    }

    // The hub allows letters, digits, '_', and '.', '-' between them; no "..", which would escape a cache folder.
    private static boolean validPart(String p) {
        return p != null && !p.isEmpty() && p.length() <= 96 && p.matches("[A-Za-z0-9_]([A-Za-z0-9_.\\-]*[A-Za-z0-9_])?")
                && !p.contains("..");
    }

    private static TrestleException invalid(String text) {
        return new TrestleException("invalid Hugging Face repository '" + text + "'",
                "write it as USER/REPO or USER/REPO:QUANT, e.g. -hf ggml-org/gemma-3-1b-it-GGUF:Q4_K_M");
    }
}
