package dev.trestle.engine.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.trestle.common.TrestleException;
import java.util.List;
import org.junit.jupiter.api.Test;

class HubFileChooserTest {
    private static final List<HubFile> GEMMA = files(
            "README.md",
            "mmproj-gemma-3-4b-it-Q4_K_M.gguf",
            "gemma-3-4b-it-F16.gguf",
            "gemma-3-4b-it-Q8_0.gguf",
            "gemma-3-4b-it-Q4_K_M.gguf",
            "gemma-3-4b-it-q4_0.gguf",
            "imatrix-gemma.gguf",
            "Q2_K/gemma-3-4b-it-Q2_K-00002-of-00003.gguf",
            "Q2_K/gemma-3-4b-it-Q2_K-00001-of-00003.gguf",
            "Q2_K/gemma-3-4b-it-Q2_K-00003-of-00003.gguf");

    private static List<HubFile> files(String... paths) {
        return java.util.Arrays.stream(paths).map(p -> new HubFile(p, 10, null)).toList();
    }

    private static List<String> choose(String ref, List<HubFile> files, String hfFile) {
        return HubFileChooser.choose(HfRepoRef.parse(ref), files, hfFile).stream().map(HubFile::path).toList();
    }

    @Test
    void defaultIsQ4KMAndNeverTheProjector() {
        assertEquals(List.of("gemma-3-4b-it-Q4_K_M.gguf"), choose("ggml-org/gemma", GEMMA, null));
    }

    @Test
    void defaultFallsBackToQ8ThenFirstModel() {
        assertEquals(List.of("m-Q8_0.gguf"), choose("a/b", files("mmproj-x.gguf", "m-F16.gguf", "m-Q8_0.gguf"), null));
        assertEquals(List.of("m-F16.gguf"), choose("a/b", files("mmproj-x.gguf", "m-F16.gguf", "m-BF16.gguf"), null));
    }

    @Test
    void tagMatchesIgnoringCase() {
        assertEquals(List.of("gemma-3-4b-it-q4_0.gguf"), choose("a/b:Q4_0", GEMMA, null));
        assertEquals(List.of("gemma-3-4b-it-Q8_0.gguf"), choose("a/b:q8_0", GEMMA, null));
        assertEquals(List.of("gemma-3-4b-it-F16.gguf"), choose("a/b:f16", GEMMA, null));
    }

    @Test
    void splitTagReturnsEveryPartInOrder() {
        assertEquals(List.of("Q2_K/gemma-3-4b-it-Q2_K-00001-of-00003.gguf",
                "Q2_K/gemma-3-4b-it-Q2_K-00002-of-00003.gguf",
                "Q2_K/gemma-3-4b-it-Q2_K-00003-of-00003.gguf"), choose("a/b:Q2_K", GEMMA, null));
    }

    @Test
    void incompleteSplitIsRefused() {
        List<HubFile> two = files("m-Q2_K-00001-of-00003.gguf", "m-Q2_K-00002-of-00003.gguf");
        TrestleException e = assertThrows(TrestleException.class, () -> choose("a/b:Q2_K", two, null));
        assertTrue(e.getMessage().contains("should have 3 parts"), e.getMessage());
    }

    @Test
    void explicitFileWinsAndMatchesIgnoringCase() {
        assertEquals(List.of("gemma-3-4b-it-F16.gguf"), choose("a/b:Q8_0", GEMMA, "GEMMA-3-4B-IT-f16.gguf"));
    }

    @Test
    void unknownTagListsWhatThereIs() {
        TrestleException e = assertThrows(TrestleException.class, () -> choose("ggml-org/gemma:Q3_K_S", GEMMA, null));
        assertTrue(e.getMessage().contains("no GGUF model file with quant tag Q3_K_S"), e.getMessage());
        assertTrue(e.getMessage().contains("gemma-3-4b-it-Q8_0.gguf"), e.getMessage());
        assertTrue(e.fix().contains("-hf ggml-org/gemma:"), e.fix());
    }

    @Test
    void splitNamesParseAsLlamaCppDoes() {
        GgufSplitName s = GgufSplitName.parse("dir/Model-Q4_K_M-00002-of-00005.gguf");
        assertEquals("dir/Model-Q4_K_M", s.prefix());
        assertEquals("Q4_K_M", s.tag());
        assertEquals(2, s.index());
        assertEquals(5, s.count());
        assertEquals("dir/Model-Q4_K_M-00005-of-00005.gguf", s.partName(5));
        assertEquals("Q8_0", GgufSplitName.parse("model.q8_0.gguf").tag());
        assertNull(GgufSplitName.parse("README.md"));
        assertFalse(GgufSplitName.parse("a.gguf").isSplit());
    }

    @Test
    void repoRefsParseAndRejectNonsense() {
        HfRepoRef r = HfRepoRef.parse("ggml-org/gemma-3-1b-it-GGUF:q4_k_m");
        assertEquals("ggml-org/gemma-3-1b-it-GGUF", r.repo());
        assertEquals("q4_k_m", r.tag());
        assertEquals("Q4_K_M", r.tagUpper());
        assertNull(HfRepoRef.parse("a/b").tag());
        for (String bad : new String[] {"gemma", "a/b/c", "../x/y", "a/..", "a/b:", "/b", "a/b c"}) {
            TrestleException e = assertThrows(TrestleException.class, () -> HfRepoRef.parse(bad), bad);
            assertTrue(e.fix() != null && !e.fix().isBlank());
        }
    }
}
