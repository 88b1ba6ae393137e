package dev.trestle.engine.synthetic;

import dev.trestle.common.TrestleException;
import java.util.Locale;

/**
 * A {@code --synthetic} request: {@code ARCH:SIZE[:TYPE][:<n>L][:<n>E]}, e.g. {@code llama:1B:Q4_0} or
 * {@code qwen3moe:30B-A3B:Q4_K_M:16L:32E} (the 30B-A3B layer shape with 16 layers of 32 experts).
 *
 * @param text  the spec as given
 * @param shape the resolved shape
 * @param mix   the file type's per-tensor types
 */
public record SyntheticSpec(String text, SyntheticShape shape, QuantMix mix) {

    /** Parses a spec; TYPE defaults to Q4_0. */
    public static SyntheticSpec parse(String text) {
        String[] parts = text.trim().split(":");
        if (parts.length < 2) {
            throw new TrestleException("--synthetic '" + text + "' is not ARCH:SIZE[:TYPE]",
                    "e.g. --synthetic llama:1B:Q4_0 or --synthetic qwen3moe:30B-A3B:Q4_K_M:16L:32E");
        }
        SyntheticShape shape = SyntheticShape.preset(parts[0], parts[1]);
        QuantMix mix = QuantMix.of("Q4_0");
        boolean typed = false;
        for (int i = 2; i < parts.length; i++) {
            String p = parts[i].trim().toUpperCase(Locale.ROOT);
            if (p.matches("\\d+L")) {
                shape = shape.withLayers(count(p, text));
            } else if (p.matches("\\d+E")) {
                if (!shape.isMoe()) {
                    throw new TrestleException("--synthetic '" + text + "': " + shape.arch() + " has no experts",
                            "drop the :" + p + " part");
                }
                shape = shape.withExperts(count(p, text));
            } else if (!typed) {
                mix = QuantMix.of(p);
                typed = true;
            } else {
                throw new TrestleException("--synthetic '" + text + "': unexpected part '" + parts[i] + "'",
                        "the parts after ARCH:SIZE are TYPE, <n>L (layers) and <n>E (experts)");
            }
        }
        return new SyntheticSpec(text.trim(), shape, mix);
    }

    private static int count(String part, String text) {
        int n;
        try {
            n = Integer.parseInt(part.substring(0, part.length() - 1));
        } catch (NumberFormatException e) {
            n = 0;
        }
        if (n < 1 || n > 4096) {
            throw new TrestleException("--synthetic '" + text + "': '" + part + "' is out of range",
                    "give between 1 and 4096 layers or experts");
        }
        return n;
    }

    /** The cache file name: one file per distinct shape and type. */
    public String fileName() {
        SyntheticShape base = SyntheticShape.preset(shape.arch(), shape.size());
        StringBuilder sb = new StringBuilder("synthetic-").append(shape.arch()).append('-').append(shape.size());
        if (shape.nLayer() != base.nLayer()) {
            sb.append('-').append(shape.nLayer()).append('L');
        }
        if (shape.nExpert() != base.nExpert()) {
            sb.append('-').append(shape.nExpert()).append('E');
        }
        return sb.append('-').append(mix.label()).append("-v").append(SyntheticModel.FORMAT_VERSION)
                .append(".gguf").toString();
    }
}
