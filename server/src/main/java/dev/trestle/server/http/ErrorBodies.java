package dev.trestle.server.http;

import java.util.LinkedHashMap;
import java.util.Map;

/** OpenAI-shaped error objects: {@code {"error": {"code", "message", "type"}}}. */
final class ErrorBodies {
    private ErrorBodies() {
    }

    static Map<String, Object> body(int status, String type, String message) {
        Map<String, Object> inner = new LinkedHashMap<>();
        inner.put("code", status);
        inner.put("message", message);
        inner.put("type", type);
        return Map.of("error", inner);
    }
}
