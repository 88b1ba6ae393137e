package dev.trestle.engine.template.jinja;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Jinja2's global functions, filters and tests, Python's operators, and str/list/dict methods. */
final class Builtins {
    /** Longest list or string a template may build (range, repetition, append). */
    private static final int MAX_SEQUENCE = 1_000_000;

    private Builtins() {
    }

    // ---- globals

    static void installGlobals(Map<String, Object> g) {
        g.put("raise_exception", (JinjaCallable) (args, kw) -> {
            throw new JinjaException(args.isEmpty() ? "raise_exception called" : Values.str(args.getFirst()), -1, true);
        });
        g.put("namespace", (JinjaCallable) (args, kw) -> {
            Namespace ns = new Namespace();
            for (Object a : args) {
                if (a instanceof Map<?, ?> m) {
                    m.forEach((k, v) -> ns.attributes.put(Values.str(k), v));
                }
            }
            ns.attributes.putAll(kw);
            return ns;
        });
        g.put("dict", (JinjaCallable) (args, kw) -> {
            Map<Object, Object> m = new LinkedHashMap<>();
            for (Object a : args) {
                if (a instanceof Map<?, ?> src) {
                    m.putAll(src);
                }
            }
            m.putAll(kw);
            return m;
        });
        g.put("range", (JinjaCallable) (args, kw) -> range(args));
    }

    private static List<Object> range(List<Object> args) {
        long start = 0;
        long stop;
        long step = 1;
        if (args.size() == 1) {
            stop = Values.toLong(args.get(0));
        } else if (args.size() >= 2) {
            start = Values.toLong(args.get(0));
            stop = Values.toLong(args.get(1));
            if (args.size() > 2) {
                step = Values.toLong(args.get(2));
            }
        } else {
            throw new JinjaException("range expected at least 1 argument", -1);
        }
        if (step == 0) {
            throw new JinjaException("range() arg 3 must not be zero", -1);
        }
        List<Object> out = new ArrayList<>();
        for (long v = start; step > 0 ? v < stop : v > stop; v += step) {
            if (out.size() >= MAX_SEQUENCE) {
                throw new JinjaException("range() is too long", -1);
            }
            out.add(v);
        }
        return out;
    }

    // ---- operators

    static Object binary(String op, Object l, Object r) {
        switch (op) {
            case "==" -> {
                return Values.equal(l, r);
            }
            case "!=" -> {
                return !Values.equal(l, r);
            }
            case "<" -> {
                return Values.compare(l, r) < 0;
            }
            case ">" -> {
                return Values.compare(l, r) > 0;
            }
            case "<=" -> {
                return Values.compare(l, r) <= 0;
            }
            case ">=" -> {
                return Values.compare(l, r) >= 0;
            }
            case "in" -> {
                return contains(r, l);
            }
            case "not in" -> {
                return !contains(r, l);
            }
            case "~" -> {
                return Values.str(l) + Values.str(r);
            }
            default -> {
                return arithmetic(op, l, r);
            }
        }
    }

    static boolean contains(Object container, Object item) {
        return switch (container) {
            case null -> false;
            case Undefined u -> false;
            case String s -> {
                if (!(item instanceof String sub)) {
                    throw new JinjaException("'in <string>' requires string as left operand, not " + Values.typeName(item), -1);
                }
                yield s.contains(sub);
            }
            case List<?> l -> {
                for (Object o : l) {
                    if (Values.equal(o, item)) {
                        yield true;
                    }
                }
                yield false;
            }
            case Map<?, ?> m -> m.containsKey(item);
            case Namespace ns -> ns.attributes.containsKey(item);
            default -> throw new JinjaException("argument of type '" + Values.typeName(container) + "' is not iterable", -1);
        };
    }

    private static Object arithmetic(String op, Object l, Object r) {
        boolean nl = Values.isNumber(l);
        boolean nr = Values.isNumber(r);
        if (nl && nr) {
            boolean floating = l instanceof Double || r instanceof Double || op.equals("/");
            if (floating) {
                double a = Values.toDouble(l);
                double b = Values.toDouble(r);
                return switch (op) {
                    case "+" -> a + b;
                    case "-" -> a - b;
                    case "*" -> a * b;
                    case "/" -> {
                        if (b == 0) {
                            throw new JinjaException("division by zero", -1);
                        }
                        yield a / b;
                    }
                    case "//" -> Math.floor(a / b);
                    case "%" -> a - b * Math.floor(a / b);
                    case "**" -> Math.pow(a, b);
                    default -> throw new JinjaException("unknown operator " + op, -1);
                };
            }
            long a = Values.toLong(l);
            long b = Values.toLong(r);
            return switch (op) {
                case "+" -> a + b;
                case "-" -> a - b;
                case "*" -> a * b;
                case "//" -> {
                    if (b == 0) {
                        throw new JinjaException("integer division by zero", -1);
                    }
                    yield Math.floorDiv(a, b);
                }
                case "%" -> {
                    if (b == 0) {
                        throw new JinjaException("integer modulo by zero", -1);
                    }
                    yield Math.floorMod(a, b);
                }
                case "**" -> b >= 0 ? (Object) (long) Math.pow(a, b) : (Object) Math.pow(a, b);
                default -> throw new JinjaException("unknown operator " + op, -1);
            };
        }
        if (op.equals("+")) {
            if (l instanceof String a && r instanceof String b) {
                return a + b;
            }
            if (l instanceof List<?> a && r instanceof List<?> b) {
                List<Object> out = new ArrayList<>(a);
                out.addAll(b);
                return out;
            }
            // llama.cpp's runtime treats a missing or none operand of a string concatenation as ""
            boolean ln = l == null || l instanceof Undefined;
            boolean rn = r == null || r instanceof Undefined;
            if ((ln && r instanceof String) || (rn && l instanceof String)) {
                return (ln ? "" : (String) l) + (rn ? "" : (String) r);
            }
        }
        if (op.equals("%") && l instanceof String fmt) {
            return printf(fmt, r instanceof List<?> list ? list : List.of(r == null ? "None" : r));
        }
        if (op.equals("*")) {
            if (l instanceof String s && r instanceof Long n) {
                return repeat(s, n);
            }
            if (l instanceof Long n && r instanceof String s) {
                return repeat(s, n);
            }
            if (l instanceof List<?> list && r instanceof Long n) {
                List<Object> out = new ArrayList<>();
                for (long k = 0; k < n; k++) {
                    if (out.size() + list.size() > MAX_SEQUENCE) {
                        throw new JinjaException("list repetition is too long", -1);
                    }
                    out.addAll(list);
                }
                return out;
            }
        }
        throw new JinjaException("unsupported operand type(s) for " + op + ": '" + Values.typeName(l) + "' and '"
                + Values.typeName(r) + "'", -1);
    }

    /** Python's {@code "..." % args} for %s, %r, %d, %i, %f and %%. */
    private static String printf(String fmt, List<?> args) {
        StringBuilder sb = new StringBuilder();
        int next = 0;
        for (int k = 0; k < fmt.length(); k++) {
            char c = fmt.charAt(k);
            if (c != '%' || k + 1 >= fmt.length()) {
                sb.append(c);
                continue;
            }
            char f = fmt.charAt(++k);
            if (f == '%') {
                sb.append('%');
                continue;
            }
            if (next >= args.size()) {
                throw new JinjaException("not enough arguments for format string", -1);
            }
            Object a = args.get(next++);
            switch (f) {
                case 's' -> sb.append(Values.str(a));
                case 'r' -> sb.append(Values.repr(a));
                case 'd', 'i' -> sb.append(Values.toLong(a));
                case 'f' -> sb.append(String.format(java.util.Locale.ROOT, "%f", Values.toDouble(a)));
                default -> throw new JinjaException("unsupported format character '" + f + "'", -1);
            }
        }
        return sb.toString();
    }

    private static String repeat(String s, long n) {
        if (n <= 0) {
            return "";
        }
        if (s.length() * n > MAX_SEQUENCE) {
            throw new JinjaException("string repetition is too long", -1);
        }
        return s.repeat((int) n);
    }

    // ---- slicing

    static Object slice(Object obj, Object start, Object stop, Object step) {
        long st = step == null ? 1 : Values.toLong(step);
        if (st == 0) {
            throw new JinjaException("slice step cannot be zero", -1);
        }
        int size;
        if (obj instanceof List<?> l) {
            size = l.size();
        } else if (obj instanceof String s) {
            size = s.length();
        } else if (obj instanceof Undefined || obj == null) {
            return new Undefined("slice");
        } else {
            throw new JinjaException("'" + Values.typeName(obj) + "' object is not subscriptable", -1);
        }
        long lo;
        long hi;
        if (st > 0) {
            lo = start == null ? 0 : clamp(Values.toLong(start), size, 0, size);
            hi = stop == null ? size : clamp(Values.toLong(stop), size, 0, size);
        } else {
            lo = start == null ? size - 1 : clamp(Values.toLong(start), size, -1, size - 1);
            hi = stop == null ? -1 : clamp(Values.toLong(stop), size, -1, size - 1);
        }
        if (obj instanceof List<?> l) {
            List<Object> out = new ArrayList<>();
            for (long k = lo; st > 0 ? k < hi : k > hi; k += st) {
                out.add(l.get((int) k));
            }
            return out;
        }
        String s = (String) obj;
        StringBuilder sb = new StringBuilder();
        for (long k = lo; st > 0 ? k < hi : k > hi; k += st) {
            sb.append(s.charAt((int) k));
        }
        return sb.toString();
    }

    private static long clamp(long i, int size, long min, long max) {
        long k = i < 0 ? i + size : i;
        return Math.max(min, Math.min(max, k));
    }

    // ---- tests

    static boolean test(String name, Object v, List<Object> args) {
        return switch (name) {
            case "defined" -> !(v instanceof Undefined);
            case "undefined" -> v instanceof Undefined;
            case "none" -> v == null;
            case "boolean" -> v instanceof Boolean;
            case "true" -> Boolean.TRUE.equals(v);
            case "false" -> Boolean.FALSE.equals(v);
            case "integer" -> v instanceof Long;
            case "float" -> v instanceof Double;
            case "number" -> v instanceof Long || v instanceof Double || v instanceof Boolean;
            case "string" -> v instanceof String;
            case "mapping" -> v instanceof Map;
            case "iterable" -> v instanceof List || v instanceof Map || v instanceof String;
            case "sequence" -> v instanceof List || v instanceof String || v instanceof Map;
            case "callable" -> v instanceof JinjaCallable;
            case "odd" -> Values.toLong(v) % 2 != 0;
            case "even" -> Values.toLong(v) % 2 == 0;
            case "divisibleby" -> Values.toLong(v) % Values.toLong(arg(args, 0, name)) == 0;
            case "eq", "equalto", "==" -> Values.equal(v, arg(args, 0, name));
            case "ne", "!=" -> !Values.equal(v, arg(args, 0, name));
            case "lt", "lessthan", "<" -> Values.compare(v, arg(args, 0, name)) < 0;
            case "le", "<=" -> Values.compare(v, arg(args, 0, name)) <= 0;
            case "gt", "greaterthan", ">" -> Values.compare(v, arg(args, 0, name)) > 0;
            case "ge", ">=" -> Values.compare(v, arg(args, 0, name)) >= 0;
            case "in" -> contains(arg(args, 0, name), v);
            case "sameas" -> {
                Object o = arg(args, 0, name);
                yield v == o || (v instanceof Boolean || v == null) && Values.equal(v, o) && (o instanceof Boolean || o == null);
            }
            case "lower" -> v instanceof String s && s.equals(s.toLowerCase(Locale.ROOT));
            case "upper" -> v instanceof String s && s.equals(s.toUpperCase(Locale.ROOT));
            case "escaped" -> false;
            default -> throw new JinjaException("unknown test '" + name + "'", -1);
        };
    }

    private static Object arg(List<Object> args, int i, String what) {
        if (i >= args.size()) {
            throw new JinjaException("'" + what + "' is missing an argument", -1);
        }
        return args.get(i);
    }

    private static Object kwarg(List<Object> args, Map<String, Object> kw, int i, String name, Object fallback) {
        if (kw.containsKey(name)) {
            return kw.get(name);
        }
        return i < args.size() ? args.get(i) : fallback;
    }

    // ---- filters

    static Object filter(Interpreter in, String name, Object v, List<Object> args, Map<String, Object> kw) {
        switch (name) {
            case "trim", "strip" -> {
                Object chars = kwarg(args, kw, 0, "chars", null);
                return strip(Values.str(v), chars == null ? null : Values.str(chars), true, true);
            }
            case "length", "count" -> {
                return (long) length(v);
            }
            case "string" -> {
                return Values.str(v);
            }
            case "tojson" -> {
                Object indentArg = kwarg(args, kw, 0, "indent", null);
                int indent = indentArg == null ? -1 : (int) Values.toLong(indentArg);
                String itemSep = indent >= 0 ? "," : ", ";
                String keySep = ": ";
                if (kw.get("separators") instanceof List<?> seps && seps.size() == 2) {
                    itemSep = Values.str(seps.get(0));
                    keySep = Values.str(seps.get(1));
                }
                return JsonText.write(v, new JsonText.Style(indent, itemSep, keySep, Values.truthy(kw.get("sort_keys")),
                        Values.truthy(kw.get("ensure_ascii"))));
            }
            case "lower" -> {
                return Values.str(v).toLowerCase(Locale.ROOT);
            }
            case "upper" -> {
                return Values.str(v).toUpperCase(Locale.ROOT);
            }
            case "capitalize" -> {
                return capitalize(Values.str(v));
            }
            case "title" -> {
                return title(Values.str(v));
            }
            case "replace" -> {
                Object count = kwarg(args, kw, 2, "count", null);
                return replace(Values.str(v), Values.str(arg(args, 0, name)), Values.str(arg(args, 1, name)),
                        count == null ? -1 : Values.toLong(count));
            }
            case "default", "d" -> {
                Object fallback = kwarg(args, kw, 0, "default_value", "");
                boolean bool = Values.truthy(kwarg(args, kw, 1, "boolean", false));
                return v instanceof Undefined || (bool && !Values.truthy(v)) ? fallback : v;
            }
            case "first" -> {
                List<Object> l = Interpreter.iterate(v, -1);
                return l.isEmpty() ? new Undefined("first") : l.getFirst();
            }
            case "last" -> {
                List<Object> l = Interpreter.iterate(v, -1);
                return l.isEmpty() ? new Undefined("last") : l.getLast();
            }
            case "list" -> {
                return Interpreter.iterate(v, -1);
            }
            case "items" -> {
                return items(v);
            }
            case "join" -> {
                String sep = Values.str(kwarg(args, kw, 0, "d", ""));
                Object attribute = kwarg(args, kw, 1, "attribute", null);
                StringBuilder sb = new StringBuilder();
                boolean first = true;
                for (Object o : Interpreter.iterate(v, -1)) {
                    if (!first) {
                        sb.append(sep);
                    }
                    first = false;
                    sb.append(Values.str(attribute == null ? o : attribute(in, o, attribute)));
                }
                return sb.toString();
            }
            case "map" -> {
                List<Object> out = new ArrayList<>();
                if (kw.containsKey("attribute")) {
                    Object fallback = kw.get("default");
                    for (Object o : Interpreter.iterate(v, -1)) {
                        Object a = attribute(in, o, kw.get("attribute"));
                        out.add(a instanceof Undefined && fallback != null ? fallback : a);
                    }
                } else {
                    String fname = Values.str(arg(args, 0, name));
                    List<Object> rest = args.subList(1, args.size());
                    for (Object o : Interpreter.iterate(v, -1)) {
                        out.add(filter(in, fname, o, rest, Map.of()));
                    }
                }
                return out;
            }
            case "select", "reject" -> {
                boolean keep = name.equals("select");
                List<Object> out = new ArrayList<>();
                for (Object o : Interpreter.iterate(v, -1)) {
                    boolean t = args.isEmpty() ? Values.truthy(o)
                            : test(Values.str(args.getFirst()), o, args.subList(1, args.size()));
                    if (t == keep) {
                        out.add(o);
                    }
                }
                return out;
            }
            case "selectattr", "rejectattr" -> {
                boolean keep = name.equals("selectattr");
                Object attr = arg(args, 0, name);
                List<Object> out = new ArrayList<>();
                for (Object o : Interpreter.iterate(v, -1)) {
                    Object a = attribute(in, o, attr);
                    boolean t = args.size() < 2 ? Values.truthy(a)
                            : test(Values.str(args.get(1)), a, args.subList(2, args.size()));
                    if (t == keep) {
                        out.add(o);
                    }
                }
                return out;
            }
            case "unique" -> {
                List<Object> out = new ArrayList<>();
                for (Object o : Interpreter.iterate(v, -1)) {
                    boolean seen = false;
                    for (Object x : out) {
                        seen |= Values.equal(x, o);
                    }
                    if (!seen) {
                        out.add(o);
                    }
                }
                return out;
            }
            case "reverse" -> {
                if (v instanceof String s) {
                    return new StringBuilder(s).reverse().toString();
                }
                List<Object> l = Interpreter.iterate(v, -1);
                Collections.reverse(l);
                return l;
            }
            case "sort" -> {
                boolean reverse = Values.truthy(kwarg(args, kw, 0, "reverse", false));
                Object attribute = kwarg(args, kw, 2, "attribute", null);
                List<Object> l = Interpreter.iterate(v, -1);
                Comparator<Object> cmp = (a, b) -> Values.compare(
                        attribute == null ? a : attribute(in, a, attribute), attribute == null ? b : attribute(in, b, attribute));
                l.sort(reverse ? cmp.reversed() : cmp);
                return l;
            }
            case "dictsort" -> {
                List<Object> l = items(v);
                l.sort((a, b) -> Values.compare(((List<?>) a).getFirst(), ((List<?>) b).getFirst()));
                return l;
            }
            case "min", "max" -> {
                List<Object> l = Interpreter.iterate(v, -1);
                if (l.isEmpty()) {
                    return new Undefined(name);
                }
                Object best = l.getFirst();
                for (Object o : l) {
                    int c = Values.compare(o, best);
                    if (name.equals("min") ? c < 0 : c > 0) {
                        best = o;
                    }
                }
                return best;
            }
            case "sum" -> {
                Object attribute = kwarg(args, kw, 0, "attribute", null);
                Object total = kwarg(args, kw, 1, "start", 0L);
                for (Object o : Interpreter.iterate(v, -1)) {
                    total = arithmetic("+", total, attribute == null ? o : attribute(in, o, attribute));
                }
                return total;
            }
            case "int" -> {
                return toInt(v, kwarg(args, kw, 0, "default", 0L));
            }
            case "float" -> {
                return toFloat(v, kwarg(args, kw, 0, "default", 0.0));
            }
            case "abs" -> {
                return v instanceof Double d ? (Object) Math.abs(d) : (Object) Math.abs(Values.toLong(v));
            }
            case "round" -> {
                long precision = Values.toLong(kwarg(args, kw, 0, "precision", 0L));
                String method = Values.str(kwarg(args, kw, 1, "method", "common"));
                double x = Values.toDouble(v) * Math.pow(10, precision);
                double r = switch (method) {
                    case "ceil" -> Math.ceil(x);
                    case "floor" -> Math.floor(x);
                    default -> Math.signum(x) * Math.floor(Math.abs(x) + 0.5);
                };
                return r / Math.pow(10, precision);
            }
            case "attr" -> {
                return in.getAttr(v, Values.str(arg(args, 0, name)));
            }
            case "safe", "e", "escape", "forceescape" -> {
                return name.equals("safe") ? v : escapeHtml(Values.str(v));
            }
            case "indent" -> {
                return indent(Values.str(v), kwarg(args, kw, 0, "width", 4L), Values.truthy(kwarg(args, kw, 1, "first", false)),
                        Values.truthy(kwarg(args, kw, 2, "blank", false)));
            }
            case "wordcount" -> {
                String s = Values.str(v).strip();
                return s.isEmpty() ? 0L : (long) s.split("\\s+").length;
            }
            case "pprint" -> {
                return Values.repr(v);
            }
            case "batch" -> {
                long size = Values.toLong(arg(args, 0, name));
                List<Object> out = new ArrayList<>();
                List<Object> cur = new ArrayList<>();
                for (Object o : Interpreter.iterate(v, -1)) {
                    cur.add(o);
                    if (cur.size() == size) {
                        out.add(cur);
                        cur = new ArrayList<>();
                    }
                }
                if (!cur.isEmpty()) {
                    out.add(cur);
                }
                return out;
            }
            default -> throw new JinjaException("unknown filter '" + name + "'", -1);
        }
    }

    private static int length(Object v) {
        return switch (v) {
            case String s -> s.codePointCount(0, s.length());
            case List<?> l -> l.size();
            case Map<?, ?> m -> m.size();
            case Namespace n -> n.attributes.size();
            case Undefined u -> 0;
            default -> throw new JinjaException("object of type '" + Values.typeName(v) + "' has no len()", -1);
        };
    }

    private static List<Object> items(Object v) {
        List<Object> out = new ArrayList<>();
        Map<?, ?> m = v instanceof Namespace ns ? ns.attributes : v instanceof Map<?, ?> mm ? mm : null;
        if (m == null) {
            if (v instanceof Undefined) {
                return out;
            }
            throw new JinjaException("items() needs a mapping, got " + Values.typeName(v), -1);
        }
        for (Map.Entry<?, ?> e : m.entrySet()) {
            out.add(new Tuple(e.getKey(), e.getValue()));
        }
        return out;
    }


    /** Dotted attribute path ("a.b" or an integer index), as selectattr/map/sort take it. */
    private static Object attribute(Interpreter in, Object o, Object path) {
        if (path instanceof Long idx) {
            return in.getItem(o, idx);
        }
        Object cur = o;
        for (String part : Values.str(path).split("\\.")) {
            cur = part.chars().allMatch(Character::isDigit) && !part.isEmpty()
                    ? in.getItem(cur, Long.parseLong(part)) : in.getItem(cur, part);
        }
        return cur;
    }

    private static Object toInt(Object v, Object fallback) {
        return switch (v) {
            case Long l -> l;
            case Double d -> (long) d.doubleValue();
            case Boolean b -> b ? 1L : 0L;
            case String s -> {
                try {
                    yield Long.parseLong(s.strip());
                } catch (NumberFormatException e) {
                    try {
                        yield (long) Double.parseDouble(s.strip());
                    } catch (NumberFormatException e2) {
                        yield fallback;
                    }
                }
            }
            default -> fallback;
        };
    }

    private static Object toFloat(Object v, Object fallback) {
        return switch (v) {
            case Long l -> (double) l;
            case Double d -> d;
            case Boolean b -> b ? 1.0 : 0.0;
            case String s -> {
                try {
                    yield Double.parseDouble(s.strip());
                } catch (NumberFormatException e) {
                    yield fallback;
                }
            }
            default -> fallback;
        };
    }

    private static String escapeHtml(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&#34;").replace("'", "&#39;");
    }

    private static String indent(String s, Object width, boolean first, boolean blank) {
        String pad = width instanceof String w ? w : " ".repeat((int) Values.toLong(width));
        String[] lines = s.split("\n", -1);
        StringBuilder sb = new StringBuilder();
        for (int k = 0; k < lines.length; k++) {
            if (k > 0) {
                sb.append('\n');
            }
            boolean pads = (k > 0 || first) && (blank || !lines[k].isBlank());
            if (pads) {
                sb.append(pad);
            }
            sb.append(lines[k]);
        }
        return sb.toString();
    }

    // ---- methods (Python's str, list and dict)

    /** The bound method {@code name} of {@code obj}, or null when its type has none. */
    static JinjaCallable method(Object obj, String name) {
        if (obj instanceof String s) {
            return stringMethod(s, name);
        }
        if (obj instanceof Tuple t) {
            return name.equals("index") || name.equals("count") ? listMethod(Interpreter.castList(t), name) : null;
        }
        if (obj instanceof List<?> l) {
            return listMethod(Interpreter.castList(l), name);
        }
        if (obj instanceof Map<?, ?> m) {
            return mapMethod(Interpreter.castMap(m), name);
        }
        return null;
    }

    private static JinjaCallable stringMethod(String s, String name) {
        return switch (name) {
            case "strip" -> (a, kw) -> strip(s, a.isEmpty() || a.getFirst() == null ? null : Values.str(a.getFirst()), true, true);
            case "lstrip" -> (a, kw) -> strip(s, a.isEmpty() || a.getFirst() == null ? null : Values.str(a.getFirst()), true, false);
            case "rstrip" -> (a, kw) -> strip(s, a.isEmpty() || a.getFirst() == null ? null : Values.str(a.getFirst()), false, true);
            case "upper" -> (a, kw) -> s.toUpperCase(Locale.ROOT);
            case "lower" -> (a, kw) -> s.toLowerCase(Locale.ROOT);
            case "title" -> (a, kw) -> title(s);
            case "capitalize" -> (a, kw) -> capitalize(s);
            case "startswith" -> (a, kw) -> affix(s, arg(a, 0, name), true);
            case "endswith" -> (a, kw) -> affix(s, arg(a, 0, name), false);
            case "split" -> (a, kw) -> split(s, kwarg(a, kw, 0, "sep", null), Values.toLong(kwarg(a, kw, 1, "maxsplit", -1L)));
            case "rsplit" -> (a, kw) -> rsplit(s, kwarg(a, kw, 0, "sep", null), Values.toLong(kwarg(a, kw, 1, "maxsplit", -1L)));
            case "splitlines" -> (a, kw) -> {
                List<Object> out = new ArrayList<>();
                for (String line : s.split("\r\n|\r|\n", -1)) {
                    out.add(line);
                }
                if (!out.isEmpty() && ((String) out.getLast()).isEmpty()) {
                    out.removeLast();
                }
                return out;
            };
            case "replace" -> (a, kw) -> replace(s, Values.str(arg(a, 0, name)), Values.str(arg(a, 1, name)),
                    a.size() > 2 ? Values.toLong(a.get(2)) : -1);
            case "find" -> (a, kw) -> (long) s.indexOf(Values.str(arg(a, 0, name)));
            case "rfind" -> (a, kw) -> (long) s.lastIndexOf(Values.str(arg(a, 0, name)));
            case "index" -> (a, kw) -> {
                int k = s.indexOf(Values.str(arg(a, 0, name)));
                if (k < 0) {
                    throw new JinjaException("substring not found", -1);
                }
                return (long) k;
            };
            case "count" -> (a, kw) -> {
                String sub = Values.str(arg(a, 0, name));
                if (sub.isEmpty()) {
                    return (long) s.length() + 1;
                }
                long n = 0;
                for (int k = s.indexOf(sub); k >= 0; k = s.indexOf(sub, k + sub.length())) {
                    n++;
                }
                return n;
            };
            case "join" -> (a, kw) -> {
                StringBuilder sb = new StringBuilder();
                boolean first = true;
                for (Object o : Interpreter.iterate(arg(a, 0, name), -1)) {
                    if (!first) {
                        sb.append(s);
                    }
                    first = false;
                    sb.append(Values.str(o));
                }
                return sb.toString();
            };
            case "isdigit" -> (a, kw) -> !s.isEmpty() && s.chars().allMatch(Character::isDigit);
            case "isalpha" -> (a, kw) -> !s.isEmpty() && s.chars().allMatch(Character::isLetter);
            case "isalnum" -> (a, kw) -> !s.isEmpty() && s.chars().allMatch(Character::isLetterOrDigit);
            case "isspace" -> (a, kw) -> !s.isEmpty() && s.chars().allMatch(Character::isWhitespace);
            case "islower" -> (a, kw) -> s.chars().anyMatch(Character::isLetter) && s.equals(s.toLowerCase(Locale.ROOT));
            case "isupper" -> (a, kw) -> s.chars().anyMatch(Character::isLetter) && s.equals(s.toUpperCase(Locale.ROOT));
            case "format" -> (a, kw) -> format(s, a, kw);
            default -> null;
        };
    }

    private static JinjaCallable listMethod(List<Object> l, String name) {
        return switch (name) {
            case "append" -> (a, kw) -> {
                if (l.size() >= MAX_SEQUENCE) {
                    throw new JinjaException("list is too long", -1);
                }
                l.add(arg(a, 0, name));
                return null;
            };
            case "extend" -> (a, kw) -> {
                l.addAll(Interpreter.iterate(arg(a, 0, name), -1));
                return null;
            };
            case "insert" -> (a, kw) -> {
                int k = (int) Math.max(0, Math.min(l.size(), clamp(Values.toLong(arg(a, 0, name)), l.size(), 0, l.size())));
                l.add(k, arg(a, 1, name));
                return null;
            };
            case "pop" -> (a, kw) -> {
                if (l.isEmpty()) {
                    throw new JinjaException("pop from empty list", -1);
                }
                int k = a.isEmpty() ? l.size() - 1 : Values.index(Values.toLong(a.getFirst()), l.size());
                if (k < 0) {
                    throw new JinjaException("pop index out of range", -1);
                }
                return l.remove(k);
            };
            case "index" -> (a, kw) -> {
                Object x = arg(a, 0, name);
                for (int k = 0; k < l.size(); k++) {
                    if (Values.equal(l.get(k), x)) {
                        return (long) k;
                    }
                }
                throw new JinjaException("value is not in list", -1);
            };
            case "count" -> (a, kw) -> {
                Object x = arg(a, 0, name);
                return l.stream().filter(o -> Values.equal(o, x)).count();
            };
            case "remove" -> (a, kw) -> {
                Object x = arg(a, 0, name);
                for (int k = 0; k < l.size(); k++) {
                    if (Values.equal(l.get(k), x)) {
                        l.remove(k);
                        return null;
                    }
                }
                throw new JinjaException("list.remove(x): x not in list", -1);
            };
            case "reverse" -> (a, kw) -> {
                Collections.reverse(l);
                return null;
            };
            case "copy" -> (a, kw) -> new ArrayList<>(l);
            default -> null;
        };
    }

    private static JinjaCallable mapMethod(Map<Object, Object> m, String name) {
        return switch (name) {
            case "items" -> (a, kw) -> items(m);
            case "keys" -> (a, kw) -> new ArrayList<>(m.keySet());
            case "values" -> (a, kw) -> new ArrayList<>(m.values());
            case "get" -> (a, kw) -> {
                Object k = arg(a, 0, name);
                return m.containsKey(k) ? m.get(k) : (a.size() > 1 ? a.get(1) : null);
            };
            case "pop" -> (a, kw) -> {
                Object k = arg(a, 0, name);
                if (m.containsKey(k)) {
                    return m.remove(k);
                }
                if (a.size() > 1) {
                    return a.get(1);
                }
                throw new JinjaException("key not found: " + Values.str(k), -1);
            };
            case "update" -> (a, kw) -> {
                for (Object o : a) {
                    if (o instanceof Map<?, ?> src) {
                        m.putAll(src);
                    }
                }
                m.putAll(kw);
                return null;
            };
            case "setdefault" -> (a, kw) -> m.computeIfAbsent(arg(a, 0, name), k -> a.size() > 1 ? a.get(1) : null);
            case "copy" -> (a, kw) -> new LinkedHashMap<>(m);
            default -> null;
        };
    }

    // ---- string helpers with Python semantics

    static String strip(String s, String chars, boolean left, boolean right) {
        int b = 0;
        int e = s.length();
        if (left) {
            while (b < e && (chars == null ? Character.isWhitespace(s.charAt(b)) : chars.indexOf(s.charAt(b)) >= 0)) {
                b++;
            }
        }
        if (right) {
            while (e > b && (chars == null ? Character.isWhitespace(s.charAt(e - 1)) : chars.indexOf(s.charAt(e - 1)) >= 0)) {
                e--;
            }
        }
        return s.substring(b, e);
    }

    private static boolean affix(String s, Object what, boolean prefix) {
        if (what instanceof List<?> options) {
            for (Object o : options) {
                if (affix(s, o, prefix)) {
                    return true;
                }
            }
            return false;
        }
        String w = Values.str(what);
        return prefix ? s.startsWith(w) : s.endsWith(w);
    }

    private static List<Object> split(String s, Object sep, long maxsplit) {
        List<Object> out = new ArrayList<>();
        if (sep == null) {
            int k = 0;
            int n = s.length();
            while (true) {
                while (k < n && Character.isWhitespace(s.charAt(k))) {
                    k++;
                }
                if (k >= n) {
                    return out;
                }
                if (maxsplit >= 0 && out.size() == maxsplit) {
                    out.add(strip(s.substring(k), null, false, true));
                    return out;
                }
                int start = k;
                while (k < n && !Character.isWhitespace(s.charAt(k))) {
                    k++;
                }
                out.add(s.substring(start, k));
            }
        }
        String d = Values.str(sep);
        if (d.isEmpty()) {
            throw new JinjaException("empty separator", -1);
        }
        int from = 0;
        while (maxsplit < 0 || out.size() < maxsplit) {
            int k = s.indexOf(d, from);
            if (k < 0) {
                break;
            }
            out.add(s.substring(from, k));
            from = k + d.length();
        }
        out.add(s.substring(from));
        return out;
    }

    private static List<Object> rsplit(String s, Object sep, long maxsplit) {
        if (sep == null || maxsplit < 0) {
            return split(s, sep, maxsplit);
        }
        String d = Values.str(sep);
        List<Object> out = new ArrayList<>();
        int to = s.length();
        while (out.size() < maxsplit) {
            int k = s.lastIndexOf(d, to - d.length());
            if (k < 0 || to - d.length() < 0) {
                break;
            }
            out.addFirst(s.substring(k + d.length(), to));
            to = k;
        }
        out.addFirst(s.substring(0, to));
        return out;
    }

    private static String replace(String s, String old, String rep, long count) {
        if (count < 0) {
            return s.replace(old, rep);
        }
        StringBuilder sb = new StringBuilder();
        int from = 0;
        for (long n = 0; n < count; n++) {
            int k = s.indexOf(old, from);
            if (k < 0) {
                break;
            }
            sb.append(s, from, k).append(rep);
            from = k + old.length();
            if (old.isEmpty()) {
                if (from < s.length()) {
                    sb.append(s.charAt(from));
                }
                from++;
            }
        }
        if (from <= s.length()) {
            sb.append(s.substring(from));
        }
        return sb.toString();
    }

    private static String capitalize(String s) {
        return s.isEmpty() ? s : s.substring(0, 1).toUpperCase(Locale.ROOT) + s.substring(1).toLowerCase(Locale.ROOT);
    }

    private static String title(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        boolean prevLetter = false;
        for (int k = 0; k < s.length(); k++) {
            char c = s.charAt(k);
            sb.append(prevLetter ? Character.toLowerCase(c) : Character.toUpperCase(c));
            prevLetter = Character.isLetter(c);
        }
        return sb.toString();
    }

    /** {@code str.format} with {}, {0} and {name} fields (no format specs). */
    private static String format(String s, List<Object> args, Map<String, Object> kw) {
        StringBuilder sb = new StringBuilder();
        int auto = 0;
        for (int k = 0; k < s.length(); k++) {
            char c = s.charAt(k);
            if (c == '{' && k + 1 < s.length() && s.charAt(k + 1) == '{') {
                sb.append('{');
                k++;
            } else if (c == '}' && k + 1 < s.length() && s.charAt(k + 1) == '}') {
                sb.append('}');
                k++;
            } else if (c == '{') {
                int end = s.indexOf('}', k);
                if (end < 0) {
                    throw new JinjaException("single '{' encountered in format string", -1);
                }
                String field = s.substring(k + 1, end);
                int colon = field.indexOf(':');
                if (colon >= 0) {
                    field = field.substring(0, colon);
                }
                Object v;
                if (field.isEmpty()) {
                    v = arg(args, auto++, "format");
                } else if (field.chars().allMatch(Character::isDigit)) {
                    v = arg(args, Integer.parseInt(field), "format");
                } else {
                    v = kw.containsKey(field) ? kw.get(field) : new Undefined(field);
                }
                sb.append(Values.str(v));
                k = end;
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }
}
