package dev.trestle.engine.runtime;

import dev.trestle.engine.gguf.GgufFile;
import dev.trestle.testdata.SharedData;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Runs every llama.cpp greedy reference through the CPU engine with the reference's settings (n_ctx 256, one
 * prompt batch, F16 KV cache, flash attention auto): greedy ids must match except at fragile steps, and,
 * teacher-forced along llama.cpp's ids, every logit must lie within the reference's suggested tolerance.
 */
class ParityTest {
    static Stream<Path> references() throws IOException {
        try (Stream<Path> s = Files.list(SharedData.reference("greedy"))) {
            List<Path> files = s.filter(p -> p.toString().endsWith(".json")).sorted().toList();
            return files.stream();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("references")
    void matchesLlamaCpp(Path refFile) throws IOException {
        ReferenceCase ref = ReferenceCase.load(refFile);
        Set<Integer> fragile = ref.fragileSteps(ref.meaningful() ? "fragile_steps" : "fragile_steps_scaled");
        EngineOptions opts = ref.options();
        try (Model m = Model.load(GgufFile.open(ref.model()), opts); Context ctx = m.newContext(opts)) {
            ref.assertParity(ctx, fragile, String.format("PARITY %-40s", refFile.getFileName()));
        }
    }
}
