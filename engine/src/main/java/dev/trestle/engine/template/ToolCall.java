package dev.trestle.engine.template;

/** A function call an assistant message made; {@code arguments} is the JSON text of the arguments. */
public record ToolCall(String id, String name, String arguments) {
}
