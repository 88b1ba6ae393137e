package dev.trestle.engine.template.jinja;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * {@code tojson} as chat templates expect it: Python's {@code json.dumps} layout (", " and ": "
 * separators, or one item per line with {@code indent}; {@code separators} and
 * {@code sort_keys} as in Python), non-ASCII text kept as UTF-8 unless {@code ensure_ascii}.
 */
final class JsonText {
    /** Layout options; {@code indent} < 0 means all on one line. */
    record Style(int indent, String itemSep, String keySep, boolean sortKeys, boolean ensureAscii) {
    }

    private JsonText() {
    }

    static String write(Object v, Style style) {
        StringBuilder sb = new StringBuilder();
        write(v, style, 0, sb);
        return sb.toString();
    }

    private static void write(Object v, Style st, int level, StringBuilder sb) {
        switch (v) {
            case null -> sb.append("null");
            case Undefined u -> sb.append("null");
            case Boolean b -> sb.append(b ? "true" : "false");
            case Long l -> sb.append(l);
            case Double d -> sb.append(Double.isNaN(d) ? "NaN"
                    : Double.isInfinite(d) ? (d > 0 ? "Infinity" : "-Infinity") : Values.pyFloat(d));
            case String s -> string(s, st.ensureAscii(), sb);
            case List<?> l -> {
                if (l.isEmpty()) {
                    sb.append("[]");
                    return;
                }
                sb.append('[');
                for (int i = 0; i < l.size(); i++) {
                    if (i > 0) {
                        sb.append(st.itemSep());
                    }
                    newline(st.indent(), level + 1, sb);
                    write(l.get(i), st, level + 1, sb);
                }
                newline(st.indent(), level, sb);
                sb.append(']');
            }
            case Map<?, ?> m -> object(m, st, level, sb);
            case Namespace n -> object(n.attributes, st, level, sb);
            default -> throw new JinjaException("object of type " + Values.typeName(v) + " is not JSON serializable", -1);
        }
    }

    private static void object(Map<?, ?> m, Style st, int level, StringBuilder sb) {
        if (m.isEmpty()) {
            sb.append("{}");
            return;
        }
        List<Map.Entry<?, ?>> entries = new ArrayList<>(m.entrySet());
        if (st.sortKeys()) {
            entries.sort((a, b) -> Values.str(a.getKey()).compareTo(Values.str(b.getKey())));
        }
        sb.append('{');
        boolean first = true;
        for (Map.Entry<?, ?> e : entries) {
            if (!first) {
                sb.append(st.itemSep());
            }
            first = false;
            newline(st.indent(), level + 1, sb);
            Object k = e.getKey();
            string(k instanceof String s ? s : jsonKey(k), st.ensureAscii(), sb);
            sb.append(st.keySep());
            write(e.getValue(), st, level + 1, sb);
        }
        newline(st.indent(), level, sb);
        sb.append('}');
    }

    private static String jsonKey(Object k) {
        return switch (k) {
            case null -> "null";
            case Boolean b -> b ? "true" : "false";
            default -> Values.str(k);
        };
    }

    private static void newline(int indent, int level, StringBuilder sb) {
        if (indent >= 0) {
            sb.append('\n');
            sb.append(" ".repeat(indent * level));
        }
    }

    static void string(String s, boolean ensureAscii, StringBuilder sb) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                case '\b' -> sb.append("\\b");
                case '\f' -> sb.append("\\f");
                default -> {
                    if (c < 0x20 || (ensureAscii && c > 0x7f)) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        sb.append('"');
    }
}
