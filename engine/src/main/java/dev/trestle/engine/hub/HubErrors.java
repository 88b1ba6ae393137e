package dev.trestle.engine.hub;

import dev.trestle.common.TrestleException;
import java.net.URI;

/** Turns the hub's HTTP error statuses into messages that say what to do. */
final class HubErrors {
    private HubErrors() {
    }

    /**
     * @param what     what was asked for ("repository ggml-org/x", "file x.gguf")
     * @param hadToken whether a token was sent
     */
    static TrestleException forStatus(int status, String hubText, String what, URI endpoint, boolean hadToken) {
        String detail = hubText == null || hubText.isBlank() ? "" : ": " + hubText;
        return switch (status) {
            case 401 -> hadToken
                    ? new TrestleException("the hub refused the access token (401 Unauthorized) for " + what + detail,
                            "check --hf-token / HF_TOKEN: it must be a valid read token from " + endpoint
                                    + "/settings/tokens (also check the repository name: the hub answers 401 for"
                                    + " repositories that do not exist)")
                    : new TrestleException("the hub wants a login (401 Unauthorized) for " + what + detail,
                            "the repository is private or gated, or does not exist: check the name, or pass a token"
                                    + " with --hf-token or HF_TOKEN (create one at " + endpoint + "/settings/tokens)");
            case 403 -> new TrestleException("access to " + what + " is forbidden (403)" + detail,
                    "the model is gated: accept its licence on its page at " + endpoint
                            + " with the account that owns the token, then retry");
            case 404 -> new TrestleException(what + " was not found on " + endpoint + " (404)" + detail,
                    "check the spelling of -hf USER/REPO[:QUANT] (and --hf-file)");
            case 429 -> new TrestleException("the hub is rate-limiting requests for " + what + " (429)" + detail,
                    "wait a minute and retry; a token (--hf-token / HF_TOKEN) raises the limit");
            default -> new TrestleException("the hub answered HTTP " + status + " for " + what + detail,
                    status >= 500 ? "the hub has a problem; retry later, or use --offline with a cached model"
                            : "check -hf / -mu and the token");
        };
    }
}
