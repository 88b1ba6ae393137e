package dev.trestle.server.tools;

import java.util.ArrayList;
import java.util.List;

/**
 * Streams a chat output as it is generated: after each piece of text, the reasoning and content that became
 * certain and the tool calls that completed, by re-parsing the text so far and sending what is new.
 * Not thread-safe.
 */
public final class ChatDeltaStream {

    /**
     * One step of the stream: exactly one of reasoning, content or call is set.
     *
     * @param callIndex the call's position among this output's calls (when {@code call} is set)
     */
    public record Delta(String reasoning, String content, int callIndex, ParsedToolCall call) {
    }

    private final ChatOutputParser parser;
    private final StringBuilder text = new StringBuilder();
    private String reasoningSent = "";
    private String contentSent = "";
    private int callsSent;
    private ChatOutput last = new ChatOutput("", "", List.of());

    public ChatDeltaStream(ChatOutputParser parser) {
        this.parser = parser;
    }

    /** Adds generated text; returns what can be sent now. */
    public List<Delta> push(String piece) {
        if (piece.isEmpty()) {
            return List.of();
        }
        text.append(piece);
        return diff(parser.parse(text.toString(), true));
    }

    /** Ends the output; returns the rest. */
    public List<Delta> finish() {
        return diff(parser.parse(text.toString(), false));
    }

    /** The latest parse (the final one after {@link #finish}). */
    public ChatOutput output() {
        return last;
    }

    private List<Delta> diff(ChatOutput now) {
        last = now;
        List<Delta> out = new ArrayList<>(2);
        // what was sent cannot be taken back: only extensions of it are streamed
        if (now.reasoning().length() > reasoningSent.length() && now.reasoning().startsWith(reasoningSent)) {
            out.add(new Delta(now.reasoning().substring(reasoningSent.length()), null, -1, null));
            reasoningSent = now.reasoning();
        }
        if (now.content().length() > contentSent.length() && now.content().startsWith(contentSent)) {
            out.add(new Delta(null, now.content().substring(contentSent.length()), -1, null));
            contentSent = now.content();
        }
        while (callsSent < now.calls().size()) {
            out.add(new Delta(null, null, callsSent, now.calls().get(callsSent)));
            callsSent++;
        }
        return out;
    }
}
