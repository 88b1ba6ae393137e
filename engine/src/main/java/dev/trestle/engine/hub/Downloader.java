package dev.trestle.engine.hub;

import dev.trestle.common.TrestleException;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Downloads one file into place, resumably and verified.
 *
 * <p>Bytes go to {@code NAME.part} beside the target. A cut connection is retried with
 * {@code Range: bytes=N-} from what is already on disk (also in a later run). Only when the size and
 * the sha256 match what the source promised does the part file get its final name; on a mismatch it
 * is deleted, because resuming from corrupt bytes can never succeed.
 */
public final class Downloader {
    private static final int MAX_REDIRECTS = 10;
    private static final ConcurrentHashMap<Path, ReentrantLock> LOCAL_LOCKS = new ConcurrentHashMap<>();
    private static final Pattern CONTENT_RANGE = Pattern.compile("bytes\\s+(\\d+)-(\\d+)/(\\d+|\\*)");

    private final HttpClient http;
    private final int maxAttempts;
    private final Duration retryDelay;

    /**
     * @param maxAttempts connections tried per file before giving up (each resumes the previous one)
     * @param retryDelay  pause before the second attempt, doubled for each further one
     */
    public Downloader(HttpClient http, int maxAttempts, Duration retryDelay) {
        if (maxAttempts < 1) {
            throw new IllegalArgumentException("maxAttempts must be at least 1");
        }
        this.http = http;
        this.maxAttempts = maxAttempts;
        this.retryDelay = retryDelay;
    }

    /**
     * What to fetch and what it must turn out to be.
     *
     * @param uri            source URL
     * @param bearerToken    sent as {@code Authorization: Bearer} to the source's host only (never after a
     *                       redirect to another host), or null
     * @param expectedSize   bytes, or -1 when the source did not say
     * @param expectedSha256 lower-case hex, or null when the source did not say
     */
    public record Request(URI uri, String bearerToken, long expectedSize, String expectedSha256) {
    }

    /** A completed, verified download. */
    public record Result(Path path, long size, String sha256) {
    }

    /** The temporary file that collects the bytes of {@code target}. */
    public static Path partFile(Path target) {
        return target.resolveSibling(target.getFileName() + ".part");
    }

    /**
     * Downloads {@code req} to {@code target} (replacing it), resuming a {@code .part} file left by an
     * earlier attempt. Throws a {@link TrestleException} naming the cause when the file cannot be had.
     */
    public Result download(Request req, Path target, DownloadProgress progress) {
        Path part = partFile(target);
        String name = target.getFileName().toString();
        try {
            Files.createDirectories(target.toAbsolutePath().getParent());
        } catch (IOException e) {
            throw new TrestleException("cannot create the folder for " + target + ": " + e.getMessage(),
                    "check --cache-dir / TRESTLE_CACHE points at a writable folder");
        }
        checkSpace(target, req.expectedSize() - sizeOr0(part));
        // One writer per part file: other threads queue on the in-process lock, other processes on the file lock.
        Path lockPath = target.resolveSibling(target.getFileName() + ".lock");
        ReentrantLock local = LOCAL_LOCKS.computeIfAbsent(lockPath.toAbsolutePath().normalize(), k -> new ReentrantLock());
        local.lock();
        try (FileChannel lockCh = FileChannel.open(lockPath, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
             FileLock ignored = lockCh.lock()) {
            return downloadLocked(req, target, part, name, progress);
        } catch (IOException e) {
            throw new TrestleException("cannot lock " + lockPath + ": " + e.getMessage(),
                    "check --cache-dir / TRESTLE_CACHE points at a writable folder");
        } finally {
            local.unlock();
        }
    }

    private Result downloadLocked(Request req, Path target, Path part, String name, DownloadProgress progress) {
        IOException lastCut = null;
        long delayMs = retryDelay.toMillis();
        for (int attempt = 1; attempt <= maxAttempts; attempt++) {
            if (attempt > 1 && delayMs > 0) {
                sleep(delayMs);
                delayMs *= 2;
            }
            try {
                Result r = attempt(req, target, part, name, progress);
                if (r != null) {
                    return r;
                }
            } catch (IOException e) {
                lastCut = e;
            }
        }
        long have = sizeOr0(part);
        throw new TrestleException("download of " + name + " from " + req.uri() + " failed after " + maxAttempts
                + " attempts" + (lastCut == null ? "" : ": " + lastCut.getMessage())
                + (have > 0 ? " (" + ProgressPrinter.bytes(have) + " kept in " + part + ")" : ""),
                "run the same command again: the download resumes where it stopped", 1, lastCut);
    }

    private static void checkSpace(Path target, long needed) {
        if (needed <= 0) {
            return;
        }
        try {
            long free = Files.getFileStore(target.toAbsolutePath().getParent()).getUsableSpace();
            if (free < needed) {
                throw new TrestleException("not enough disk space for " + target.getFileName() + ": it needs "
                        + ProgressPrinter.bytes(needed) + " more, " + ProgressPrinter.bytes(free) + " are free in "
                        + target.getParent(), "free some space, or point --cache-dir / TRESTLE_CACHE at a larger disk");
            }
        } catch (IOException e) {
            // The space cannot be queried on every file system; the write itself will fail clearly if it runs out.
        }
    }

    /** One connection; returns null when it should be retried at once, throws IOException when cut. */
    private Result attempt(Request req, Path target, Path part, String name, DownloadProgress progress)
            throws IOException {
        long have = sizeOr0(part);
        if (req.expectedSize() >= 0 && have > req.expectedSize()) {
            Files.deleteIfExists(part);
            have = 0;
        }
        MessageDigest sha = sha256();
        if (have > 0) {
            hashInto(sha, part, have);
        }
        if (req.expectedSize() >= 0 && have == req.expectedSize()) {
            return finish(req, target, part, have, sha);
        }
        HttpResponse<InputStream> r = send(req, have);
        int status = r.statusCode();
        try (InputStream body = r.body()) {
            if (status == 416 && have > 0) {
                // The part file does not fit the remote file (it changed): start over.
                Files.deleteIfExists(part);
                return null;
            }
            if (status != 200 && status != 206) {
                String text = HubClient.errorText(new String(body.readNBytes(4096), java.nio.charset.StandardCharsets.UTF_8));
                if (text.isEmpty()) {
                    text = r.headers().firstValue("X-Error-Message").orElse("");
                }
                throw HubErrors.forStatus(status, r.headers().firstValue("X-Error-Code").orElse(null), text,
                        "file " + name, origin(req.uri()), req.bearerToken() != null);
            }
            if (status == 206) {
                long start = rangeStart(r);
                if (start != have) {
                    throw new IOException("server resumed at byte " + start + " instead of " + have);
                }
            } else if (have > 0) {
                // The server ignored the range and sends everything: discard what we had.
                have = 0;
                sha.reset();
            }
            long total = req.expectedSize();
            if (total < 0) {
                OptionalLong len = r.headers().firstValueAsLong("Content-Length");
                total = len.isPresent() ? have + len.getAsLong() : -1;
            }
            progress.started(name, total, have);
            long done = have;
            boolean ok = false;
            StandardOpenOption mode = have > 0 ? StandardOpenOption.APPEND : StandardOpenOption.TRUNCATE_EXISTING;
            try (FileChannel out = FileChannel.open(part, StandardOpenOption.CREATE, StandardOpenOption.WRITE, mode)) {
                byte[] buf = new byte[1 << 16];
                for (int n; (n = body.read(buf)) > 0; ) {
                    ByteBuffer bb = ByteBuffer.wrap(buf, 0, n);
                    while (bb.hasRemaining()) {
                        out.write(bb);
                    }
                    sha.update(buf, 0, n);
                    done += n;
                    progress.advanced(done);
                    if (req.expectedSize() >= 0 && done > req.expectedSize()) {
                        break;
                    }
                }
                ok = true;
            } finally {
                progress.finished(done, ok && (total < 0 || done == total));
            }
            if (req.expectedSize() >= 0 && done < req.expectedSize()) {
                throw new IOException("connection ended after " + done + " of " + req.expectedSize() + " bytes");
            }
            return finish(req, target, part, done, sha);
        }
    }

    private Result finish(Request req, Path target, Path part, long size, MessageDigest sha) throws IOException {
        String name = target.getFileName().toString();
        if (req.expectedSize() >= 0 && size != req.expectedSize()) {
            Files.deleteIfExists(part);
            throw new TrestleException("download of " + name + " has " + size + " bytes, the source promised "
                    + req.expectedSize() + "; the partial file was removed",
                    "retry; if it happens again the source or a proxy is serving a different file");
        }
        String got = HexFormat.of().formatHex(sha.digest());
        if (req.expectedSha256() != null && !req.expectedSha256().equalsIgnoreCase(got)) {
            Files.deleteIfExists(part);
            throw new TrestleException("checksum mismatch for " + name + ": sha256 is " + got + " but the source says "
                    + req.expectedSha256().toLowerCase(java.util.Locale.ROOT) + "; the partial file was removed",
                    "retry the download; if it fails again do not use this source (the file may have been tampered"
                            + " with, or a proxy rewrote it)");
        }
        try {
            Files.move(part, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(part, target, StandardCopyOption.REPLACE_EXISTING);
        }
        return new Result(target, size, got);
    }

    /** Sends the GET, following redirects by hand so the token never leaves the original host. */
    private HttpResponse<InputStream> send(Request req, long rangeFrom) throws IOException {
        URI uri = req.uri();
        for (int hop = 0; hop <= MAX_REDIRECTS; hop++) {
            HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(Duration.ofMinutes(5))
                    .header("User-Agent", HubClient.USER_AGENT);
            if (req.bearerToken() != null && sameHost(uri, req.uri())) {
                b.header("Authorization", "Bearer " + req.bearerToken());
            }
            if (rangeFrom > 0) {
                b.header("Range", "bytes=" + rangeFrom + "-");
            }
            HttpResponse<InputStream> r;
            try {
                r = http.send(b.GET().build(), HttpResponse.BodyHandlers.ofInputStream());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new TrestleException("download interrupted: " + uri);
            } catch (java.net.ConnectException e) {
                throw HubClient.unreachable(origin(uri), e);
            }
            int s = r.statusCode();
            if (s == 301 || s == 302 || s == 303 || s == 307 || s == 308) {
                String loc = r.headers().firstValue("Location").orElse(null);
                r.body().close();
                if (loc == null) {
                    throw new IOException("redirect " + s + " from " + uri + " without a Location");
                }
                uri = uri.resolve(loc);
                continue;
            }
            return r;
        }
        throw new TrestleException("too many redirects fetching " + req.uri(), "check the URL given to -mu / HF_ENDPOINT");
    }

    private static long rangeStart(HttpResponse<?> r) throws IOException {
        String cr = r.headers().firstValue("Content-Range").orElse("");
        Matcher m = CONTENT_RANGE.matcher(cr);
        if (!m.find()) {
            throw new IOException("206 reply without a valid Content-Range (" + cr + ")");
        }
        return Long.parseLong(m.group(1));
    }

    private static boolean sameHost(URI a, URI b) {
        return a.getHost() != null && a.getHost().equalsIgnoreCase(b.getHost()) && a.getPort() == b.getPort()
                && a.getScheme().equalsIgnoreCase(b.getScheme());
    }

    private static URI origin(URI u) {
        return URI.create(u.getScheme() + "://" + u.getRawAuthority());
    }

    private static void hashInto(MessageDigest sha, Path file, long bytes) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buf = new byte[1 << 16];
            long left = bytes;
            while (left > 0) {
                int n = in.read(buf, 0, (int) Math.min(buf.length, left));
                if (n < 0) {
                    throw new IOException(file + " shrank while being read");
                }
                sha.update(buf, 0, n);
                left -= n;
            }
        }
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    private static long sizeOr0(Path p) {
        try {
            return Files.exists(p) ? Files.size(p) : 0;
        } catch (IOException e) {
            return 0;
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TrestleException("download interrupted");
        }
    }
}
