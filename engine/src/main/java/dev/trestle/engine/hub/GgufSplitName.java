package dev.trestle.engine.hub;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a GGUF file name says about itself, by llama.cpp's naming rules: a multi-part split
 * ({@code NAME-00001-of-00003.gguf}) and a quant tag ({@code NAME-Q4_K_M.gguf} or {@code NAME.Q4_K_M.gguf}).
 *
 * @param prefix the name without ".gguf" and without the split suffix (tag included)
 * @param tag    the quant tag upper-cased ("Q4_K_M"), or "" when the name has none
 * @param index  1-based part number (1 for an unsplit file)
 * @param count  number of parts (1 for an unsplit file)
 */
public record GgufSplitName(String prefix, String tag, int index, int count) {
    private static final Pattern SPLIT = Pattern.compile("^(.+)-([0-9]{5})-of-([0-9]{5})$", Pattern.CASE_INSENSITIVE);
    private static final Pattern TAG = Pattern.compile("[-.]([A-Z0-9_]+)$", Pattern.CASE_INSENSITIVE);

    /** Parses a path or URL ending in ".gguf"; returns null for anything else. */
    public static GgufSplitName parse(String path) {
        if (!path.endsWith(".gguf")) {
            return null;
        }
        String prefix = path.substring(0, path.length() - ".gguf".length());
        int index = 1;
        int count = 1;
        Matcher m = SPLIT.matcher(prefix);
        if (m.matches()) {
            index = Integer.parseInt(m.group(2));
            count = Integer.parseInt(m.group(3));
            prefix = m.group(1);
        }
        Matcher t = TAG.matcher(prefix);
        String tag = t.find() ? t.group(1).toUpperCase(Locale.ROOT) : "";
        return new GgufSplitName(prefix, tag, index, count);
    }

    public boolean isSplit() {
        return count > 1;
    }

    /** The name of part {@code i} (1-based) of this split, as llama.cpp spells it. */
    public String partName(int i) {
        return String.format(Locale.ROOT, "%s-%05d-of-%05d.gguf", prefix, i, count);
    }
}
