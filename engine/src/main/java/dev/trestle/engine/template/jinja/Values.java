package dev.trestle.engine.template.jinja;

import java.math.BigDecimal;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Python semantics for template values. Values are: null (None), {@link Undefined}, Boolean, Long,
 * Double, String, List (lists and tuples), Map (insertion-ordered dicts), {@link Namespace} and
 * {@link JinjaCallable}.
 */
final class Values {
    private Values() {
    }

    static boolean truthy(Object v) {
        return switch (v) {
            case null -> false;
            case Undefined u -> false;
            case Boolean b -> b;
            case Long l -> l != 0;
            case Double d -> d != 0.0;
            case String s -> !s.isEmpty();
            case Collection<?> c -> !c.isEmpty();
            case Map<?, ?> m -> !m.isEmpty();
            default -> true;
        };
    }

    static boolean isNumber(Object v) {
        return v instanceof Long || v instanceof Double || v instanceof Boolean;
    }

    static double toDouble(Object v) {
        return switch (v) {
            case Long l -> l;
            case Double d -> d;
            case Boolean b -> b ? 1 : 0;
            default -> throw new JinjaException("expected a number, got " + typeName(v), -1);
        };
    }

    static long toLong(Object v) {
        return switch (v) {
            case Long l -> l;
            case Double d -> (long) d.doubleValue();
            case Boolean b -> b ? 1 : 0;
            default -> throw new JinjaException("expected an integer, got " + typeName(v), -1);
        };
    }

    static String typeName(Object v) {
        return switch (v) {
            case null -> "none";
            case Undefined u -> "undefined";
            case Boolean b -> "bool";
            case Long l -> "int";
            case Double d -> "float";
            case String s -> "string";
            case List<?> l -> "list";
            case Map<?, ?> m -> "dict";
            case Namespace n -> "namespace";
            case JinjaCallable c -> "function";
            default -> v.getClass().getSimpleName();
        };
    }

    /** Python's {@code str()}. */
    static String str(Object v) {
        return switch (v) {
            case null -> "None";
            case Undefined u -> "";
            case String s -> s;
            case Boolean b -> b ? "True" : "False";
            case Long l -> l.toString();
            case Double d -> pyFloat(d);
            default -> repr(v);
        };
    }

    /** Python's {@code repr()}, used when containers are printed. */
    static String repr(Object v) {
        StringBuilder sb = new StringBuilder();
        repr(v, sb);
        return sb.toString();
    }

    private static void repr(Object v, StringBuilder sb) {
        switch (v) {
            case null -> sb.append("None");
            case String s -> {
                char q = s.indexOf('\'') >= 0 && s.indexOf('"') < 0 ? '"' : '\'';
                sb.append(q);
                for (int i = 0; i < s.length(); i++) {
                    char c = s.charAt(i);
                    switch (c) {
                        case '\\' -> sb.append("\\\\");
                        case '\n' -> sb.append("\\n");
                        case '\r' -> sb.append("\\r");
                        case '\t' -> sb.append("\\t");
                        default -> {
                            if (c == q) {
                                sb.append('\\');
                            }
                            sb.append(c);
                        }
                    }
                }
                sb.append(q);
            }
            case List<?> l -> {
                boolean tuple = l instanceof Tuple;
                sb.append(tuple ? '(' : '[');
                for (int i = 0; i < l.size(); i++) {
                    if (i > 0) {
                        sb.append(", ");
                    }
                    repr(l.get(i), sb);
                }
                sb.append(tuple ? (l.size() == 1 ? ",)" : ")") : "]");
            }
            case Map<?, ?> m -> {
                sb.append('{');
                boolean first = true;
                for (Map.Entry<?, ?> e : m.entrySet()) {
                    if (!first) {
                        sb.append(", ");
                    }
                    first = false;
                    repr(e.getKey(), sb);
                    sb.append(": ");
                    repr(e.getValue(), sb);
                }
                sb.append('}');
            }
            case Namespace n -> sb.append("<Namespace ").append(repr(n.attributes)).append('>');
            case JinjaCallable c -> sb.append("<function>");
            default -> sb.append(str(v));
        }
    }

    /** Python's float repr: shortest round-trip digits, scientific outside [1e-4, 1e16). */
    static String pyFloat(double d) {
        if (Double.isNaN(d)) {
            return "nan";
        }
        if (Double.isInfinite(d)) {
            return d > 0 ? "inf" : "-inf";
        }
        if (d == 0) {
            return (1 / d < 0) ? "-0.0" : "0.0";
        }
        BigDecimal bd = new BigDecimal(Double.toString(d)).stripTrailingZeros();
        String digits = bd.unscaledValue().abs().toString();
        int exp = digits.length() - bd.scale() - 1;
        String sign = d < 0 ? "-" : "";
        if (exp >= -4 && exp < 16) {
            String plain = bd.abs().toPlainString();
            return sign + (plain.contains(".") ? plain : plain + ".0");
        }
        String mant = digits.length() > 1 ? digits.charAt(0) + "." + digits.substring(1) : digits;
        int ae = Math.abs(exp);
        return sign + mant + "e" + (exp < 0 ? "-" : "+") + (ae < 10 ? "0" : "") + ae;
    }

    static boolean equal(Object a, Object b) {
        if (a == b) {
            return true;
        }
        if (a == null || b == null) {
            return false;
        }
        if (isNumber(a) && isNumber(b)) {
            if (a instanceof Boolean && b instanceof Boolean) {
                return a.equals(b);
            }
            if (a instanceof Double || b instanceof Double) {
                return toDouble(a) == toDouble(b);
            }
            return toLong(a) == toLong(b);
        }
        if (a instanceof List<?> la && b instanceof List<?> lb) {
            if (la.size() != lb.size()) {
                return false;
            }
            for (int i = 0; i < la.size(); i++) {
                if (!equal(la.get(i), lb.get(i))) {
                    return false;
                }
            }
            return true;
        }
        if (a instanceof Map<?, ?> ma && b instanceof Map<?, ?> mb) {
            if (ma.size() != mb.size()) {
                return false;
            }
            for (Map.Entry<?, ?> e : ma.entrySet()) {
                if (!mb.containsKey(e.getKey()) || !equal(e.getValue(), mb.get(e.getKey()))) {
                    return false;
                }
            }
            return true;
        }
        return a.equals(b);
    }

    static int compare(Object a, Object b) {
        if (isNumber(a) && isNumber(b)) {
            return Double.compare(toDouble(a), toDouble(b));
        }
        if (a instanceof String sa && b instanceof String sb) {
            return sa.compareTo(sb);
        }
        if (a instanceof List<?> la && b instanceof List<?> lb) {
            Iterator<?> ia = la.iterator();
            Iterator<?> ib = lb.iterator();
            while (ia.hasNext() && ib.hasNext()) {
                Object x = ia.next();
                Object y = ib.next();
                if (!equal(x, y)) {
                    return compare(x, y);
                }
            }
            return Integer.compare(la.size(), lb.size());
        }
        throw new JinjaException("cannot compare " + typeName(a) + " with " + typeName(b), -1);
    }

    /** Python-style index normalization; returns -1 when out of range. */
    static int index(long i, int size) {
        long k = i < 0 ? i + size : i;
        return k < 0 || k >= size ? -1 : (int) k;
    }
}
