package dev.trestle.engine.hub;

import dev.trestle.common.TrestleException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Picks the model file(s) of a repository the way llama.cpp's {@code -hf} does.
 *
 * <ul>
 *   <li>{@code --hf-file NAME}: that file (the name is matched ignoring case).</li>
 *   <li>{@code :TAG}: the first model GGUF whose path contains TAG followed by '.' or '-' (ignoring case).</li>
 *   <li>no tag: Q4_K_M, else Q8_0, else the first model GGUF in the listing.</li>
 * </ul>
 * Projector and helper files ({@code mmproj}, {@code imatrix}, {@code mtp-}, {@code eagle3-},
 * {@code dflash-}, {@code dspark-}) are never chosen as the model. Of a split model only part 1 can be
 * chosen; every part of the same split is returned with it.
 */
public final class HubFileChooser {
    private static final List<String> DEFAULT_TAGS = List.of("Q4_K_M", "Q8_0");
    private static final List<String> NOT_MODELS = List.of("mmproj", "imatrix", "mtp-", "eagle3-", "dflash-", "dspark-");

    private HubFileChooser() {
    }

    /**
     * The files to download for {@code ref} (part 1 first, then the remaining parts in order).
     *
     * @param hfFile an explicit {@code --hf-file}, or null
     */
    public static List<HubFile> choose(HfRepoRef ref, List<HubFile> files, String hfFile) {
        HubFile primary = null;
        if (hfFile != null && !hfFile.isBlank()) {
            for (HubFile f : files) {
                if (f.path().equalsIgnoreCase(hfFile.strip())) {
                    primary = f;
                    break;
                }
            }
            if (primary == null) {
                throw new TrestleException("file '" + hfFile + "' is not in repository " + ref.repo()
                        + available(files), "pick one of the listed files with --hf-file, or drop --hf-file");
            }
        } else {
            primary = bestModel(files, ref.tag());
            if (primary == null) {
                String what = ref.tag() == null ? "no GGUF model file" : "no GGUF model file with quant tag " + ref.tagUpper();
                throw new TrestleException(what + " in repository " + ref.repo() + available(files),
                        ref.tag() == null ? "check the repository name; it must hold .gguf files"
                                : "pick one of the listed quants, e.g. -hf " + ref.repo() + ":" + suggestTag(files));
            }
        }
        return splitParts(files, primary);
    }

    /** True when {@code path} is a model GGUF, not a projector or other helper file. */
    public static boolean isModelFile(String path) {
        if (!path.endsWith(".gguf")) {
            return false;
        }
        String name = path.substring(path.lastIndexOf('/') + 1);
        for (String marker : NOT_MODELS) {
            if (name.contains(marker)) {
                return false;
            }
        }
        return true;
    }

    private static HubFile bestModel(List<HubFile> files, String tag) {
        List<String> tags = tag == null ? DEFAULT_TAGS : List.of(tag);
        for (String t : tags) {
            Pattern p = Pattern.compile(Pattern.quote(t) + "[.-]", Pattern.CASE_INSENSITIVE);
            for (HubFile f : files) {
                if (isFirstPartModel(f) && p.matcher(f.path()).find()) {
                    return f;
                }
            }
        }
        if (tag == null) {
            for (HubFile f : files) {
                if (isFirstPartModel(f)) {
                    return f;
                }
            }
        }
        return null;
    }

    private static boolean isFirstPartModel(HubFile f) {
        if (!isModelFile(f.path())) {
            return false;
        }
        GgufSplitName s = GgufSplitName.parse(f.path());
        return s.count() <= 1 || s.index() == 1;
    }

    private static List<HubFile> splitParts(List<HubFile> files, HubFile primary) {
        GgufSplitName split = GgufSplitName.parse(primary.path());
        if (split == null || !split.isSplit()) {
            return List.of(primary);
        }
        List<HubFile> parts = new ArrayList<>();
        for (HubFile f : files) {
            GgufSplitName s = GgufSplitName.parse(f.path());
            if (s != null && s.count() == split.count() && s.prefix().equals(split.prefix())) {
                parts.add(f);
            }
        }
        parts.sort(Comparator.comparingInt(f -> GgufSplitName.parse(f.path()).index()));
        boolean complete = parts.size() == split.count();
        for (int i = 0; complete && i < parts.size(); i++) {
            complete = GgufSplitName.parse(parts.get(i).path()).index() == i + 1;
        }
        if (complete) {
            return List.copyOf(parts);
        }
        throw new TrestleException("split model " + primary.path() + " should have " + split.count()
                + " parts but the repository lists " + parts.size() + available(files),
                "the upload is incomplete; pick another quant or ask the repository owner");
    }

    private static String suggestTag(List<HubFile> files) {
        for (HubFile f : files) {
            if (isFirstPartModel(f)) {
                String t = GgufSplitName.parse(f.path()).tag();
                if (!t.isEmpty()) {
                    return t;
                }
            }
        }
        return "Q4_K_M";
    }

    private static String available(List<HubFile> files) {
        StringBuilder sb = new StringBuilder();
        for (HubFile f : files) {
            if (f.isGguf()) {
                sb.append(sb.isEmpty() ? "; available GGUF files:" : "").append("\n  - ").append(f.path());
            }
        }
        return sb.isEmpty() ? " (it has no .gguf files)" : sb.toString();
    }
}
