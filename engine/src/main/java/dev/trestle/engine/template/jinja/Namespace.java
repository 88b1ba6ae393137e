package dev.trestle.engine.template.jinja;

import java.util.LinkedHashMap;
import java.util.Map;

/** The mutable object {@code namespace(...)} returns: the one way to carry state out of a loop. */
public final class Namespace {
    final Map<String, Object> attributes = new LinkedHashMap<>();
}
