package dev.trestle.server.tools;

/**
 * A tool call read from model output.
 *
 * @param id        the id the model wrote (Mistral does), or null for the server to assign one
 * @param name      the function name
 * @param arguments the arguments as JSON text (an object)
 */
public record ParsedToolCall(String id, String name, String arguments) {
}
