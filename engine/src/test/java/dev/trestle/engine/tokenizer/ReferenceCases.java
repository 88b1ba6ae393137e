package dev.trestle.engine.tokenizer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** llama.cpp's test-tokenizer-0 pairs: {@code .inp} strings and the {@code .out} id lines. */
record ReferenceCases(List<String> inputs, List<int[]> outputs) {
    static final String SEPARATOR = "\n__ggml_vocab_test__\n";

    static ReferenceCases read(Path inp, Path out) throws IOException {
        String all = Files.readString(inp, StandardCharsets.UTF_8);
        List<String> inputs = new ArrayList<>();
        int pos = 0;
        while (true) {
            int sep = all.indexOf(SEPARATOR, pos);
            if (sep < 0) {
                break;
            }
            inputs.add(all.substring(pos, sep));
            pos = sep + SEPARATOR.length();
        }
        List<int[]> outputs = new ArrayList<>();
        for (String line : Files.readAllLines(out, StandardCharsets.UTF_8)) {
            String t = line.strip();
            outputs.add(t.isEmpty() ? new int[0] : Arrays.stream(t.split(" +")).mapToInt(Integer::parseInt).toArray());
        }
        return new ReferenceCases(inputs, outputs);
    }
}
