package dev.trestle.engine.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.trestle.common.TrestleException;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelCacheTest {
    @TempDir
    Path tmp;

    @Test
    void folderPrecedenceIsFlagThenEnvThenOsDefault() {
        Path flag = tmp.resolve("flag");
        Map<String, String> env = Map.of("TRESTLE_CACHE", tmp.resolve("env").toString());
        assertEquals(flag.toAbsolutePath(), ModelCache.locate(flag, env).root());
        assertEquals(tmp.resolve("env").toAbsolutePath(), ModelCache.locate(null, env).root());

        assertEquals(Path.of("/x/cache/trestle"), ModelCache.defaultRoot(Map.of("XDG_CACHE_HOME", "/x/cache"), "Linux", "/home/u"));
        assertEquals(Path.of("/home/u/.cache/trestle"), ModelCache.defaultRoot(Map.of(), "Linux", "/home/u"));
        assertEquals(Path.of("/home/u/.cache/trestle"),
                ModelCache.defaultRoot(Map.of("XDG_CACHE_HOME", "relative"), "Linux", "/home/u"), "relative XDG is ignored");
        assertEquals(Path.of("/Users/u/Library/Caches/trestle"), ModelCache.defaultRoot(Map.of(), "Mac OS X", "/Users/u"));
        assertEquals(Path.of("C:\\Users\\u\\AppData\\Local", "trestle"),
                ModelCache.defaultRoot(Map.of("LOCALAPPDATA", "C:\\Users\\u\\AppData\\Local"), "Windows 11", "C:\\Users\\u"));
    }

    @Test
    void hashIsComputedOnceAndRecomputedWhenTheFileChanges() throws IOException {
        ModelCache cache = new ModelCache(tmp.resolve("cache"));
        Path f = tmp.resolve("model.gguf");
        Files.write(f, new byte[] {1, 2, 3});
        String real = ModelCache.hashFile(f);
        assertEquals(real, cache.sha256(f));
        assertEquals(real, cache.knownSha256(f).orElseThrow());

        // The memo is what answers: plant a different value for the unchanged file and it comes back.
        String planted = "cd".repeat(32);
        cache.rememberHash(f, planted);
        assertEquals(planted, new ModelCache(tmp.resolve("cache")).sha256(f), "read from index.json by a new instance");

        // Any change of mtime (or size) invalidates the memo.
        Files.setLastModifiedTime(f, FileTime.fromMillis(Files.getLastModifiedTime(f).toMillis() - 5000));
        assertEquals(real, cache.sha256(f));
        Files.write(f, new byte[] {1, 2, 3, 4});
        assertNotEquals(real, cache.sha256(f));
        assertEquals(ModelCache.hashFile(f), cache.sha256(f));
    }

    @Test
    void indexRecordsAndReplacesEntriesByPath() throws IOException {
        ModelCache cache = new ModelCache(tmp.resolve("cache"));
        HfRepoRef ref = HfRepoRef.parse("a/b");
        Path p = cache.hubPath(ref, "dir/m-Q8_0.gguf");
        Files.createDirectories(p.getParent());
        Files.write(p, new byte[] {9});
        cache.record(p, "hf", "http://h/a/b/resolve/c/dir/m-Q8_0.gguf", "a/b", "dir/m-Q8_0.gguf", "c".repeat(40), "ab".repeat(32), 1);
        cache.record(p, "hf", "http://h/a/b/resolve/d/dir/m-Q8_0.gguf", "a/b", "dir/m-Q8_0.gguf", "d".repeat(40), "ab".repeat(32), 1);
        assertEquals(1, cache.entries().size());
        assertEquals("d".repeat(40), cache.entries().get(0).revision());
        assertEquals("hf/a/b/dir/m-Q8_0.gguf", cache.entries().get(0).path());
        assertEquals(1, cache.entriesOfRepo("A/B").size());
        assertTrue(Files.readString(cache.root().resolve("index.json")).contains("\"downloaded_at\""));

        Files.delete(p);
        assertEquals(1, cache.forgetMissing());
        assertTrue(cache.entries().isEmpty());
    }

    @Test
    void pathsStayInsideTheCache() {
        ModelCache cache = new ModelCache(tmp.resolve("cache"));
        HfRepoRef ref = HfRepoRef.parse("a/b");
        for (String bad : new String[] {"../x.gguf", "/etc/x.gguf", "a/../../x.gguf", "a//b.gguf", "a\\b.gguf"}) {
            assertThrows(TrestleException.class, () -> cache.hubPath(ref, bad), bad);
        }
        Path u = cache.urlPath(URI.create("https://example.org/some/../../path/model%20x.gguf?download=1"));
        assertTrue(u.startsWith(cache.root().resolve("url").resolve("example.org")), u.toString());
        assertEquals("model_x.gguf", u.getFileName().toString());
        Path s1 = cache.urlPath(URI.create("https://h/r/m-00001-of-00002.gguf"));
        Path s2 = cache.urlPath(URI.create("https://h/r/m-00002-of-00002.gguf"));
        assertEquals(s1.getParent(), s2.getParent(), "parts of one split share a folder");
    }
}
