package dev.trestle.engine.hub;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A stand-in for the Hugging Face hub on 127.0.0.1: the {@code /api/models/REPO/refs} and
 * {@code /api/models/REPO/tree/REV} JSON the real hub serves, and {@code /REPO/resolve/REV/PATH} file
 * downloads with Range support. Faults on demand: cut a file's first responses mid-way, report a wrong
 * sha256, require a token, paginate the listing, redirect downloads.
 */
final class FakeHub implements AutoCloseable {
    static final String GOOD_TOKEN = "hf_GoodTokenGoodTokenGoodTokenGoodToken1";
    private static final ObjectMapper JSON = new ObjectMapper();

    record Request(String method, String path, String range, String authorization) {
    }

    private record FakeFile(String path, byte[] bytes, boolean lfs) {
    }

    private static final class Repo {
        final String commit;
        final List<FakeFile> files = new ArrayList<>();
        boolean needsToken;

        Repo(String commit) {
            this.commit = commit;
        }
    }

    private final HttpServer server;
    private final Map<String, Repo> repos = new ConcurrentHashMap<>();
    private final List<Request> requests = new CopyOnWriteArrayList<>();
    /** path -> how many more downloads of it are cut, and after how many bytes. */
    private final Map<String, AtomicInteger> cutsLeft = new ConcurrentHashMap<>();
    private final Map<String, Long> cutAt = new ConcurrentHashMap<>();
    private final Map<String, String> fakeSha = new ConcurrentHashMap<>();
    private volatile int pageSize = Integer.MAX_VALUE;
    private volatile boolean redirectDownloads;

    FakeHub() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", this::handle);
        server.start();
    }

    URI endpoint() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    /** Adds a repository whose commit is derived from its name. */
    FakeHub repo(String repo) {
        repos.put(repo, new Repo(HexFormat.of().formatHex(sha256(repo.getBytes(StandardCharsets.UTF_8))).substring(0, 40)));
        return this;
    }

    String commitOf(String repo) {
        return repos.get(repo).commit;
    }

    FakeHub file(String repo, String path, Path source) throws IOException {
        repos.get(repo).files.add(new FakeFile(path, Files.readAllBytes(source), true));
        return this;
    }

    FakeHub file(String repo, String path, byte[] bytes, boolean lfs) {
        repos.get(repo).files.add(new FakeFile(path, bytes, lfs));
        return this;
    }

    FakeHub requireToken(String repo) {
        repos.get(repo).needsToken = true;
        return this;
    }

    /** The next {@code times} downloads of {@code path} stop after {@code bytes} bytes and drop the connection. */
    FakeHub cutDownloads(String path, long bytes, int times) {
        cutAt.put(path, bytes);
        cutsLeft.put(path, new AtomicInteger(times));
        return this;
    }

    /** The listing reports {@code sha} as the LFS oid of {@code path}. */
    FakeHub lieAboutSha(String path, String sha) {
        fakeSha.put(path, sha);
        return this;
    }

    FakeHub pageSize(int n) {
        pageSize = n;
        return this;
    }

    FakeHub redirectDownloads() {
        redirectDownloads = true;
        return this;
    }

    List<Request> requests() {
        return Collections.unmodifiableList(requests);
    }

    /** Download requests (resolve or CDN) for files whose path ends with {@code suffix}. */
    List<Request> downloads(String suffix) {
        return requests.stream().filter(r -> (r.path().contains("/resolve/") || r.path().startsWith("/cdn/"))
                && r.path().endsWith(suffix)).toList();
    }

    static byte[] sha256(byte[] b) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(b);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private void handle(HttpExchange ex) throws IOException {
        String rawPath = ex.getRequestURI().getRawPath();
        String path = URLDecoder.decode(rawPath, StandardCharsets.UTF_8);
        requests.add(new Request(ex.getRequestMethod(), path, ex.getRequestHeaders().getFirst("Range"),
                ex.getRequestHeaders().getFirst("Authorization")));
        try (ex) {
            if (path.startsWith("/api/models/")) {
                api(ex, path.substring("/api/models/".length()));
            } else if (path.startsWith("/cdn/")) {
                resolve(ex, path.substring("/cdn/".length()), true);
            } else {
                resolve(ex, path.substring(1), false);
            }
        }
    }

    private void api(HttpExchange ex, String rest) throws IOException {
        String[] p = rest.split("/", 4);
        if (p.length < 3) {
            send(ex, 404, "{\"error\":\"Not found\"}");
            return;
        }
        Repo repo = repos.get(p[0] + "/" + p[1]);
        if (repo == null) {
            // like the real hub: 401 to anonymous callers (no hint whether a private repo exists), else 404
            ex.getResponseHeaders().add("X-Error-Code", "RepoNotFound");
            ex.getResponseHeaders().add("X-Error-Message", "Repository not found");
            boolean anonymous = ex.getRequestHeaders().getFirst("Authorization") == null;
            send(ex, anonymous ? 401 : 404, "");
            return;
        }
        if (!authorized(ex, repo)) {
            return;
        }
        if (p[2].equals("refs")) {
            ObjectNode o = JSON.createObjectNode();
            ObjectNode b = o.putArray("branches").addObject();
            b.put("name", "main");
            b.put("ref", "refs/heads/main");
            b.put("targetCommit", repo.commit);
            o.putArray("tags");
            send(ex, 200, o.toString());
            return;
        }
        if (p[2].equals("tree") && p.length == 4) {
            String rev = p[3];
            if (!rev.equals(repo.commit) && !rev.equals("main")) {
                send(ex, 404, "{\"error\":\"Invalid rev id: " + rev + "\"}");
                return;
            }
            int start = 0;
            String q = ex.getRequestURI().getQuery();
            if (q != null && q.contains("cursor=")) {
                start = Integer.parseInt(q.replaceAll(".*cursor=(\\d+).*", "$1"));
            }
            int end = (int) Math.min(repo.files.size(), (long) start + pageSize);
            ArrayNode arr = JSON.createArrayNode();
            for (FakeFile f : repo.files.subList(start, end)) {
                ObjectNode o = arr.addObject();
                o.put("type", "file");
                o.put("oid", HexFormat.of().formatHex(sha256(f.bytes())).substring(0, 40));
                o.put("size", f.lfs() ? 134 : f.bytes().length);
                o.put("path", f.path());
                if (f.lfs()) {
                    ObjectNode lfs = o.putObject("lfs");
                    lfs.put("oid", fakeSha.getOrDefault(f.path(), HexFormat.of().formatHex(sha256(f.bytes()))));
                    lfs.put("size", f.bytes().length);
                    lfs.put("pointerSize", 134);
                }
            }
            if (end < repo.files.size()) {
                ex.getResponseHeaders().add("Link", "<" + endpoint() + "/api/models/" + p[0] + "/" + p[1] + "/tree/"
                        + rev + "?recursive=true&cursor=" + end + ">; rel=\"next\"");
            }
            send(ex, 200, arr.toString());
            return;
        }
        send(ex, 404, "{\"error\":\"Not found\"}");
    }

    private void resolve(HttpExchange ex, String rest, boolean fromCdn) throws IOException {
        // owner/name/resolve/rev/path...
        String[] p = rest.split("/", 5);
        if (p.length < 5 || !p[2].equals("resolve")) {
            send(ex, 404, "{\"error\":\"Entry not found\"}");
            return;
        }
        Repo repo = repos.get(p[0] + "/" + p[1]);
        if (repo == null) {
            send(ex, 404, "{\"error\":\"Repository not found\"}");
            return;
        }
        if (!fromCdn && !authorized(ex, repo)) {
            return;
        }
        FakeFile file = repo.files.stream().filter(f -> f.path().equals(p[4])).findFirst().orElse(null);
        if (file == null) {
            ex.getResponseHeaders().add("X-Error-Code", "EntryNotFound");
            send(ex, 404, "{\"error\":\"Entry not found\"}");
            return;
        }
        if (redirectDownloads && !fromCdn) {
            ex.getResponseHeaders().add("Location", "/cdn/" + rest);
            ex.sendResponseHeaders(302, -1);
            return;
        }
        byte[] data = file.bytes();
        long from = 0;
        String range = ex.getRequestHeaders().getFirst("Range");
        if (range != null && range.startsWith("bytes=") && range.endsWith("-")) {
            from = Long.parseLong(range.substring(6, range.length() - 1));
            if (from >= data.length) {
                ex.getResponseHeaders().add("Content-Range", "bytes */" + data.length);
                ex.sendResponseHeaders(416, -1);
                return;
            }
            ex.getResponseHeaders().add("Content-Range", "bytes " + from + "-" + (data.length - 1) + "/" + data.length);
        }
        ex.getResponseHeaders().add("Accept-Ranges", "bytes");
        long len = data.length - from;
        ex.sendResponseHeaders(from > 0 ? 206 : 200, len);
        AtomicInteger cuts = cutsLeft.get(file.path());
        long limit = len;
        if (cuts != null && cuts.getAndDecrement() > 0) {
            limit = Math.max(0, Math.min(len, cutAt.get(file.path()) - from));
        }
        OutputStream out = ex.getResponseBody();
        out.write(data, (int) from, (int) limit);
        out.flush();
        if (limit < len) {
            // Drop the connection with the body incomplete, as a network failure would.
            throw new IOException("fake hub: connection cut at byte " + (from + limit));
        }
    }

    private boolean authorized(HttpExchange ex, Repo repo) throws IOException {
        if (!repo.needsToken) {
            return true;
        }
        String auth = ex.getRequestHeaders().getFirst("Authorization");
        if (auth == null) {
            send(ex, 401, "{\"error\":\"Access to model is restricted. You must have access to it and be authenticated to access it. Please log in.\"}");
            return false;
        }
        if (!auth.equals("Bearer " + GOOD_TOKEN)) {
            send(ex, 401, "{\"error\":\"Invalid credentials in Authorization header\"}");
            return false;
        }
        return true;
    }

    private static void send(HttpExchange ex, int status, String body) throws IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().add("Content-Type", "application/json");
        ex.sendResponseHeaders(status, b.length == 0 ? -1 : b.length);
        if (b.length > 0) {
            ex.getResponseBody().write(b);
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }

    /** File name -> bytes of every file in a repo (for assertions). */
    Map<String, byte[]> filesOf(String repo) {
        Map<String, byte[]> m = new LinkedHashMap<>();
        for (FakeFile f : repos.get(repo).files) {
            m.put(f.path(), f.bytes());
        }
        return m;
    }
}
