package dev.trestle.backends.cpu.kernel;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The species the quantized kernels use, fixed at class load: bytes are widened to ints lane for lane, so the
 * byte species has as many lanes as the preferred float species (16 on AVX-512, 8 on AVX2; at least 8).
 */
final class VectorShapes {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    /** Byte lanes per step: the float lane count, at least 8 (the smallest byte shape is 64 bits). */
    static final int LANES = Math.min(16, Math.max(8, FloatVector.SPECIES_PREFERRED.length()));
    static final VectorSpecies<Byte> B = ByteVector.SPECIES_64.withShape(VectorShape.forBitSize(LANES * 8));
    static final VectorSpecies<Integer> I = IntVector.SPECIES_64.withShape(VectorShape.forBitSize(LANES * 32));
    static final VectorSpecies<Float> FI = FloatVector.SPECIES_64.withShape(VectorShape.forBitSize(LANES * 32));

    private VectorShapes() {
    }

    /**
     * True when the CPU lists {@code flag} in /proc/cpuinfo (Linux); false where that file is missing or
     * unreadable, so a kernel that needs the feature is then not chosen.
     */
    static boolean hasCpuFlag(String flag) {
        try (var lines = Files.lines(Path.of("/proc/cpuinfo"))) {
            return lines.filter(l -> l.startsWith("flags")).findFirst()
                    .map(l -> Arrays.asList(l.substring(l.indexOf(':') + 1).trim().split("\\s+")).contains(flag))
                    .orElse(false);
        } catch (IOException | UncheckedIOException | SecurityException e) {
            return false;
        }
    }
}
