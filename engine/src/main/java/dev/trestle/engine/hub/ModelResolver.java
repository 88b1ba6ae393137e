package dev.trestle.engine.hub;

import dev.trestle.common.TrestleException;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * Turns a {@link ModelSource} into local files: uses {@code -m} files where they are, fetches
 * {@code -hf} and {@code -mu} models into the {@link ModelCache} (or finds them there), writes the demo
 * model, and checks {@code --model-sha256}.
 *
 * <p>Offline ({@code --offline}) nothing touches the network: a model that is not cached fails with a
 * message that says what to download. Online, a hub that cannot be reached falls back to a cached copy
 * with a warning, as llama.cpp does.
 */
public final class ModelResolver {
    private final ModelCache cache;
    private final HubClient hub;
    private final Downloader downloader;
    private final boolean offline;
    private final DownloadProgress progress;
    private final Consumer<String> log;

    /**
     * @param hub      the hub to ask (its token is also sent to -mu URLs on the hub's own host)
     * @param offline  use only the cache
     * @param progress receives download progress
     * @param log      receives one-line notes for the startup log (what was used, warnings)
     */
    public ModelResolver(ModelCache cache, HubClient hub, Downloader downloader, boolean offline,
                         DownloadProgress progress, Consumer<String> log) {
        this.cache = cache;
        this.hub = hub;
        this.downloader = downloader;
        this.offline = offline;
        this.progress = progress;
        this.log = log;
    }

    public ModelCache cache() {
        return cache;
    }

    /**
     * Resolves {@code source} to local files, downloading when needed and allowed.
     *
     * @param expectedSha256 {@code --model-sha256} (64 hex digits), or null; a file whose sha256 differs is
     *                       refused (for a split model: part 1)
     */
    public ResolvedModel resolve(ModelSource source, String expectedSha256) {
        String want = normalizeSha(expectedSha256);
        ResolvedModel r = switch (source) {
            case ModelSource.LocalFile f -> local(f);
            case ModelSource.HubRepo h -> offline ? hubFromCache(h, null) : hubOnline(h);
            case ModelSource.Url u -> url(u);
            case ModelSource.Demo d -> demo(d);
        };
        if (want != null) {
            String got = r.sha256() != null ? r.sha256() : cache.sha256(r.path());
            if (!got.equals(want)) {
                throw new TrestleException("refusing to load " + r.path() + ": its sha256 is " + got
                        + " but --model-sha256 expects " + want,
                        "make sure this is the file you meant; if it was updated on purpose, update --model-sha256");
            }
            log.accept("sha256 verified: " + got);
            r = new ResolvedModel(r.path(), r.parts(), r.source(), r.origin(), got);
        }
        return r;
    }

    /** Checks and lower-cases a {@code --model-sha256} value; null stays null. */
    public static String normalizeSha(String hex) {
        if (hex == null || hex.isBlank()) {
            return null;
        }
        String h = hex.strip().toLowerCase(Locale.ROOT);
        if (h.startsWith("sha256:")) {
            h = h.substring("sha256:".length());
        }
        if (!h.matches("[0-9a-f]{64}")) {
            throw new TrestleException("--model-sha256 '" + hex + "' is not a sha256 (64 hex digits)",
                    "get it with `sha256sum FILE` or `trestle models -m FILE`");
        }
        return h;
    }

    private ResolvedModel local(ModelSource.LocalFile f) {
        Path p = f.path();
        if (!Files.isRegularFile(p)) {
            throw new TrestleException("model file not found: " + p,
                    Files.isDirectory(p) ? "-m wants a .gguf file, not a folder" : "check the path given to -m");
        }
        List<Path> parts = new ArrayList<>();
        GgufSplitName split = GgufSplitName.parse(p.getFileName().toString());
        if (split != null && split.isSplit()) {
            if (split.index() != 1) {
                throw new TrestleException(p + " is part " + split.index() + " of a split model",
                        "pass part 1: " + p.resolveSibling(split.partName(1)));
            }
            for (int i = 1; i <= split.count(); i++) {
                Path part = p.resolveSibling(split.partName(i));
                if (!Files.isRegularFile(part)) {
                    throw new TrestleException("split model part " + i + " of " + split.count() + " is missing: " + part,
                            "put every part of the model in the same folder");
                }
                parts.add(part);
            }
        } else {
            parts.add(p);
        }
        return new ResolvedModel(p, parts, f, "local file", cache.knownSha256(p).orElse(null));
    }

    private ResolvedModel demo(ModelSource.Demo d) {
        Path p = DemoModel.ensure(cache);
        log.accept(DemoModel.NOTICE);
        return new ResolvedModel(p, List.of(p), d, "built-in demo model", cache.sha256(p));
    }

    private ResolvedModel hubOnline(ModelSource.HubRepo h) {
        try {
            return hubOnlineUnchecked(h);
        } catch (IOException e) {
            throw new TrestleException("cannot read the model cache in " + cache.root() + ": " + e.getMessage(),
                    "check --cache-dir / TRESTLE_CACHE points at a readable, writable folder");
        }
    }

    private ResolvedModel hubOnlineUnchecked(ModelSource.HubRepo h) throws IOException {
        HfRepoRef ref = h.ref();
        HubListing listing;
        try {
            listing = hub.list(ref);
        } catch (TrestleException e) {
            if (!(e.getCause() instanceof IOException)) {
                throw e;
            }
            // The hub is unreachable: a cached copy is better than nothing, but say so.
            ResolvedModel cached = hubFromCache(h, e);
            log.accept("warning: " + e.getMessage() + "; using the cached copy " + cached.path());
            return cached;
        }
        List<HubFile> files = HubFileChooser.choose(ref, listing.files(), h.hfFile());
        List<Path> paths = new ArrayList<>();
        String sha = null;
        for (HubFile f : files) {
            Path dest = cache.hubPath(ref, f.path());
            String got = cachedCopy(dest, f).orElse(null);
            if (got == null) {
                URI uri = hub.fileUri(ref, listing.revision(), f.path());
                Downloader.Result r = downloader.download(
                        new Downloader.Request(uri, hub.token(), f.size(), f.sha256()), dest, progress);
                cache.record(dest, "hf", uri.toString(), ref.repo(), f.path(), listing.revision(), r.sha256(), r.size());
                got = r.sha256();
                log.accept("downloaded " + ref.repo() + "/" + f.path() + " (" + ProgressPrinter.bytes(r.size())
                        + ", sha256 " + got + (f.sha256() != null ? ", verified" : "") + ")");
            } else {
                if (cache.entryFor(dest).isEmpty()) {
                    // the file is right but the index lost it (deleted index.json): index it again
                    URI uri = hub.fileUri(ref, listing.revision(), f.path());
                    cache.record(dest, "hf", uri.toString(), ref.repo(), f.path(), listing.revision(), got, Files.size(dest));
                }
                log.accept("using cached " + dest);
            }
            if (sha == null) {
                sha = got;
            }
            paths.add(dest);
        }
        String origin = ref.repo() + "@" + shortRev(listing.revision()) + " " + files.get(0).path()
                + (files.size() > 1 ? " (+" + (files.size() - 1) + " parts)" : "");
        return new ResolvedModel(paths.get(0), paths, h, origin, sha);
    }

    /** The sha256 of the cached copy of {@code f} when it is there and matches the hub's size and hash. */
    private Optional<String> cachedCopy(Path dest, HubFile f) {
        try {
            if (!Files.isRegularFile(dest) || (f.size() >= 0 && Files.size(dest) != f.size())) {
                return Optional.empty();
            }
        } catch (IOException e) {
            return Optional.empty();
        }
        String sha = cache.sha256(dest);
        if (f.sha256() != null && !f.sha256().equals(sha)) {
            return Optional.empty();
        }
        return Optional.of(sha);
    }

    /** The model from cached files only; {@code cause} is the network failure that led here, if any. */
    private ResolvedModel hubFromCache(ModelSource.HubRepo h, TrestleException cause) {
        HfRepoRef ref = h.ref();
        List<CacheEntry> entries = new ArrayList<>();
        for (CacheEntry e : cache.entriesOfRepo(ref.repo())) {
            if (Files.isRegularFile(cache.fileOf(e))) {
                entries.add(e);
            }
        }
        List<HubFile> files = entries.stream().map(e -> new HubFile(e.file(), e.size(), e.sha256())).toList();
        List<HubFile> chosen;
        try {
            if (entries.isEmpty()) {
                throw new TrestleException("none cached");
            }
            chosen = HubFileChooser.choose(ref, files, h.hfFile());
        } catch (TrestleException notThere) {
            throw missing(ref, h.hfFile(), entries, cause);
        }
        List<Path> paths = new ArrayList<>();
        CacheEntry first = null;
        for (HubFile f : chosen) {
            CacheEntry e = entries.stream().filter(x -> x.file().equals(f.path())).findFirst().orElseThrow();
            first = first == null ? e : first;
            paths.add(cache.fileOf(e));
        }
        String origin = ref.repo() + "@" + shortRev(first.revision()) + " " + first.file() + " (cached)";
        return new ResolvedModel(paths.get(0), paths, h, origin, first.sha256());
    }

    private TrestleException missing(HfRepoRef ref, String hfFile, List<CacheEntry> cached, TrestleException cause) {
        String what = "-hf " + ref + (hfFile == null ? "" : " --hf-file " + hfFile);
        StringBuilder msg = new StringBuilder(what).append(" is not in the model cache (").append(cache.root()).append(')');
        msg.append(cause != null ? " and the hub cannot be reached: " + cause.getMessage()
                : " and --offline forbids downloading");
        if (!cached.isEmpty()) {
            msg.append("; cached files of ").append(ref.repo()).append(':');
            for (CacheEntry e : cached) {
                msg.append("\n  - ").append(e.file());
            }
        }
        return new TrestleException(msg.toString(), "download it once with network: trestle models " + what
                + " --cache-dir " + cache.root() + " (or run this command without --offline)", 1, cause);
    }

    private ResolvedModel url(ModelSource.Url u) {
        List<URI> partUris = new ArrayList<>();
        String path = u.uri().getPath() == null ? "" : u.uri().getPath();
        GgufSplitName split = GgufSplitName.parse(path);
        if (split != null && split.isSplit()) {
            String s = u.uri().toString();
            String base = s.substring(0, s.lastIndexOf('/') + 1);
            for (int i = 1; i <= split.count(); i++) {
                partUris.add(URI.create(base + split.partName(i).substring(split.partName(i).lastIndexOf('/') + 1)));
            }
        } else {
            partUris.add(u.uri());
        }
        List<Path> paths = new ArrayList<>();
        String sha = null;
        for (URI part : partUris) {
            Path dest = cache.urlPath(part);
            Optional<CacheEntry> entry = cache.entryForUrl(part.toString()).filter(e -> Files.isRegularFile(cache.fileOf(e)));
            String got;
            if (entry.isPresent()) {
                got = entry.get().sha256();
                dest = cache.fileOf(entry.get());
                log.accept("using cached " + dest);
            } else if (offline) {
                throw new TrestleException("-mu " + part + " is not in the model cache (" + cache.root()
                        + ") and --offline forbids downloading",
                        "download it once with network: trestle models -mu " + u.uri() + " --cache-dir " + cache.root());
            } else {
                String token = part.getHost().equalsIgnoreCase(hub.endpoint().getHost()) ? hub.token() : null;
                Downloader.Result r = downloader.download(new Downloader.Request(part, token, -1, null), dest, progress);
                String name = dest.getFileName().toString();
                cache.record(dest, "url", part.toString(), null, name, null, r.sha256(), r.size());
                got = r.sha256();
                log.accept("downloaded " + part + " (" + ProgressPrinter.bytes(r.size()) + ", sha256 " + got + ")");
            }
            if (sha == null) {
                sha = got;
            }
            paths.add(dest);
        }
        return new ResolvedModel(paths.get(0), paths, u, u.uri().toString(), sha);
    }

    private static String shortRev(String rev) {
        return rev == null ? "?" : rev.length() > 12 ? rev.substring(0, 12) : rev;
    }
}
