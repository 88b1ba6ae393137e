package dev.trestle.engine.hub;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.trestle.common.TrestleException;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.UnaryOperator;

/**
 * The folder where downloaded (and demo) models live, with {@code index.json}: for every model its
 * source URL, repository, revision, sha256, size and download time, plus a memo of sha256 sums of
 * any model file by (absolute path, size, mtime), so a file is hashed once and not on every start.
 *
 * <p>Folder: {@code --cache-dir}, else {@code TRESTLE_CACHE}, else the OS's user cache folder
 * ({@code $XDG_CACHE_HOME/trestle} or {@code ~/.cache/trestle} on Linux, {@code ~/Library/Caches/trestle}
 * on macOS, {@code %LOCALAPPDATA%\trestle} on Windows). Several processes may share it: index
 * updates take a file lock and replace the index atomically.
 */
public final class ModelCache {
    static final String INDEX = "index.json";
    private static final String LOCK = "index.lock";
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    /** File locks are per process; threads of this process queue here first. */
    private static final ReentrantLock IN_PROCESS = new ReentrantLock();

    private final Path root;

    public ModelCache(Path root) {
        this.root = root.toAbsolutePath().normalize();
    }

    /** The cache chosen by {@code --cache-dir} (may be null), else the environment, else the OS default. */
    public static ModelCache locate(Path cacheDirFlag, Map<String, String> env) {
        if (cacheDirFlag != null) {
            return new ModelCache(cacheDirFlag);
        }
        String t = env.get("TRESTLE_CACHE");
        if (t != null && !t.isBlank()) {
            return new ModelCache(Path.of(t));
        }
        return new ModelCache(defaultRoot(env, System.getProperty("os.name", ""), System.getProperty("user.home", ".")));
    }

    /** The OS's per-user cache folder plus "trestle". */
    static Path defaultRoot(Map<String, String> env, String osName, String userHome) {
        String os = osName.toLowerCase(Locale.ROOT);
        if (os.startsWith("windows")) {
            String local = env.get("LOCALAPPDATA");
            return local != null && !local.isBlank() ? Path.of(local, "trestle")
                    : Path.of(userHome, "AppData", "Local", "trestle");
        }
        if (os.startsWith("mac") || os.startsWith("darwin")) {
            return Path.of(userHome, "Library", "Caches", "trestle");
        }
        String xdg = env.get("XDG_CACHE_HOME");
        // XDG says a relative value is invalid and must be ignored.
        if (xdg != null && !xdg.isBlank() && Path.of(xdg).isAbsolute()) {
            return Path.of(xdg, "trestle");
        }
        return Path.of(userHome, ".cache", "trestle");
    }

    public Path root() {
        return root;
    }

    /** Where a hub file is stored: {@code hf/OWNER/NAME/PATH}. */
    public Path hubPath(HfRepoRef ref, String repoPath) {
        if (!HubClient.safeRepoPath(repoPath)) {
            throw new TrestleException("unsafe file path '" + repoPath + "' in repository " + ref.repo(),
                    "the hub listing is malformed; pick the file with --hf-file or use -mu URL");
        }
        return root.resolve("hf").resolve(ref.owner()).resolve(ref.name()).resolve(repoPath).normalize();
    }

    /** Where a {@code -mu} download is stored: {@code url/HOST/HASH8/FILENAME} (HASH8 tells apart equal names). */
    public Path urlPath(URI url) {
        String host = url.getHost() == null ? "local" : url.getHost().toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9.\\-]", "_");
        String p = url.getPath() == null ? "" : url.getPath();
        String name = p.substring(p.lastIndexOf('/') + 1).replaceAll("[^A-Za-z0-9._\\-]", "_");
        if (name.isEmpty() || name.equals(".") || name.equals("..")) {
            name = "model.gguf";
        }
        String dirUrl = url.toString();
        // Parts of one split share a folder so that they sit beside each other.
        GgufSplitName split = GgufSplitName.parse(p);
        if (split != null && split.isSplit()) {
            dirUrl = dirUrl.substring(0, dirUrl.lastIndexOf('/') + 1) + split.prefix();
        }
        String hash = HexFormat.of().formatHex(Downloader.sha256().digest(dirUrl.getBytes(StandardCharsets.UTF_8)))
                .substring(0, 8);
        return root.resolve("url").resolve(host).resolve(hash).resolve(name);
    }

    /** Where the demo model is written. */
    public Path demoPath(String fileName) {
        return root.resolve("demo").resolve(fileName);
    }

    /** {@code file} relative to the cache root (with '/' separators), or null when it lies outside. */
    public String relative(Path file) {
        Path abs = file.toAbsolutePath().normalize();
        if (!abs.startsWith(root)) {
            return null;
        }
        return root.relativize(abs).toString().replace('\\', '/');
    }

    /** Every indexed model, in the order they were added. */
    public List<CacheEntry> entries() {
        JsonNode idx = readIndex();
        List<CacheEntry> out = new ArrayList<>();
        for (JsonNode n : idx.path("models")) {
            CacheEntry e = fromJson(n);
            // An entry that points outside the cache (a hand-edited index) is not ours to use.
            if (!e.path().isEmpty() && root.resolve(e.path()).normalize().startsWith(root)) {
                out.add(e);
            }
        }
        return out;
    }

    /** The entry for a file in the cache, if indexed. */
    public Optional<CacheEntry> entryFor(Path file) {
        String rel = relative(file);
        return rel == null ? Optional.empty() : entries().stream().filter(e -> e.path().equals(rel)).findFirst();
    }

    /** Entries of one hub repository ("owner/name", matched ignoring case as the hub does). */
    public List<CacheEntry> entriesOfRepo(String repo) {
        return entries().stream().filter(e -> e.repo() != null && e.repo().equalsIgnoreCase(repo)).toList();
    }

    /** The entry downloaded from {@code url}, if any. */
    public Optional<CacheEntry> entryForUrl(String url) {
        return entries().stream().filter(e -> url.equals(e.url())).findFirst();
    }

    /** Absolute path of an entry's file. */
    public Path fileOf(CacheEntry e) {
        return root.resolve(e.path()).normalize();
    }

    /**
     * Adds or replaces (by path) an index entry and remembers the file's hash. Call after the file is in
     * its final place.
     */
    public CacheEntry record(Path file, String source, String url, String repo, String repoFile, String revision,
                             String sha256, long size) {
        String rel = relative(file);
        if (rel == null) {
            throw new IllegalArgumentException(file + " is not inside the cache " + root);
        }
        CacheEntry e = new CacheEntry(rel, source, url, repo, repoFile, revision, sha256, size, Instant.now().toString());
        update(idx -> {
            ArrayNode models = idx.withArray("/models");
            for (int i = models.size() - 1; i >= 0; i--) {
                if (rel.equals(models.get(i).path("path").asText())) {
                    models.remove(i);
                }
            }
            models.add(JSON.valueToTree(toJsonMap(e)));
            return idx;
        });
        rememberHash(file, sha256);
        return e;
    }

    /** Removes the entries whose files are gone; returns how many. */
    public int forgetMissing() {
        int[] removed = {0};
        update(idx -> {
            ArrayNode models = idx.withArray("/models");
            for (int i = models.size() - 1; i >= 0; i--) {
                if (!Files.isRegularFile(root.resolve(models.get(i).path("path").asText()))) {
                    models.remove(i);
                    removed[0]++;
                }
            }
            return idx;
        });
        return removed[0];
    }

    /**
     * The sha256 of any file (in the cache or not), computed once and remembered by absolute path,
     * size and modification time; a file that changed in any of those is hashed again.
     */
    public String sha256(Path file) {
        Path abs = file.toAbsolutePath().normalize();
        FileStamp stamp = FileStamp.of(abs);
        Optional<String> known = knownHash(abs, stamp);
        if (known.isPresent()) {
            return known.get();
        }
        String sha = hashFile(abs);
        if (FileStamp.of(abs).equals(stamp)) {
            remember(abs, stamp, sha);
        }
        return sha;
    }

    /** The remembered sha256 of {@code file} if it has not changed since, without hashing. */
    public Optional<String> knownSha256(Path file) {
        Path abs = file.toAbsolutePath().normalize();
        return knownHash(abs, FileStamp.of(abs));
    }

    /** Records that {@code file} (as it is now) has {@code sha256}, e.g. right after a verified download. */
    public void rememberHash(Path file, String sha256) {
        Path abs = file.toAbsolutePath().normalize();
        remember(abs, FileStamp.of(abs), sha256);
    }

    private Optional<String> knownHash(Path abs, FileStamp stamp) {
        for (JsonNode h : readIndex().path("hashes")) {
            if (abs.toString().equals(h.path("path").asText()) && h.path("size").asLong(-1) == stamp.size
                    && h.path("mtime_ms").asLong(-1) == stamp.mtimeMs) {
                return Optional.of(h.path("sha256").asText());
            }
        }
        return Optional.empty();
    }

    private void remember(Path abs, FileStamp stamp, String sha) {
        update(idx -> {
            ArrayNode hashes = idx.withArray("/hashes");
            for (int i = hashes.size() - 1; i >= 0; i--) {
                if (abs.toString().equals(hashes.get(i).path("path").asText())) {
                    hashes.remove(i);
                }
            }
            ObjectNode h = hashes.addObject();
            h.put("path", abs.toString());
            h.put("size", stamp.size);
            h.put("mtime_ms", stamp.mtimeMs);
            h.put("sha256", sha);
            return idx;
        });
    }

    /** sha256 of a whole file, streamed. */
    public static String hashFile(Path file) {
        MessageDigest md = Downloader.sha256();
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buf = new byte[1 << 20];
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
        } catch (IOException e) {
            throw new TrestleException("cannot read " + file + " to hash it: " + e.getMessage(),
                    "check that the file exists and is readable");
        }
        return HexFormat.of().formatHex(md.digest());
    }

    private record FileStamp(long size, long mtimeMs) {
        static FileStamp of(Path p) {
            try {
                return new FileStamp(Files.size(p), Files.getLastModifiedTime(p).toMillis());
            } catch (IOException e) {
                throw new TrestleException("cannot read " + p + ": " + e.getMessage(), "check the model path");
            }
        }
    }

    private JsonNode readIndex() {
        Path idx = root.resolve(INDEX);
        if (!Files.isRegularFile(idx)) {
            return JSON.createObjectNode();
        }
        try {
            JsonNode n = JSON.readTree(idx.toFile());
            return n != null && n.isObject() ? n : JSON.createObjectNode();
        } catch (IOException e) {
            throw new TrestleException("the cache index " + idx + " is unreadable: " + e.getMessage(),
                    "delete " + idx + " (the model files stay; they are re-indexed on their next download)");
        }
    }

    /** Read-modify-write of the index under the process lock and the file lock; written atomically. */
    private void update(UnaryOperator<ObjectNode> change) {
        IN_PROCESS.lock();
        try {
            Files.createDirectories(root);
            try (FileChannel lockCh = FileChannel.open(root.resolve(LOCK), StandardOpenOption.CREATE,
                    StandardOpenOption.WRITE); FileLock ignored = lockCh.lock()) {
                JsonNode cur = readIndex();
                ObjectNode idx = cur instanceof ObjectNode o ? o : JSON.createObjectNode();
                idx.put("version", 1);
                ObjectNode next = change.apply(idx);
                Path tmp = root.resolve(INDEX + ".tmp" + ProcessHandle.current().pid());
                JSON.writeValue(tmp.toFile(), next);
                try {
                    Files.move(tmp, root.resolve(INDEX), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                } catch (AtomicMoveNotSupportedException e) {
                    Files.move(tmp, root.resolve(INDEX), StandardCopyOption.REPLACE_EXISTING);
                }
            }
        } catch (IOException e) {
            throw new TrestleException("cannot update the cache index in " + root + ": " + e.getMessage(),
                    "check --cache-dir / TRESTLE_CACHE points at a writable folder");
        } finally {
            IN_PROCESS.unlock();
        }
    }

    private static Map<String, Object> toJsonMap(CacheEntry e) {
        Map<String, Object> m = new java.util.LinkedHashMap<>();
        m.put("path", e.path());
        m.put("source", e.source());
        m.put("url", e.url());
        m.put("repo", e.repo());
        m.put("file", e.file());
        m.put("revision", e.revision());
        m.put("sha256", e.sha256());
        m.put("size", e.size());
        m.put("downloaded_at", e.downloadedAt());
        return m;
    }

    private static CacheEntry fromJson(JsonNode n) {
        return new CacheEntry(n.path("path").asText(), text(n, "source"), text(n, "url"), text(n, "repo"),
                text(n, "file"), text(n, "revision"), text(n, "sha256"), n.path("size").asLong(-1),
                text(n, "downloaded_at"));
    }

    private static String text(JsonNode n, String field) {
        JsonNode v = n.get(field);
        return v == null || v.isNull() ? null : v.asText();
    }
}
