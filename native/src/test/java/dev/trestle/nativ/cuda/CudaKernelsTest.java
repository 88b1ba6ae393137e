package dev.trestle.nativ.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The committed kernel images: present, fatbins, and built from the sources as they are now. */
class CudaKernelsTest {
    private static final int FATBIN_MAGIC = 0xBA55ED50;

    @Test
    void everyModuleHasAFatbinResource() {
        for (CudaKernels.Module m : CudaKernels.Module.values()) {
            byte[] img = CudaKernels.fatbin(m);
            assertTrue(img.length > 1024, m + " is too small");
            assertEquals(FATBIN_MAGIC, ByteBuffer.wrap(img).order(ByteOrder.LITTLE_ENDIAN).getInt(0),
                    m + " is not a fatbin");
            assertTrue(Files.exists(CudaToolchain.sources().resolve(m.file() + ".cu")), m + " has no source");
        }
    }

    /** Needs no nvcc: editing a .cu or .cuh without rebuilding the fatbins fails here on any machine. */
    @Test
    void manifestHashesMatchTheSources() throws IOException, NoSuchAlgorithmException {
        Map<String, String> actual = new TreeMap<>();
        try (Stream<Path> files = Files.list(CudaToolchain.sources())) {
            for (Path p : files.filter(f -> f.toString().endsWith(".cu") || f.toString().endsWith(".cuh")).toList()) {
                byte[] h = MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(p));
                actual.put(p.getFileName().toString(), HexFormat.of().formatHex(h));
            }
        }
        assertEquals(actual, new TreeMap<>(CudaKernels.manifest().sourceHashes()),
                "the committed fatbins are stale: run scripts/build-cuda-kernels.sh and commit the result");
        for (int sm : CudaKernels.SASS_TARGETS) {
            assertTrue(java.util.regex.Pattern.compile("code=\\[?(\\w+,)*sm_" + sm + "\\b").matcher(CudaKernels.manifest().flags()).find(),
                    "no SASS for sm_" + sm);
        }
        assertTrue(CudaKernels.manifest().flags().contains("compute_" + CudaKernels.PTX_TARGET + "]"),
                "no PTX for compute_" + CudaKernels.PTX_TARGET);
    }
}
