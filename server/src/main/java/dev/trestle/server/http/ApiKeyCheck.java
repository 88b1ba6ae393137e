package dev.trestle.server.http;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/** Bearer-token check in constant time (MessageDigest.isEqual does not stop at the first differing byte). */
final class ApiKeyCheck {
    private final byte[] key;

    ApiKeyCheck(String key) {
        this.key = key.getBytes(StandardCharsets.UTF_8);
    }

    /** True when the Authorization header (or llama-server's X-Api-Key) carries the key. */
    boolean accepts(String authorization, String xApiKey) {
        String given = null;
        if (authorization != null && authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
            given = authorization.substring(7).trim();
        } else if (xApiKey != null) {
            given = xApiKey.trim();
        }
        return given != null && MessageDigest.isEqual(key, given.getBytes(StandardCharsets.UTF_8));
    }
}
