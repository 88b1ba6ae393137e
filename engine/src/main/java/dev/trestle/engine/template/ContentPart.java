package dev.trestle.engine.template;

/** One part of a message's content list; only {@code "text"} parts reach a chat template. */
public record ContentPart(String type, String text) {
    public static ContentPart text(String text) {
        return new ContentPart("text", text);
    }
}
