package dev.trestle.engine.hub;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.trestle.common.TrestleException;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The parts of the Hugging Face hub API that {@code -hf} needs: the branch's commit
 * ({@code GET /api/models/REPO/refs}), the file listing with sizes and LFS sha256
 * ({@code GET /api/models/REPO/tree/COMMIT?recursive=true}, following {@code Link: rel="next"} pages)
 * and file URLs ({@code /REPO/resolve/COMMIT/PATH}).
 *
 * <p>The endpoint is {@code HF_ENDPOINT} (default {@code https://huggingface.co}), so tests and mirrors
 * can stand in for the hub. The token goes out as {@code Authorization: Bearer} to the endpoint only.
 */
public final class HubClient {
    /** The public hub. */
    public static final URI DEFAULT_ENDPOINT = URI.create("https://huggingface.co");
    static final String USER_AGENT = "trestle/0.1 (+https://github.com/trestle)";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern NEXT_LINK = Pattern.compile("<([^>]+)>\\s*;\\s*rel=\"?next\"?");
    private static final int MAX_PAGES = 1000;

    private final URI endpoint;
    private final String token;
    private final HttpClient http;

    /**
     * @param endpoint hub base URL (no trailing slash needed)
     * @param token    access token, or null for anonymous access
     */
    public HubClient(URI endpoint, String token, HttpClient http) {
        String e = endpoint.toString();
        this.endpoint = URI.create(e.endsWith("/") ? e.substring(0, e.length() - 1) : e);
        this.token = token == null || token.isBlank() ? null : token.strip();
        this.http = http;
    }

    /** The endpoint from {@code HF_ENDPOINT} in {@code env}, else the public hub. */
    public static URI endpointFrom(Map<String, String> env) {
        String e = env.get("HF_ENDPOINT");
        if (e == null || e.isBlank()) {
            return DEFAULT_ENDPOINT;
        }
        try {
            URI u = URI.create(e.strip());
            if (u.getScheme() == null || u.getHost() == null) {
                throw new IllegalArgumentException("no scheme or host");
            }
            return u;
        } catch (IllegalArgumentException ex) {
            throw new TrestleException("HF_ENDPOINT='" + e + "' is not a URL", "set it like HF_ENDPOINT=https://huggingface.co");
        }
    }

    /** A client for plain HTTP(S) that does not follow redirects itself (the downloader decides per hop). */
    public static HttpClient newHttpClient() {
        return HttpClient.newBuilder()
                .connectTimeout(Duration.ofSeconds(30))
                .followRedirects(HttpClient.Redirect.NEVER)
                .build();
    }

    public URI endpoint() {
        return endpoint;
    }

    /** The token, or null. */
    public String token() {
        return token;
    }

    /** Lists the repository's files at its main branch (or its first branch when it has no main). */
    public HubListing list(HfRepoRef ref) {
        String revision = commitOf(ref);
        List<HubFile> files = new ArrayList<>();
        URI next = URI.create(endpoint + "/api/models/" + ref.repo() + "/tree/" + encode(revision) + "?recursive=true");
        for (int page = 0; next != null; page++) {
            if (page >= MAX_PAGES) {
                throw new TrestleException("the hub's listing of " + ref.repo() + " did not end after " + MAX_PAGES + " pages",
                        "pick the file explicitly with --hf-file, or use -mu URL");
            }
            HttpResponse<String> r = get(next, ref);
            JsonNode arr = parse(r.body(), next);
            if (!arr.isArray()) {
                throw new TrestleException("unexpected reply from " + next + ": not a file list",
                        "check HF_ENDPOINT points at a Hugging Face hub");
            }
            for (JsonNode item : arr) {
                if (!"file".equals(item.path("type").asText()) || !item.path("path").isTextual()) {
                    continue;
                }
                String path = item.get("path").asText();
                if (!safeRepoPath(path)) {
                    continue;
                }
                JsonNode lfs = item.path("lfs");
                String sha = null;
                long size = item.path("size").asLong(-1);
                if (lfs.isObject()) {
                    String oid = lfs.path("oid").asText("");
                    if (oid.matches("[0-9a-fA-F]{64}")) {
                        sha = oid.toLowerCase(java.util.Locale.ROOT);
                    }
                    size = lfs.path("size").asLong(size);
                }
                files.add(new HubFile(path, size, sha));
            }
            next = nextPage(r, next);
        }
        return new HubListing(ref, revision, files);
    }

    /** The download URL of {@code path} at {@code revision}. */
    public URI fileUri(HfRepoRef ref, String revision, String path) {
        StringBuilder sb = new StringBuilder(endpoint.toString()).append('/').append(ref.repo())
                .append("/resolve/").append(encode(revision));
        for (String seg : path.split("/")) {
            sb.append('/').append(encode(seg));
        }
        return URI.create(sb.toString());
    }

    private String commitOf(HfRepoRef ref) {
        URI uri = URI.create(endpoint + "/api/models/" + ref.repo() + "/refs");
        JsonNode refs = parse(get(uri, ref).body(), uri);
        String first = null;
        for (JsonNode b : refs.path("branches")) {
            String name = b.path("name").asText("");
            String commit = b.path("targetCommit").asText("");
            if (!commit.matches("[0-9a-f]{40}")) {
                continue;
            }
            if (name.equals("main")) {
                return commit;
            }
            if (first == null) {
                first = commit;
            }
        }
        // A hub without commits in its refs still serves the branch by name.
        return first != null ? first : "main";
    }

    private HttpResponse<String> get(URI uri, HfRepoRef ref) {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(60))
                .header("User-Agent", USER_AGENT).header("Accept", "application/json");
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        HttpResponse<String> r;
        try {
            r = http.send(b.GET().build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw unreachable(endpoint, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TrestleException("interrupted while asking the hub about " + ref.repo());
        }
        if (r.statusCode() != 200) {
            String text = errorText(r.body());
            if (text.isEmpty()) {
                text = r.headers().firstValue("X-Error-Message").orElse("");
            }
            throw HubErrors.forStatus(r.statusCode(), r.headers().firstValue("X-Error-Code").orElse(null), text,
                    "repository " + ref.repo(), endpoint, token != null);
        }
        return r;
    }

    static TrestleException unreachable(URI endpoint, Exception e) {
        String why = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        return new TrestleException("cannot reach the model hub at " + endpoint + ": " + why,
                "check the network (or proxy); run with --offline to use only cached models; or set HF_ENDPOINT to a mirror",
                1, e);
    }

    private static JsonNode parse(String body, URI from) {
        try {
            return JSON.readTree(body);
        } catch (IOException e) {
            throw new TrestleException("the hub sent invalid JSON from " + from + ": " + e.getMessage(),
                    "check HF_ENDPOINT points at a Hugging Face hub");
        }
    }

    /** The hub's {"error": "..."} text, or the start of the body. */
    static String errorText(String body) {
        if (body == null || body.isBlank()) {
            return "";
        }
        try {
            JsonNode n = JSON.readTree(body);
            if (n.path("error").isTextual()) {
                return n.get("error").asText();
            }
        } catch (IOException ignored) {
            // not JSON: show the text itself
        }
        String s = body.strip();
        return s.length() > 200 ? s.substring(0, 200) + "..." : s;
    }

    private URI nextPage(HttpResponse<?> r, URI current) {
        for (String link : r.headers().allValues("Link")) {
            Matcher m = NEXT_LINK.matcher(link);
            if (m.find()) {
                URI next = current.resolve(m.group(1));
                // Only follow pages on the endpoint's own host: the token must not travel elsewhere.
                if (next.getHost() != null && next.getHost().equalsIgnoreCase(endpoint.getHost())) {
                    return next;
                }
            }
        }
        return null;
    }

    // A listed path becomes a cache path: no absolute paths, no "..", no empty segments.
    static boolean safeRepoPath(String path) {
        if (path.isEmpty() || path.startsWith("/") || path.contains("\\") || path.contains("\0")) {
            return false;
        }
        for (String seg : path.split("/", -1)) {
            if (seg.isEmpty() || seg.equals(".") || seg.equals("..")) {
                return false;
            }
        }
        return true;
    }

    private static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }
}
