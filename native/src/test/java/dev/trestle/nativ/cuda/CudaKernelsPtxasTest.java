package dev.trestle.nativ.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every kernel source compiles to PTX for the oldest target and assembles with ptxas for every SASS target,
 * without a GPU. The PTX ISA version is the one {@link CudaDriver#MIN_DRIVER_VERSION} can JIT.
 */
class CudaKernelsPtxasTest {

    @Test
    void everyKernelAssemblesForEveryTarget(@TempDir Path tmp) throws Exception {
        Path nvcc = CudaToolchain.require("nvcc");
        Path ptxas = CudaToolchain.require("ptxas");
        List<Path> sources;
        try (Stream<Path> s = Files.list(CudaToolchain.sources())) {
            sources = s.filter(p -> p.toString().endsWith(".cu")).sorted().toList();
        }
        assertEquals(CudaKernels.Module.values().length, sources.size(), "one module per .cu");
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            List<Future<String>> ptx = new ArrayList<>();
            for (Path src : sources) {
                Path out = tmp.resolve(src.getFileName().toString().replace(".cu", ".ptx"));
                ptx.add(pool.submit(() -> {
                    CudaToolchain.run(List.of(nvcc.toString(), "-std=c++17", "-O3", "-ptx",
                            "-arch=compute_" + CudaKernels.MIN_COMPUTE_CAPABILITY, "-o", out.toString(),
                            src.toAbsolutePath().toString()), null);
                    return out.toString();
                }));
            }
            List<Future<String>> asm = new ArrayList<>();
            for (Future<String> f : ptx) {
                String ptxFile = f.get();
                checkIsa(Files.readString(Path.of(ptxFile)), ptxFile);
                for (int sm : CudaKernels.SASS_TARGETS) {
                    asm.add(pool.submit(() -> CudaToolchain.run(List.of(ptxas.toString(), "-arch=sm_" + sm,
                            "-o", ptxFile + ".sm_" + sm + ".cubin", ptxFile), null)));
                }
            }
            for (Future<String> f : asm) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
        try (Stream<Path> s = Files.list(tmp)) {
            assertEquals(sources.size() * CudaKernels.SASS_TARGETS.length,
                    s.filter(p -> p.toString().endsWith(".cubin")).count());
        }
    }

    /** PTX ISA 9.0 is CUDA 13.0's: a newer nvcc raises it, and then the driver gate must move too. */
    private static void checkIsa(String ptx, String file) {
        Matcher m = Pattern.compile("(?m)^\\.version (\\d+)\\.(\\d+)").matcher(ptx);
        assertTrue(m.find(), file + " has no .version");
        int isa = Integer.parseInt(m.group(1)) * 10 + Integer.parseInt(m.group(2));
        // PTX ISA 9.x ships with CUDA 13.x: ISA 9.N needs a driver for CUDA 13.N
        int needs = 13000 + (isa - 90) * 10;
        assertTrue(needs <= CudaDriver.MIN_DRIVER_VERSION, file + ": PTX ISA " + m.group(1) + "." + m.group(2)
                + " needs driver support for CUDA " + CudaDriver.versionString(needs)
                + "; raise CudaDriver.MIN_DRIVER_VERSION or build with an older nvcc");
        assertTrue(isa >= 90, file + ": PTX ISA older than CUDA 13 (" + isa + "): the SASS target list assumes CUDA 13");
    }
}
