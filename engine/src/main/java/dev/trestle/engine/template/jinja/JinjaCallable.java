package dev.trestle.engine.template.jinja;

import java.util.List;
import java.util.Map;

/** A function a template can call: a global, a bound method, or a macro. */
@FunctionalInterface
public interface JinjaCallable {
    Object call(List<Object> args, Map<String, Object> kwargs);
}
