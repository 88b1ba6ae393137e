package dev.trestle.scheduler.plan;

import dev.trestle.common.TrestleException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * One {@code -ot REGEX=BUFFER} rule. As in llama.cpp the regex is searched for anywhere in the tensor
 * name and, across rules, the first that matches wins.
 */
public record TensorOverride(Pattern pattern, String buffer) {

    /** True when the rule applies to {@code tensorName}. */
    public boolean matches(String tensorName) {
        return pattern.matcher(tensorName).find();
    }

    /** Parses "REGEX=BUFFER[,REGEX=BUFFER...]". */
    public static List<TensorOverride> parseList(String spec) {
        List<TensorOverride> out = new ArrayList<>();
        for (String item : spec.split(",")) {
            if (item.isBlank()) {
                continue;
            }
            int eq = item.lastIndexOf('=');
            if (eq <= 0 || eq == item.length() - 1) {
                throw new TrestleException("-ot '" + item + "' is not REGEX=BUFFER",
                        "e.g. -ot \"blk\\.(1[0-9])\\.ffn_.*_exps=CPU\" (buffers: CPU, CUDA0, Vulkan1 ...)");
            }
            try {
                out.add(new TensorOverride(Pattern.compile(item.substring(0, eq)), item.substring(eq + 1).trim()));
            } catch (PatternSyntaxException e) {
                throw new TrestleException("-ot '" + item + "': bad regex: " + e.getDescription(),
                        "escape dots as \\. and check brackets");
            }
        }
        return out;
    }

    @Override
    public String toString() {
        return pattern.pattern() + "=" + buffer;
    }
}
