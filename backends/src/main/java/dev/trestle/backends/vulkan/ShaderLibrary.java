package dev.trestle.backends.vulkan;

import static org.lwjgl.util.shaderc.Shaderc.*;

import dev.trestle.common.TrestleException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * GLSL compute shaders (resources under {@code dev/trestle/glsl} in the native module) compiled to SPIR-V with
 * shaderc at first use. A variant is a shader plus {@code #define}s (weight type, op); its SPIR-V is cached in
 * memory and on disk under {@code ~/.cache/trestle/spirv}, keyed by the hash of the expanded source, so a
 * changed shader never reuses stale code.
 */
public final class ShaderLibrary {
    private static final String ROOT = "/dev/trestle/glsl/";
    private static final Map<String, byte[]> CACHE = new ConcurrentHashMap<>();

    private ShaderLibrary() {
    }

    /** SPIR-V of {@code name} (e.g. "matmul.comp") with {@code defines} ("WTYPE_Q4_0", "OP_ADD", "BK=32"). */
    public static byte[] spirv(String name, List<String> defines) {
        String key = name + defines;
        return CACHE.computeIfAbsent(key, k -> compileCached(name, defines));
    }

    /** The expanded source: version line, defines, then the body with its includes inlined. */
    static String expand(String name, List<String> defines) {
        StringBuilder b = new StringBuilder("#version 450\n");
        for (String d : defines) {
            // "NAME=VALUE" defines a value (tile sizes), a bare NAME a flag
            int eq = d.indexOf('=');
            b.append("#define ").append(eq < 0 ? d + " 1" : d.substring(0, eq) + " " + d.substring(eq + 1)).append('\n');
        }
        b.append(inline(name, 0));
        return b.toString();
    }

    private static String inline(String name, int depth) {
        if (depth > 4) {
            throw new IllegalStateException("include depth exceeded at " + name);
        }
        StringBuilder b = new StringBuilder();
        for (String line : resource(name).split("\n", -1)) {
            String t = line.trim();
            if (t.startsWith("#include \"")) {
                b.append(inline(t.substring(10, t.length() - 1), depth + 1));
            } else {
                b.append(line).append('\n');
            }
        }
        return b.toString();
    }

    private static String resource(String name) {
        try (InputStream in = ShaderLibrary.class.getResourceAsStream(ROOT + name)) {
            if (in == null) {
                throw new IllegalStateException("shader source " + ROOT + name + " is missing from the classpath");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static byte[] compileCached(String name, List<String> defines) {
        String src = expand(name, defines);
        Path file = cacheDir().resolve(sha256(src) + ".spv");
        try {
            if (Files.isRegularFile(file)) {
                return Files.readAllBytes(file);
            }
        } catch (IOException e) {
            // unreadable cache entry: compile again
        }
        byte[] spv = compile(name + defines, src);
        try {
            Files.createDirectories(file.getParent());
            Path tmp = Files.createTempFile(file.getParent(), "spv", ".tmp");
            Files.write(tmp, spv);
            Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                    java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            // a read-only home only costs recompiling next time
        }
        return spv;
    }

    private static Path cacheDir() {
        String dir = System.getProperty("trestle.spirv.cache");
        if (dir != null) {
            return Path.of(dir);
        }
        return Path.of(System.getProperty("user.home"), ".cache", "trestle", "spirv");
    }

    private static synchronized byte[] compile(String label, String src) {
        long compiler = shaderc_compiler_initialize();
        long options = shaderc_compile_options_initialize();
        try {
            shaderc_compile_options_set_target_env(options, shaderc_target_env_vulkan, shaderc_env_version_vulkan_1_1);
            shaderc_compile_options_set_optimization_level(options, shaderc_optimization_level_performance);
            long result = shaderc_compile_into_spv(compiler, src, shaderc_compute_shader, label, "main", options);
            try {
                if (shaderc_result_get_compilation_status(result) != shaderc_compilation_status_success) {
                    throw new TrestleException("shader " + label + " failed to compile: "
                            + shaderc_result_get_error_message(result), "this is a bug in Trestle's GLSL sources");
                }
                ByteBuffer bytes = shaderc_result_get_bytes(result);
                byte[] out = new byte[bytes.remaining()];
                bytes.get(out);
                return out;
            } finally {
                shaderc_result_release(result);
            }
        } finally {
            shaderc_compile_options_release(options);
            shaderc_compiler_release(compiler);
        }
    }

    private static String sha256(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
