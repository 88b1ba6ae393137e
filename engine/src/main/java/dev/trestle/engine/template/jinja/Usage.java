package dev.trestle.engine.template.jinja;

import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Records which input values a rendering touched and how (by identity), so a template's
 * capabilities can be read off trial renderings the way llama.cpp does: a template "supports the
 * system role" when it reads the system message's content, and so on.
 */
public final class Usage {
    private final Map<Object, Set<String>> ops = new IdentityHashMap<>();

    /** True when the rendering read {@code value} (a String, List or Map from the inputs). */
    public boolean used(Object value) {
        return ops.containsKey(value);
    }

    /** True when {@code value} was read with operation {@code op} ("array_access", a filter name, ...). */
    public boolean usedWith(Object value, String op) {
        Set<String> s = ops.get(value);
        return s != null && s.contains(op);
    }

    void mark(Object v) {
        if (v instanceof String || v instanceof List || v instanceof Map) {
            ops.computeIfAbsent(v, k -> new HashSet<>());
        }
    }

    void mark(Object v, String op) {
        if (v instanceof String || v instanceof List || v instanceof Map) {
            ops.computeIfAbsent(v, k -> new HashSet<>()).add(op);
        }
    }

    /** Marks a value and everything inside it (it was serialized whole). */
    void markDeep(Object v) {
        mark(v);
        if (v instanceof List<?> l) {
            for (Object o : l) {
                markDeep(o);
            }
        } else if (v instanceof Map<?, ?> m) {
            for (Object o : m.values()) {
                markDeep(o);
            }
        }
    }
}
