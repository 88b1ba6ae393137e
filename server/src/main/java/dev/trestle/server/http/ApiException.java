package dev.trestle.server.http;

/**
 * A request failure with its HTTP status and OpenAI error type; the error boundary renders it as
 * {@code {"error":{"code","message","type"}}}.
 */
public class ApiException extends RuntimeException {
    private final int status;
    private final String type;

    public ApiException(int status, String type, String message) {
        super(message);
        this.status = status;
        this.type = type;
    }

    /** 400 invalid_request_error: the client sent something we cannot use. */
    public static ApiException invalid(String message) {
        return new ApiException(400, "invalid_request_error", message);
    }

    /** 401 authentication_error. */
    public static ApiException unauthorized(String message) {
        return new ApiException(401, "authentication_error", message);
    }

    /** 404 not_found_error. */
    public static ApiException notFound(String message) {
        return new ApiException(404, "not_found_error", message);
    }

    /** 501 not_supported_error: valid OpenAI request, feature not offered by this server. */
    public static ApiException notSupported(String message) {
        return new ApiException(501, "not_supported_error", message);
    }

    /** 503 unavailable_error: loading, or the queue is full. */
    public static ApiException unavailable(String message) {
        return new ApiException(503, "unavailable_error", message);
    }

    public int status() {
        return status;
    }

    public String type() {
        return type;
    }
}
