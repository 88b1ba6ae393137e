package dev.trestle.engine.hub;

import dev.trestle.common.TrestleException;
import java.net.URI;
import java.nio.file.Path;

/**
 * Where the model comes from, as the command line said: exactly one of {@code -m FILE},
 * {@code -hf USER/REPO[:QUANT]} (with an optional {@code --hf-file}), {@code -mu URL} or {@code --demo}.
 */
public sealed interface ModelSource {

    /** {@code -m FILE}: a local file, used where it is. */
    record LocalFile(Path path) implements ModelSource {
    }

    /** {@code -hf USER/REPO[:QUANT]} with an optional {@code --hf-file}. */
    record HubRepo(HfRepoRef ref, String hfFile) implements ModelSource {
    }

    /** {@code -mu URL}: any http(s) URL, downloaded into the cache. */
    record Url(URI uri) implements ModelSource {
    }

    /** {@code --demo}: the random-weight demo model Trestle writes itself. */
    record Demo() implements ModelSource {
    }

    /**
     * The source the flags name; fails with a clear message when none or several are given.
     *
     * @param model  {@code -m}, or null
     * @param hfRepo {@code -hf}, or null
     * @param hfFile {@code --hf-file}, or null (only with {@code -hf})
     * @param url    {@code -mu}, or null
     */
    static ModelSource of(Path model, String hfRepo, String hfFile, String url, boolean demo) {
        int n = (model != null ? 1 : 0) + (hfRepo != null ? 1 : 0) + (url != null ? 1 : 0) + (demo ? 1 : 0);
        if (n == 0) {
            throw new TrestleException("no model given",
                    "pass one of: -m FILE.gguf, -hf USER/REPO[:QUANT] (e.g. -hf ggml-org/gemma-3-1b-it-GGUF),"
                            + " -mu URL, or --demo to try Trestle with a small built-in random model");
        }
        if (n > 1) {
            throw new TrestleException("more than one model source given (-m, -hf, -mu and --demo exclude each other)",
                    "keep exactly one of them");
        }
        if (hfFile != null && hfRepo == null) {
            throw new TrestleException("--hf-file needs -hf USER/REPO", "add -hf USER/REPO, or use -m for a local file");
        }
        if (model != null) {
            return new LocalFile(model);
        }
        if (hfRepo != null) {
            return new HubRepo(HfRepoRef.parse(hfRepo), hfFile == null || hfFile.isBlank() ? null : hfFile.strip());
        }
        if (url != null) {
            URI u;
            try {
                u = URI.create(url.strip());
            } catch (IllegalArgumentException e) {
                throw new TrestleException("-mu '" + url + "' is not a valid URL: " + e.getMessage(),
                        "quote the URL and escape spaces as %20");
            }
            if (u.getScheme() == null || !(u.getScheme().equalsIgnoreCase("http") || u.getScheme().equalsIgnoreCase("https"))
                    || u.getHost() == null) {
                throw new TrestleException("-mu '" + url + "' is not an http(s) URL", "give a full https://... URL");
            }
            return new Url(u);
        }
        return new Demo();
    }

    /** A short description for logs ("-hf ggml-org/x:Q4_K_M"). */
    default String describe() {
        return switch (this) {
            case LocalFile f -> "-m " + f.path();
            case HubRepo h -> "-hf " + h.ref() + (h.hfFile() == null ? "" : " --hf-file " + h.hfFile());
            case Url u -> "-mu " + u.uri();
            case Demo d -> "--demo";
        };
    }
}
