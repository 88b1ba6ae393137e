package dev.trestle.nativ.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Rebuilds every fatbin with the build script and compares it byte for byte with the committed resource
 * (nvcc's fatbin output is deterministic and independent of the source path; verified with CUDA 13.0).
 */
class CudaKernelsFreshnessTest {

    @Test
    void committedFatbinsEqualAFreshBuild(@TempDir Path tmp) throws Exception {
        Path nvcc = CudaToolchain.require("nvcc");
        Path script = Path.of("../scripts/build-cuda-kernels.sh").toAbsolutePath().normalize();
        String version = CudaToolchain.run(List.of(nvcc.toString(), "--version"), null);
        org.junit.jupiter.api.Assumptions.assumeTrue(version.contains("release 13.0"),
                "the committed fatbins come from nvcc 13.0; this machine has another release:\n" + version);
        CudaToolchain.run(List.of("bash", script.toString(), tmp.toString()), null);
        assertEquals(Files.readString(tmp.resolve("kernels.manifest")),
                new String(CudaKernelsTest.class.getResourceAsStream(CudaKernels.RESOURCE_DIR + "kernels.manifest")
                        .readAllBytes()), "kernels.manifest is stale: run scripts/build-cuda-kernels.sh");
        for (CudaKernels.Module m : CudaKernels.Module.values()) {
            assertArrayEquals(Files.readAllBytes(tmp.resolve(m.file() + ".fatbin")), CudaKernels.fatbin(m),
                    m.file() + ".fatbin is stale: run scripts/build-cuda-kernels.sh and commit the result");
        }
    }
}
