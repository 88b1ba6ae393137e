package dev.trestle.engine.hub;

import java.nio.file.Path;
import java.util.List;

/**
 * A model source turned into local files.
 *
 * @param path   the file to load (part 1 of a split model)
 * @param parts  every file of the model, in part order ({@code [path]} when it is not split); loading a
 *               split model needs all of them side by side, which they are
 * @param source what the command line asked for
 * @param origin where the bytes came from, for the startup log ("ggml-org/x@1a2b3c4 file.gguf", "local file")
 * @param sha256 the file's sha256 when known without extra work (downloads, the demo, --model-sha256), else null
 */
public record ResolvedModel(Path path, List<Path> parts, ModelSource source, String origin, String sha256) {
    public ResolvedModel {
        parts = List.copyOf(parts);
    }

    public boolean isSplit() {
        return parts.size() > 1;
    }

    public boolean isDemo() {
        return source instanceof ModelSource.Demo;
    }
}
