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
        return forStatus(status, null, hubText, what, endpoint, hadToken);
    }

    /**
     * @param errorCode the hub's {@code X-Error-Code} header (RepoNotFound, GatedRepo, EntryNotFound,
     *                  RevisionNotFound), or null; it tells apart a missing repository from a refused token
     */
    static TrestleException forStatus(int status, String errorCode, String hubText, String what, URI endpoint,
                                      boolean hadToken) {
        String detail = hubText == null || hubText.isBlank() ? "" : ": " + hubText;
        if ("RepoNotFound".equals(errorCode) || "EntryNotFound".equals(errorCode) || "RevisionNotFound".equals(errorCode)) {
            return new TrestleException(what + " was not found on " + endpoint + " (" + status + " " + errorCode + ")" + detail,
                    hadToken ? "check the spelling of -hf USER/REPO[:QUANT] (and --hf-file); for a private repository"
                            + " the token's account must have access"
                            : "check the spelling of -hf USER/REPO[:QUANT] (and --hf-file); a private repository needs"
                            + " --hf-token or HF_TOKEN");
        }
        if ("GatedRepo".equals(errorCode)) {
            status = 403;
        }
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
