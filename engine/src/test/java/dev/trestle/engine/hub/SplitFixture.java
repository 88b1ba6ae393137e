package dev.trestle.engine.hub;

import dev.trestle.engine.gguf.GgufFile;
import dev.trestle.engine.gguf.GgufTensorInfo;
import dev.trestle.engine.gguf.GgufValue;
import dev.trestle.engine.gguf.GgufValueType;
import dev.trestle.engine.gguf.GgufWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Cuts a GGUF into a real llama.cpp-style split: part 1 has all metadata plus {@code split.no},
 * {@code split.count} and {@code split.tensors.count}; every part is a complete GGUF holding a share of
 * the tensors (the layout {@code llama-gguf-split} writes).
 */
final class SplitFixture {
    private SplitFixture() {
    }

    /** Writes {@code count} parts named by {@code namer(i)} into {@code dir}; returns their paths in order. */
    static List<Path> split(Path source, int count, Path dir, java.util.function.IntFunction<String> namer) {
        List<Path> out = new ArrayList<>();
        try (GgufFile f = GgufFile.open(source)) {
            List<GgufTensorInfo> all = new ArrayList<>(f.tensors().values());
            int per = (all.size() + count - 1) / count;
            for (int i = 0; i < count; i++) {
                GgufWriter w = new GgufWriter();
                if (i == 0) {
                    w.putAll(f.metadata());
                }
                w.put("split.no", new GgufValue(GgufValueType.UINT16, i));
                w.put("split.count", new GgufValue(GgufValueType.UINT16, count));
                w.put("split.tensors.count", GgufValue.ofInt32(all.size()));
                for (GgufTensorInfo t : all.subList(i * per, Math.min(all.size(), (i + 1) * per))) {
                    w.tensor(t.name(), t.type(), t.shape(), f.tensorData(t));
                }
                Path p = dir.resolve(namer.apply(i + 1));
                w.write(p);
                out.add(p);
            }
        }
        return out;
    }
}
