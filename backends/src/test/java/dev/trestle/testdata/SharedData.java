package dev.trestle.testdata;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Locates the shared test data (real GGUF models and llama.cpp reference outputs) that lives in
 * {@code ../shared} beside the repository. Tests that need it fail loudly when it is missing:
 * a silently skipped parity test proves nothing.
 */
public final class SharedData {
    private SharedData() {
    }

    /** The shared folder: system property {@code trestle.shared}, else env TRESTLE_SHARED, else ../shared. */
    public static Path root() {
        String prop = System.getProperty("trestle.shared");
        if (prop == null || prop.isBlank()) {
            prop = System.getenv("TRESTLE_SHARED");
        }
        Path root = (prop == null || prop.isBlank()) ? Path.of("..", "shared") : Path.of(prop);
        root = root.toAbsolutePath().normalize();
        if (!Files.isDirectory(root.resolve("models"))) {
            throw new IllegalStateException("shared test data not found at " + root
                    + " (expected models/ and reference/ there); place shared/ beside the repository"
                    + " or pass -Dtrestle.shared=PATH / set TRESTLE_SHARED");
        }
        return root;
    }

    /** A file under shared/models, which must exist. */
    public static Path model(String relative) {
        return existing(root().resolve("models").resolve(relative));
    }

    /** A file or folder under shared/reference, which must exist. */
    public static Path reference(String relative) {
        return existing(root().resolve("reference").resolve(relative));
    }

    private static Path existing(Path p) {
        if (!Files.exists(p)) {
            throw new IllegalStateException("shared test file missing: " + p);
        }
        return p;
    }
}
