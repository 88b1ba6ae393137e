package dev.trestle.server.http;

import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.trestle.server.cli.Main;
import dev.trestle.server.cli.ServeCommand;
import dev.trestle.testdata.SharedData;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine;

/** A real `trestle serve` on 127.0.0.1 and a free port, with stories260K unless told otherwise. */
final class TestServer implements AutoCloseable {
    static final ObjectMapper JSON = new ObjectMapper();

    private final ServeCommand command;
    private final Thread thread;
    private final StringWriter err;
    private final int port;
    private final HttpClient http = HttpClient.newHttpClient();
    private volatile int exitCode = -1;

    private TestServer(List<String> args) throws InterruptedException {
        StringWriter out = new StringWriter();
        err = new StringWriter();
        CommandLine cl = Main.commandLine(new PrintWriter(out, true), new PrintWriter(err, true));
        command = cl.getSubcommands().get("serve").getCommand();
        thread = new Thread(() -> exitCode = cl.execute(args.toArray(String[]::new)), "test-server");
        thread.start();
        port = command.awaitReady(Duration.ofMinutes(3));
        if (port < 0) {
            close();
            fail("server did not start:\n" + err);
        }
    }

    /** Serves stories260K with {@code extraArgs}. */
    static TestServer start(String... extraArgs) throws InterruptedException {
        return startWith(List.of("-m", SharedData.model("stories260K.gguf").toString()), extraArgs);
    }

    /** Serves whatever {@code source} names (e.g. --demo) with {@code extraArgs}. */
    static TestServer startWith(List<String> source, String... extraArgs) throws InterruptedException {
        List<String> args = new ArrayList<>(List.of("serve", "--host", "127.0.0.1", "--port", "0", "-t", "2"));
        args.addAll(source);
        args.addAll(List.of(extraArgs));
        return new TestServer(args);
    }

    String base() {
        return "http://127.0.0.1:" + port;
    }

    int port() {
        return port;
    }

    String log() {
        return err.toString();
    }

    int exitCode() {
        return exitCode;
    }

    /** POSTs JSON text (optionally with headers name, value, ...) and returns the response. */
    HttpResponse<String> post(String path, String body, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base() + path))
                .timeout(Duration.ofMinutes(2))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body));
        for (int i = 0; i + 1 < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> get(String path, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base() + path)).timeout(Duration.ofMinutes(1)).GET();
        for (int i = 0; i + 1 < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    static JsonNode json(HttpResponse<String> r) throws Exception {
        return JSON.readTree(r.body());
    }

    @Override
    public void close() throws InterruptedException {
        command.shutdown();
        thread.join(60_000);
    }
}
