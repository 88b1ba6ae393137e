package dev.trestle.server.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Writes Server-Sent Events straight to the response, flushing each one. A write that fails means the
 * client went away: the caller cancels its generation.
 */
final class SseWriter {
    private final OutputStream out;
    private final ObjectMapper json;

    SseWriter(HttpServletResponse res, ObjectMapper json) throws IOException {
        res.setStatus(200);
        res.setContentType("text/event-stream");
        res.setCharacterEncoding("utf-8");
        res.setHeader("Cache-Control", "no-cache");
        res.setHeader("X-Accel-Buffering", "no");
        this.out = res.getOutputStream();
        this.json = json;
    }

    /** {@code data: <json>\n\n}. */
    void event(Object payload) throws IOException {
        raw("data: " + json.writeValueAsString(payload) + "\n\n");
    }

    /** {@code error: <json>\n\n} as llama-server sends for failures after the stream started. */
    void error(Object payload) throws IOException {
        raw("error: " + json.writeValueAsString(payload) + "\n\n");
    }

    void done() throws IOException {
        raw("data: [DONE]\n\n");
    }

    private void raw(String s) throws IOException {
        out.write(s.getBytes(StandardCharsets.UTF_8));
        out.flush();
    }
}
