package dev.trestle.engine.hub;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.trestle.common.TrestleException;
import dev.trestle.engine.gguf.GgufFile;
import dev.trestle.testdata.SharedData;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** -hf and -mu against a fake hub on 127.0.0.1 serving the shared test models. */
class HubDownloadTest {
    static final String REPO = "test-org/llama-dense-GGUF";
    static final String PRIVATE = "test-org/private-GGUF";

    @TempDir
    Path tmp;
    FakeHub hub;
    ModelCache cache;
    List<String> log;

    @BeforeEach
    void start() throws IOException {
        hub = new FakeHub();
        hub.repo(REPO)
                .file(REPO, "README.md", "# test repo\n".getBytes(), false)
                .file(REPO, "mmproj-llama-dense-Q4_K_M.gguf", SharedData.model("archs/llama-dense-f16.gguf"))
                .file(REPO, "llama-dense-F16.gguf", SharedData.model("archs/llama-dense-f16.gguf"))
                .file(REPO, "llama-dense-Q8_0.gguf", SharedData.model("quant/llama-dense-q8_0.gguf"))
                .file(REPO, "llama-dense-Q4_K_M.gguf", SharedData.model("quant/llama-dense-q4_k_m.gguf"));
        Path splitDir = Files.createDirectories(tmp.resolve("split-src"));
        List<Path> parts = SplitFixture.split(SharedData.model("stories260K.gguf"), 2, splitDir,
                i -> "stories260K-Q2_K-0000" + i + "-of-00002.gguf");
        // listed out of order on purpose
        hub.file(REPO, "Q2_K/stories260K-Q2_K-00002-of-00002.gguf", parts.get(1));
        hub.file(REPO, "Q2_K/stories260K-Q2_K-00001-of-00002.gguf", parts.get(0));
        hub.repo(PRIVATE).requireToken(PRIVATE).file(PRIVATE, "stories260K-F32.gguf", SharedData.model("stories260K.gguf"));
        cache = new ModelCache(tmp.resolve("cache"));
        log = new ArrayList<>();
    }

    @AfterEach
    void stop() {
        hub.close();
    }

    ModelResolver resolver(String token, boolean offline, int attempts) {
        HubClient client = new HubClient(hub.endpoint(), token, HubClient.newHttpClient());
        return new ModelResolver(cache, client, new Downloader(HubClient.newHttpClient(), attempts, Duration.ZERO),
                offline, DownloadProgress.NONE, log::add);
    }

    ResolvedModel hf(ModelResolver r, String ref) {
        return r.resolve(ModelSource.of(null, ref, null, null, false), null);
    }

    static String sha(Path p) throws IOException {
        return HexFormat.of().formatHex(FakeHub.sha256(Files.readAllBytes(p)));
    }

    @Test
    void quantTagPicksTheFileDownloadsVerifiesAndIndexes() throws IOException {
        ResolvedModel m = hf(resolver(null, false, 1), REPO + ":q8_0");
        Path src = SharedData.model("quant/llama-dense-q8_0.gguf");
        assertEquals(cache.root().resolve("hf/test-org/llama-dense-GGUF/llama-dense-Q8_0.gguf"), m.path());
        assertArrayEquals(Files.readAllBytes(src), Files.readAllBytes(m.path()));
        assertEquals(sha(src), m.sha256());
        assertFalse(Files.exists(Downloader.partFile(m.path())));

        CacheEntry e = cache.entryFor(m.path()).orElseThrow();
        assertEquals("hf", e.source());
        assertEquals(REPO, e.repo());
        assertEquals("llama-dense-Q8_0.gguf", e.file());
        assertEquals(hub.commitOf(REPO), e.revision());
        assertEquals(sha(src), e.sha256());
        assertEquals(Files.size(src), e.size());
        assertEquals(hub.endpoint() + "/" + REPO + "/resolve/" + hub.commitOf(REPO) + "/llama-dense-Q8_0.gguf", e.url());
        assertNotNull(java.time.Instant.parse(e.downloadedAt()));
        assertTrue(m.origin().contains(REPO), m.origin());

        // A second resolve finds the verified copy and downloads nothing.
        int before = hub.downloads("Q8_0.gguf").size();
        ResolvedModel again = hf(resolver(null, false, 1), REPO + ":Q8_0");
        assertEquals(m.path(), again.path());
        assertEquals(before, hub.downloads("Q8_0.gguf").size());

        // without its index the verified file is re-indexed, not downloaded again
        Files.delete(cache.root().resolve("index.json"));
        hf(resolver(null, false, 1), REPO + ":Q8_0");
        assertEquals(before, hub.downloads("Q8_0.gguf").size());
        assertEquals(sha(src), cache.entryFor(m.path()).orElseThrow().sha256());

        // a damaged copy is fetched again
        byte[] bytes = Files.readAllBytes(m.path());
        bytes[100] ^= 1;
        Files.write(m.path(), bytes);
        hf(resolver(null, false, 1), REPO + ":Q8_0");
        assertEquals(before + 1, hub.downloads("Q8_0.gguf").size());
        assertArrayEquals(Files.readAllBytes(src), Files.readAllBytes(m.path()));
    }

    @Test
    void noTagMeansQ4KMAndNotTheProjector() throws IOException {
        ResolvedModel m = hf(resolver(null, false, 1), REPO);
        assertEquals("llama-dense-Q4_K_M.gguf", m.path().getFileName().toString());
        assertEquals(sha(SharedData.model("quant/llama-dense-q4_k_m.gguf")), m.sha256());
        assertTrue(hub.downloads("mmproj-llama-dense-Q4_K_M.gguf").isEmpty());
    }

    @Test
    void cutConnectionIsResumedWithARangeRequest() throws IOException {
        long cut = 300_000;
        hub.cutDownloads("llama-dense-Q8_0.gguf", cut, 1);
        ResolvedModel m = hf(resolver(null, false, 3), REPO + ":Q8_0");
        Path src = SharedData.model("quant/llama-dense-q8_0.gguf");
        assertArrayEquals(Files.readAllBytes(src), Files.readAllBytes(m.path()));
        List<FakeHub.Request> gets = hub.downloads("llama-dense-Q8_0.gguf");
        assertEquals(2, gets.size(), gets.toString());
        assertNull(gets.get(0).range());
        // The client resumes from what reached the disk: at most the cut point (bytes in flight may be lost).
        long resumedAt = Long.parseLong(gets.get(1).range().replaceAll("bytes=(\\d+)-", "$1"));
        assertTrue(resumedAt > 0 && resumedAt <= cut, gets.get(1).range());
    }

    @Test
    void partialFileSurvivesAFailedRunAndTheNextRunResumes() throws IOException {
        long cut = 500_000;
        hub.cutDownloads("llama-dense-Q8_0.gguf", cut, 1);
        TrestleException e = assertThrows(TrestleException.class, () -> hf(resolver(null, false, 1), REPO + ":Q8_0"));
        assertTrue(e.getMessage().contains("failed after 1 attempts"), e.getMessage());
        assertTrue(e.fix().contains("resumes"), e.fix());
        Path target = cache.hubPath(HfRepoRef.parse(REPO), "llama-dense-Q8_0.gguf");
        assertFalse(Files.exists(target));
        long kept = Files.size(Downloader.partFile(target));
        assertTrue(kept > 0 && kept <= cut, "kept " + kept);

        ResolvedModel m = hf(resolver(null, false, 1), REPO + ":Q8_0");
        assertArrayEquals(Files.readAllBytes(SharedData.model("quant/llama-dense-q8_0.gguf")), Files.readAllBytes(m.path()));
        List<FakeHub.Request> gets = hub.downloads("llama-dense-Q8_0.gguf");
        assertEquals(2, gets.size());
        assertEquals("bytes=" + kept + "-", gets.get(1).range());
    }

    @Test
    void checksumMismatchIsRefusedAndThePartialFileRemoved() {
        hub.lieAboutSha("llama-dense-Q8_0.gguf", "ab".repeat(32));
        TrestleException e = assertThrows(TrestleException.class, () -> hf(resolver(null, false, 2), REPO + ":Q8_0"));
        assertTrue(e.getMessage().contains("checksum mismatch"), e.getMessage());
        assertTrue(e.getMessage().contains("ab".repeat(32)), e.getMessage());
        Path target = cache.hubPath(HfRepoRef.parse(REPO), "llama-dense-Q8_0.gguf");
        assertFalse(Files.exists(target));
        assertFalse(Files.exists(Downloader.partFile(target)));
        assertTrue(cache.entries().isEmpty());
        // a mismatch is not retried: resuming corrupt bytes cannot succeed
        assertEquals(1, hub.downloads("llama-dense-Q8_0.gguf").size());
    }

    @Test
    void splitModelsDownloadEveryPartAndReturnPartOne() throws IOException {
        ResolvedModel m = hf(resolver(null, false, 1), REPO + ":Q2_K");
        assertTrue(m.isSplit());
        assertEquals(2, m.parts().size());
        assertEquals(m.parts().get(0), m.path());
        assertTrue(m.path().toString().endsWith("Q2_K/stories260K-Q2_K-00001-of-00002.gguf"), m.path().toString());
        assertTrue(m.parts().get(1).toString().endsWith("stories260K-Q2_K-00002-of-00002.gguf"));
        // every part is a real GGUF, and together they hold every tensor of the original, byte for byte
        try (GgufFile orig = GgufFile.open(SharedData.model("stories260K.gguf"));
             GgufFile p1 = GgufFile.open(m.parts().get(0)); GgufFile p2 = GgufFile.open(m.parts().get(1))) {
            assertEquals(orig.tensors().size(), p1.tensors().size() + p2.tensors().size());
            assertEquals(2, p1.metadata().getInt("split.count"));
            assertEquals("llama", p1.metadata().architecture());
            for (var t : orig.tensors().values()) {
                GgufFile holder = p1.tensor(t.name()) != null ? p1 : p2;
                assertArrayEquals(orig.tensorData(t).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE),
                        holder.tensorData(t.name()).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE), t.name());
            }
        }
        assertEquals(2, cache.entriesOfRepo(REPO).size());
    }

    @Test
    void offlineUsesOnlyTheCache() throws IOException {
        ResolvedModel online = hf(resolver(null, false, 1), REPO + ":Q8_0");
        hub.close();
        int requests = hub.requests().size();
        ResolvedModel offline = hf(resolver(null, true, 1), REPO + ":q8_0");
        assertEquals(online.path(), offline.path());
        assertEquals(online.sha256(), offline.sha256());
        assertEquals(requests, hub.requests().size());
        assertTrue(offline.origin().contains("cached"), offline.origin());
    }

    @Test
    void offlineWithoutTheModelSaysWhatToDownload() throws IOException {
        hf(resolver(null, false, 1), REPO + ":Q8_0");
        TrestleException e = assertThrows(TrestleException.class, () -> hf(resolver(null, true, 1), REPO + ":Q4_K_M"));
        assertTrue(e.getMessage().contains("-hf " + REPO + ":Q4_K_M is not in the model cache"), e.getMessage());
        assertTrue(e.getMessage().contains("--offline"), e.getMessage());
        assertTrue(e.getMessage().contains("llama-dense-Q8_0.gguf"), "lists what is cached: " + e.getMessage());
        assertTrue(e.fix().contains("trestle models -hf " + REPO + ":Q4_K_M"), e.fix());
        assertTrue(e.fix().contains(cache.root().toString()), e.fix());
    }

    @Test
    void unreachableHubFallsBackToTheCacheWithAWarning() throws IOException {
        ResolvedModel online = hf(resolver(null, false, 1), REPO + ":Q8_0");
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        HubClient dead = new HubClient(URI.create("http://127.0.0.1:" + port), null, HubClient.newHttpClient());
        ModelResolver r = new ModelResolver(cache, dead, new Downloader(HubClient.newHttpClient(), 1, Duration.ZERO),
                false, DownloadProgress.NONE, log::add);
        ResolvedModel m = hf(r, REPO + ":Q8_0");
        assertEquals(online.path(), m.path());
        assertTrue(log.stream().anyMatch(l -> l.startsWith("warning: cannot reach the model hub")), log.toString());
        TrestleException e = assertThrows(TrestleException.class, () -> hf(r, REPO + ":F16"));
        assertTrue(e.getMessage().contains("cannot be reached"), e.getMessage());
    }

    @Test
    void badTokenGivesAClear401() {
        TrestleException e = assertThrows(TrestleException.class, () -> hf(resolver("hf_wrong", false, 1), PRIVATE));
        assertTrue(e.getMessage().contains("401"), e.getMessage());
        assertTrue(e.getMessage().contains("refused the access token"), e.getMessage());
        assertTrue(e.getMessage().contains("Invalid credentials"), "carries the hub's own words: " + e.getMessage());
        assertTrue(e.fix().contains("HF_TOKEN") && e.fix().contains("--hf-token"), e.fix());

        TrestleException anon = assertThrows(TrestleException.class, () -> hf(resolver(null, false, 1), PRIVATE));
        assertTrue(anon.getMessage().contains("401") && anon.getMessage().contains("wants a login"), anon.getMessage());

        ResolvedModel ok = hf(resolver(FakeHub.GOOD_TOKEN, false, 1), PRIVATE);
        assertEquals("stories260K-F32.gguf", ok.path().getFileName().toString());
        assertTrue(hub.downloads("stories260K-F32.gguf").stream()
                .allMatch(r -> ("Bearer " + FakeHub.GOOD_TOKEN).equals(r.authorization())));
    }

    @Test
    void unknownRepoAndFileAreNotFoundWithAHint() {
        // anonymous: the hub answers 401, but its error code says the repository does not exist
        TrestleException e = assertThrows(TrestleException.class, () -> hf(resolver(null, false, 1), "test-org/nope"));
        assertTrue(e.getMessage().contains("repository test-org/nope was not found")
                && e.getMessage().contains("(401 RepoNotFound): Repository not found"), e.getMessage());
        assertTrue(e.fix().contains("check the spelling") && e.fix().contains("HF_TOKEN"), e.fix());
        TrestleException withToken = assertThrows(TrestleException.class,
                () -> hf(resolver(FakeHub.GOOD_TOKEN, false, 1), "test-org/nope"));
        assertTrue(withToken.getMessage().contains("404 RepoNotFound"), withToken.getMessage());
        TrestleException url = assertThrows(TrestleException.class, () -> resolver(null, false, 1).resolve(
                ModelSource.of(null, null, null, hub.endpoint() + "/" + REPO + "/resolve/main/gone.gguf", false), null));
        assertTrue(url.getMessage().contains("file gone.gguf was not found") && url.getMessage().contains("EntryNotFound"),
                url.getMessage());
        TrestleException f = assertThrows(TrestleException.class, () -> resolver(null, false, 1)
                .resolve(ModelSource.of(null, REPO, "missing.gguf", null, false), null));
        assertTrue(f.getMessage().contains("missing.gguf") && f.getMessage().contains("llama-dense-Q8_0.gguf"), f.getMessage());
    }

    @Test
    void pagedListingsAndRedirectedDownloadsWork() throws IOException {
        hub.pageSize(2).redirectDownloads();
        ResolvedModel m = hf(resolver(null, false, 1), REPO + ":Q2_K");
        assertEquals(2, m.parts().size());
        assertTrue(hub.requests().stream().anyMatch(r -> r.path().startsWith("/cdn/")));
    }

    @Test
    void modelUrlDownloadsIntoTheCacheAndChecksSha() throws IOException {
        String url = hub.endpoint() + "/" + REPO + "/resolve/main/llama-dense-Q4_K_M.gguf";
        Path src = SharedData.model("quant/llama-dense-q4_k_m.gguf");
        ResolvedModel m = resolver(null, false, 1).resolve(ModelSource.of(null, null, null, url, false), sha(src).toUpperCase());
        assertArrayEquals(Files.readAllBytes(src), Files.readAllBytes(m.path()));
        assertTrue(m.path().startsWith(cache.root().resolve("url")));
        assertEquals(url, cache.entryFor(m.path()).orElseThrow().url());

        // offline, the URL comes from the cache; a wrong --model-sha256 is refused
        ModelResolver off = resolver(null, true, 1);
        assertEquals(m.path(), off.resolve(ModelSource.of(null, null, null, url, false), null).path());
        TrestleException e = assertThrows(TrestleException.class,
                () -> off.resolve(ModelSource.of(null, null, null, url, false), "00".repeat(32)));
        assertTrue(e.getMessage().contains("refusing to load") && e.getMessage().contains(sha(src)), e.getMessage());
    }

    @Test
    void splitModelUrlFetchesEveryPart() throws IOException {
        String url = hub.endpoint() + "/" + REPO + "/resolve/main/Q2_K/stories260K-Q2_K-00001-of-00002.gguf";
        ResolvedModel m = resolver(null, false, 1).resolve(ModelSource.of(null, null, null, url, false), null);
        assertEquals(2, m.parts().size());
        assertEquals(m.parts().get(0).getParent(), m.parts().get(1).getParent());
        assertTrue(m.parts().get(1).getFileName().toString().endsWith("00002-of-00002.gguf"));
    }

    @Test
    void progressIsReportedAcrossAResume() {
        hub.cutDownloads("llama-dense-Q8_0.gguf", 400_000, 1);
        java.io.StringWriter sw = new java.io.StringWriter();
        ProgressPrinter printer = new ProgressPrinter(new java.io.PrintWriter(sw), false, System::nanoTime);
        HubClient client = new HubClient(hub.endpoint(), null, HubClient.newHttpClient());
        new ModelResolver(cache, client, new Downloader(HubClient.newHttpClient(), 2, Duration.ZERO), false, printer, log::add)
                .resolve(ModelSource.of(null, REPO + ":Q8_0", null, null, false), null);
        String out = sw.toString();
        assertTrue(out.startsWith("downloading llama-dense-Q8_0.gguf (1.2 MiB)"), out);
        assertTrue(out.contains("interrupted"), out);
        assertTrue(out.contains(", resuming at "), out);
        assertTrue(out.strip().endsWith("done"), out);
        assertTrue(log.stream().anyMatch(l -> l.contains("verified")), log.toString());
    }

    @Test
    void concurrentDownloadsOfOneFileDoNotCorruptIt() throws Exception {
        Path src = SharedData.model("quant/llama-dense-q8_0.gguf");
        String sha = sha(src);
        URI uri = URI.create(hub.endpoint() + "/" + REPO + "/resolve/main/llama-dense-Q8_0.gguf");
        Path target = tmp.resolve("dl").resolve("m.gguf");
        Downloader d = new Downloader(HubClient.newHttpClient(), 1, Duration.ZERO);
        var pool = java.util.concurrent.Executors.newFixedThreadPool(3);
        try {
            List<java.util.concurrent.Future<Downloader.Result>> fs = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                fs.add(pool.submit(() -> d.download(new Downloader.Request(uri, null, Files.size(src), sha), target,
                        DownloadProgress.NONE)));
            }
            for (var f : fs) {
                assertEquals(sha, f.get().sha256());
            }
        } finally {
            pool.shutdown();
        }
        assertArrayEquals(Files.readAllBytes(src), Files.readAllBytes(target));
    }

    @Test
    void aFileLargerThanTheFreeSpaceIsRefusedBeforeDownloading() {
        URI uri = URI.create(hub.endpoint() + "/" + REPO + "/resolve/main/llama-dense-Q8_0.gguf");
        Downloader d = new Downloader(HubClient.newHttpClient(), 1, Duration.ZERO);
        TrestleException e = assertThrows(TrestleException.class, () -> d.download(
                new Downloader.Request(uri, null, Long.MAX_VALUE / 2, null), tmp.resolve("big.gguf"), DownloadProgress.NONE));
        assertTrue(e.getMessage().contains("not enough disk space"), e.getMessage());
        assertTrue(e.fix().contains("--cache-dir"), e.fix());
        assertTrue(hub.downloads("llama-dense-Q8_0.gguf").isEmpty());
    }
}
