package dev.trestle.nativ.cuda;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * Finds nvcc and ptxas for the offline kernel checks. Absent tools skip the checks only on a developer
 * machine; with the CI environment variable set they are required, so CI cannot silently skip them.
 */
final class CudaToolchain {
    private CudaToolchain() {
    }

    static Path tool(String name) {
        List<Path> dirs = new ArrayList<>();
        String cudaHome = System.getenv("CUDA_HOME");
        if (cudaHome != null) {
            dirs.add(Path.of(cudaHome, "bin"));
        }
        String path = System.getenv("PATH");
        if (path != null) {
            for (String d : path.split(java.io.File.pathSeparator)) {
                if (!d.isEmpty()) {
                    dirs.add(Path.of(d));
                }
            }
        }
        dirs.add(Path.of("/usr/local/cuda/bin"));
        for (Path d : dirs) {
            Path p = d.resolve(name);
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        return null;
    }

    /** The tool, or a skipped test (developer machine) / failed test (CI) when it is missing. */
    static Path require(String name) {
        Path p = tool(name);
        if (p == null) {
            if (System.getenv("CI") != null) {
                Assertions.fail(name + " not found but CI is set: install the CUDA toolkit's nvcc (pip install "
                        + "nvidia-cuda-nvcc) or put it on PATH / CUDA_HOME");
            }
            Assumptions.abort(name + " not found (CUDA toolkit absent): kernel checks skipped on this machine");
        }
        return p;
    }

    /** The CUDA sources, relative to the module directory surefire runs in. */
    static Path sources() {
        Path p = Path.of("src/main/cuda");
        Assertions.assertTrue(Files.isDirectory(p), "CUDA sources not found at " + p.toAbsolutePath());
        return p;
    }

    /** Runs a command, failing the test with its output on a non-zero exit. */
    static String run(List<String> cmd, Path workDir) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        if (workDir != null) {
            pb.directory(workDir.toFile());
        }
        Process p = pb.start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(15, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            Assertions.fail("timed out: " + String.join(" ", cmd));
        }
        String text = new String(out);
        Assertions.assertEquals(0, p.exitValue(), () -> String.join(" ", cmd) + " failed:\n" + text);
        return text;
    }
}
