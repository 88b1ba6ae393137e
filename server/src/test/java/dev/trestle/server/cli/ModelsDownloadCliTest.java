package dev.trestle.server.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.trestle.engine.hub.ModelCache;
import dev.trestle.testdata.SharedData;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** `trestle models -hf` end to end through the CLI against a one-repository hub on 127.0.0.1. */
class ModelsDownloadCliTest {
    static final String TOKEN = "hf_CliTestTokenCliTestTokenCliTestToken";
    static final String COMMIT = "0123456789abcdef0123456789abcdef01234567";

    @TempDir
    Path tmp;
    HttpServer server;
    byte[] model;
    String sha;
    final List<String> auth = new CopyOnWriteArrayList<>();

    @BeforeEach
    void start() throws IOException {
        Path src = SharedData.model("stories260K.gguf");
        model = Files.readAllBytes(src);
        sha = ModelCache.hashFile(src);
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", this::handle);
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            String a = ex.getRequestHeaders().getFirst("Authorization");
            auth.add(String.valueOf(a));
            if (!("Bearer " + TOKEN).equals(a)) {
                reply(ex, 401, "{\"error\":\"Invalid credentials in Authorization header\"}".getBytes(StandardCharsets.UTF_8));
                return;
            }
            String p = ex.getRequestURI().getPath();
            if (p.equals("/api/models/t/stories-GGUF/refs")) {
                reply(ex, 200, ("{\"branches\":[{\"name\":\"main\",\"targetCommit\":\"" + COMMIT + "\"}]}").getBytes(StandardCharsets.UTF_8));
            } else if (p.equals("/api/models/t/stories-GGUF/tree/" + COMMIT)) {
                reply(ex, 200, ("[{\"type\":\"file\",\"path\":\"stories260K-F32.gguf\",\"size\":134,\"lfs\":{\"oid\":\"" + sha
                        + "\",\"size\":" + model.length + "}}]").getBytes(StandardCharsets.UTF_8));
            } else if (p.equals("/t/stories-GGUF/resolve/" + COMMIT + "/stories260K-F32.gguf")) {
                reply(ex, 200, model);
            } else {
                reply(ex, 404, "{\"error\":\"Not found\"}".getBytes(StandardCharsets.UTF_8));
            }
        }
    }

    private static void reply(HttpExchange ex, int status, byte[] body) throws IOException {
        ex.sendResponseHeaders(status, body.length);
        ex.getResponseBody().write(body);
    }

    String[] run(Map<String, String> env, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = Main.commandLine(new PrintWriter(out, true), new PrintWriter(err, true));
        ((ModelsCommand) cl.getSubcommands().get("models").getCommand()).env = env;
        int code = cl.execute(args);
        return new String[] {Integer.toString(code), out.toString(), err.toString()};
    }

    @Test
    void downloadsWithTheTokenFromTheEnvironmentThenWorksOffline() {
        String endpoint = "http://127.0.0.1:" + server.getAddress().getPort();
        Path cache = tmp.resolve("cache");
        String[] r = run(Map.of("HF_ENDPOINT", endpoint, "HF_TOKEN", TOKEN, "TRESTLE_CACHE", cache.toString()),
                "models", "-hf", "t/stories-GGUF:f32");
        assertEquals("0", r[0], r[2]);
        assertTrue(r[2].contains("downloading stories260K-F32.gguf"), r[2]);
        assertTrue(r[2].contains("sha256 " + sha + ", verified"), r[2]);
        String row = r[1].lines().filter(l -> l.startsWith("hf/t/stories-GGUF/")).findFirst().orElseThrow();
        assertTrue(row.contains(sha.substring(0, 12)) && row.contains("llama") && row.contains("hf t/stories-GGUF@0123456789ab"), row);

        // --hf-token beats HF_TOKEN; a wrong one gets the 401 explained
        String[] bad = run(Map.of("HF_ENDPOINT", endpoint, "HF_TOKEN", TOKEN, "TRESTLE_CACHE", tmp.resolve("other").toString()),
                "models", "-hf", "t/stories-GGUF", "-hft", "hf_wrong");
        assertEquals("1", bad[0]);
        assertTrue(bad[2].contains("401") && bad[2].contains("fix: check --hf-token / HF_TOKEN"), bad[2]);

        server.stop(0);
        String[] off = run(Map.of("HF_ENDPOINT", endpoint, "TRESTLE_CACHE", cache.toString()),
                "models", "--offline", "-hf", "t/stories-GGUF:F32", "--json");
        assertEquals("0", off[0], off[2]);
        assertTrue(off[1].contains("\"sha256\" : \"" + sha + "\""), off[1]);
    }
}
