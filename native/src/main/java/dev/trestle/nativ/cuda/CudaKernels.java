package dev.trestle.nativ.cuda;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Trestle's compiled CUDA kernels: one fatbin per source file in {@code native/src/main/cuda}, built by
 * {@code scripts/build-cuda-kernels.sh} with SASS for {@link #SASS_TARGETS} and PTX for the newest, and a
 * manifest of the source hashes and flags they were built from.
 */
public final class CudaKernels {
    /** Classpath folder of the fatbins and the manifest. */
    public static final String RESOURCE_DIR = "/dev/trestle/nativ/cuda/kernels/";
    /** GPU architectures with SASS in every fatbin (CUDA 13 dropped everything before sm_75). */
    public static final int[] SASS_TARGETS = {75, 80, 86, 89, 90, 100, 120};
    /** The architecture whose PTX is embedded, for GPUs newer than every SASS target. */
    public static final int PTX_TARGET = 120;
    /** The oldest compute capability the kernels run on, as major * 10 + minor. */
    public static final int MIN_COMPUTE_CAPABILITY = 75;

    /** One compiled source file = one CUDA module. */
    public enum Module {
        MATVEC("matvec"), DEQUANT("dequant"), GEMM("gemm"), NORM("norm"), ELEMENTWISE("elementwise"),
        ATTENTION("attention");

        private final String file;

        Module(String file) {
            this.file = file;
        }

        /** The source's base name: {@code matvec} for {@code matvec.cu} and {@code matvec.fatbin}. */
        public String file() {
            return file;
        }
    }

    /** What {@code kernels.manifest} records: the build flags and each source's SHA-256. */
    public record Manifest(String flags, Map<String, String> sourceHashes) {
    }

    private CudaKernels() {
    }

    /** The fatbin image of {@code m} (read from the jar each call; modules are loaded once per device). */
    public static byte[] fatbin(Module m) {
        return read(m.file() + ".fatbin");
    }

    /** The manifest committed next to the fatbins. */
    public static Manifest manifest() {
        return parseManifest(new String(read("kernels.manifest"), StandardCharsets.UTF_8));
    }

    /** Parses manifest text ({@code flags ...} and {@code source <sha256> <file>} lines; # comments). */
    public static Manifest parseManifest(String text) {
        String flags = null;
        Map<String, String> hashes = new LinkedHashMap<>();
        for (String line : text.split("\n")) {
            if (line.startsWith("flags ")) {
                flags = line.substring(6).trim();
            } else if (line.startsWith("source ")) {
                String[] f = line.trim().split(" ");
                if (f.length != 3) {
                    throw new IllegalArgumentException("bad manifest line: " + line);
                }
                hashes.put(f[2], f[1]);
            }
        }
        if (flags == null) {
            throw new IllegalArgumentException("kernels.manifest has no flags line");
        }
        return new Manifest(flags, hashes);
    }

    /** Names of every module, in load order. */
    public static List<String> moduleFiles() {
        List<String> l = new ArrayList<>();
        for (Module m : Module.values()) {
            l.add(m.file());
        }
        return l;
    }

    private static byte[] read(String name) {
        try (InputStream in = CudaKernels.class.getResourceAsStream(RESOURCE_DIR + name)) {
            if (in == null) {
                throw new IllegalStateException("CUDA kernel resource " + RESOURCE_DIR + name
                        + " is missing from the jar; rebuild with scripts/build-cuda-kernels.sh");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
