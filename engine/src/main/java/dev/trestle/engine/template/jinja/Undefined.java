package dev.trestle.engine.template.jinja;

/** A missing variable, attribute or item: empty when printed, false when tested (Jinja2's default). */
public record Undefined(String name) {
    static final Undefined ANONYMOUS = new Undefined("");
}
