package dev.trestle.engine.template.jinja;

import dev.trestle.engine.template.jinja.Node.Expr;
import dev.trestle.engine.template.jinja.Node.Stmt;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Executes a parsed template against a set of global variables. One instance per rendering. */
final class Interpreter {
    /** Bounds that stop a hostile template (templates come from model files) from hanging the server. */
    static final long MAX_ITERATIONS = 1_000_000L;
    static final int MAX_OUTPUT_CHARS = 16 << 20;
    static final int MAX_CALL_DEPTH = 200;

    private static final class LoopBreak extends RuntimeException {
        LoopBreak() {
            super(null, null, false, false);
        }
    }

    private static final class LoopContinue extends RuntimeException {
        LoopContinue() {
            super(null, null, false, false);
        }
    }

    private static final LoopBreak BREAK = new LoopBreak();
    private static final LoopContinue CONTINUE = new LoopContinue();

    /** A variable scope: the template, a loop iteration, or a macro call. */
    static final class Frame {
        final Map<String, Object> vars = new HashMap<>();
        final Frame parent;

        Frame(Frame parent) {
            this.parent = parent;
        }
    }

    /** Global functions, shared read-only by every rendering. */
    private static final Frame BUILTINS = new Frame(null);

    static {
        Builtins.installGlobals(BUILTINS.vars);
    }

    private final Frame root;
    final Usage usage;
    private long iterations;
    private int callDepth;

    Interpreter(Map<String, Object> globals, Usage usage) {
        this.usage = usage;
        this.root = new Frame(BUILTINS);
        root.vars.putAll(globals);
    }

    String run(List<Stmt> body) {
        StringBuilder out = new StringBuilder();
        exec(body, root, out);
        return out.toString();
    }

    // ---- statements

    private void exec(List<Stmt> body, Frame f, StringBuilder out) {
        for (Stmt s : body) {
            exec(s, f, out);
        }
        if (out.length() > MAX_OUTPUT_CHARS) {
            throw new JinjaException("template output exceeds " + MAX_OUTPUT_CHARS + " characters", -1);
        }
    }

    private void exec(Stmt s, Frame f, StringBuilder out) {
        switch (s) {
            case Node.Text t -> out.append(t.text());
            case Node.Output o -> out.append(Values.str(eval(o.expr(), f)));
            case Node.If n -> {
                for (Node.Branch b : n.branches()) {
                    if (Values.truthy(eval(b.test(), f))) {
                        exec(b.body(), f, out);
                        return;
                    }
                }
                exec(n.otherwise(), f, out);
            }
            case Node.For n -> execFor(n, f, out);
            case Node.Set n -> execSet(n, f);
            case Node.SetBlock n -> {
                StringBuilder sb = new StringBuilder();
                exec(n.body(), f, sb);
                f.vars.put(n.target(), sb.toString());
            }
            case Node.Macro m -> f.vars.put(m.name(), macro(m, f));
            case Node.FilterBlock n -> {
                StringBuilder sb = new StringBuilder();
                exec(n.body(), f, sb);
                List<Object> args = new ArrayList<>();
                for (Expr a : n.args()) {
                    args.add(eval(a, f));
                }
                try {
                    out.append(Values.str(Builtins.filter(this, n.filter(), sb.toString(), args, Map.of())));
                } catch (JinjaException e) {
                    throw e.at(n.pos());
                }
            }
            case Node.Do n -> eval(n.expr(), f);
            case Node.Break b -> throw BREAK;
            case Node.Continue c -> throw CONTINUE;
        }
    }

    private void execFor(Node.For n, Frame f, StringBuilder out) {
        Object iterable = eval(n.iterable(), f);
        List<Object> items = iterate(iterable, n.pos());
        if (usage != null) {
            usage.mark(iterable, iterable instanceof Map ? "object_access" : "array_access");
        }
        // the loop's 'if' filters before loop.index/length/last are computed, as in Jinja2
        if (n.filter() != null) {
            List<Object> kept = new ArrayList<>();
            for (Object item : items) {
                Frame probe = new Frame(f);
                bindTargets(n.targets(), item, probe, n.pos());
                if (Values.truthy(eval(n.filter(), probe))) {
                    kept.add(item);
                }
            }
            items = kept;
        }
        if (items.isEmpty()) {
            exec(n.otherwise(), f, out);
            return;
        }
        int size = items.size();
        for (int i = 0; i < size; i++) {
            if (++iterations > MAX_ITERATIONS) {
                throw new JinjaException("template runs more than " + MAX_ITERATIONS + " loop iterations", n.pos());
            }
            Frame it = new Frame(f);
            it.vars.put("loop", loopObject(items, i));
            bindTargets(n.targets(), items.get(i), it, n.pos());
            try {
                exec(n.body(), it, out);
            } catch (LoopContinue c) {
                // next item
            } catch (LoopBreak b) {
                break;
            }
        }
    }

    private static Map<String, Object> loopObject(List<Object> items, int i) {
        int size = items.size();
        Map<String, Object> loop = new LinkedHashMap<>();
        loop.put("index", (long) i + 1);
        loop.put("index0", (long) i);
        loop.put("revindex", (long) (size - i));
        loop.put("revindex0", (long) (size - i - 1));
        loop.put("first", i == 0);
        loop.put("last", i == size - 1);
        loop.put("length", (long) size);
        loop.put("depth", 1L);
        loop.put("depth0", 0L);
        loop.put("previtem", i > 0 ? items.get(i - 1) : new Undefined("previtem"));
        loop.put("nextitem", i < size - 1 ? items.get(i + 1) : new Undefined("nextitem"));
        loop.put("cycle", (JinjaCallable) (args, kw) -> args.isEmpty() ? new Undefined("cycle") : args.get(i % args.size()));
        return loop;
    }

    private void bindTargets(List<String> targets, Object item, Frame f, int pos) {
        if (targets.size() == 1) {
            f.vars.put(targets.getFirst(), item);
            return;
        }
        if (!(item instanceof List<?> l) || l.size() != targets.size()) {
            throw new JinjaException("cannot unpack " + Values.typeName(item) + " into " + targets.size() + " names", pos);
        }
        for (int k = 0; k < targets.size(); k++) {
            f.vars.put(targets.get(k), l.get(k));
        }
    }

    /** What a for loop walks over: list items, dict keys, string characters. */
    static List<Object> iterate(Object v, int pos) {
        return switch (v) {
            case null -> List.of();
            case Undefined u -> List.of();
            case List<?> l -> new ArrayList<>(l);
            case Map<?, ?> m -> new ArrayList<>(m.keySet());
            case String s -> {
                List<Object> chars = new ArrayList<>();
                s.codePoints().forEach(cp -> chars.add(Character.toString(cp)));
                yield chars;
            }
            case Namespace n -> new ArrayList<>(n.attributes.keySet());
            default -> throw new JinjaException("'" + Values.typeName(v) + "' object is not iterable", pos);
        };
    }

    private void execSet(Node.Set n, Frame f) {
        Object value = eval(n.value(), f);
        if (n.object() != null) {
            Object target = eval(n.object(), f);
            String attr = n.targets().getFirst();
            switch (target) {
                case Namespace ns -> ns.attributes.put(attr, value);
                case Map<?, ?> m -> castMap(m).put(attr, value);
                default -> throw new JinjaException("cannot assign attribute '" + attr + "' on "
                        + Values.typeName(target) + " (use namespace())", n.pos());
            }
            return;
        }
        bindTargets(n.targets(), value, f, n.pos());
    }

    @SuppressWarnings("unchecked")
    static Map<Object, Object> castMap(Map<?, ?> m) {
        return (Map<Object, Object>) m;
    }

    @SuppressWarnings("unchecked")
    static List<Object> castList(List<?> l) {
        return (List<Object>) l;
    }

    private JinjaCallable macro(Node.Macro m, Frame defining) {
        return (args, kwargs) -> {
            Frame call = new Frame(defining);
            List<Node.Param> params = m.params();
            for (int k = 0; k < params.size(); k++) {
                Node.Param p = params.get(k);
                Object v;
                if (k < args.size()) {
                    v = args.get(k);
                } else if (kwargs.containsKey(p.name())) {
                    v = kwargs.get(p.name());
                } else if (p.defaultValue() != null) {
                    v = eval(p.defaultValue(), call);
                } else {
                    v = new Undefined(p.name());
                }
                call.vars.put(p.name(), v);
            }
            if (++callDepth > MAX_CALL_DEPTH) {
                throw new JinjaException("macro '" + m.name() + "' recurses deeper than " + MAX_CALL_DEPTH, -1);
            }
            try {
                StringBuilder sb = new StringBuilder();
                exec(m.body(), call, sb);
                return sb.toString();
            } finally {
                callDepth--;
            }
        };
    }

    // ---- expressions

    Object eval(Expr e, Frame f) {
        return switch (e) {
            case Node.Literal l -> l.value();
            case Node.Name n -> lookup(n.name(), f);
            case Node.ListLit l -> {
                List<Object> items = new ArrayList<>(l.items().size());
                for (Expr x : l.items()) {
                    items.add(eval(x, f));
                }
                yield l.tuple() ? new Tuple(items) : items;
            }
            case Node.DictLit d -> {
                Map<Object, Object> m = new LinkedHashMap<>();
                for (int k = 0; k < d.keys().size(); k++) {
                    m.put(eval(d.keys().get(k), f), eval(d.values().get(k), f));
                }
                yield m;
            }
            case Node.Attr a -> getAttr(eval(a.object(), f), a.name());
            case Node.Item it -> getItem(eval(it.object(), f), eval(it.key(), f));
            case Node.Slice s -> slice(s, f);
            case Node.Call c -> call(c, f);
            case Node.Filter fl -> filter(fl, f);
            case Node.Test t -> test(t, f);
            case Node.Binary b -> binary(b, f);
            case Node.Unary u -> unary(u, f);
            case Node.Conditional c -> Values.truthy(eval(c.test(), f)) ? eval(c.then(), f)
                    : c.otherwise() == null ? Undefined.ANONYMOUS : eval(c.otherwise(), f);
        };
    }

    private Object lookup(String name, Frame f) {
        for (Frame x = f; x != null; x = x.parent) {
            if (x.vars.containsKey(name)) {
                Object v = x.vars.get(name);
                if (usage != null) {
                    usage.mark(v);
                }
                return v;
            }
        }
        return new Undefined(name);
    }

    /** {@code obj.name}: a method when the type has one by that name (as in Jinja2), else the key. */
    Object getAttr(Object obj, String name) {
        Object v;
        JinjaCallable method = Builtins.method(obj, name);
        if (method != null) {
            if (usage != null) {
                usage.mark(obj, name);
            }
            return method;
        }
        switch (obj) {
            case Map<?, ?> m -> v = m.containsKey(name) ? m.get(name) : new Undefined(name);
            case Namespace ns -> v = ns.attributes.containsKey(name) ? ns.attributes.get(name) : new Undefined(name);
            default -> v = new Undefined(name);
        }
        if (usage != null) {
            usage.mark(v);
            usage.mark(obj, "object_access");
        }
        return v;
    }

    /** {@code obj[key]}: list/string index, dict key, else falls back to an attribute like Jinja2. */
    Object getItem(Object obj, Object key) {
        Object v;
        if (obj instanceof Map<?, ?> m) {
            Object k = key instanceof Double d && d == Math.rint(d) ? (Object) (long) d.doubleValue() : key;
            v = m.containsKey(k) ? m.get(k) : new Undefined(Values.str(key));
        } else if ((obj instanceof List<?> || obj instanceof String) && (key instanceof Long || key instanceof Boolean)) {
            long idx = Values.toLong(key);
            if (obj instanceof List<?> l) {
                int k = Values.index(idx, l.size());
                v = k < 0 ? new Undefined("[" + idx + "]") : l.get(k);
            } else {
                String s = (String) obj;
                int k = Values.index(idx, s.length());
                v = k < 0 ? new Undefined("[" + idx + "]") : String.valueOf(s.charAt(k));
            }
        } else if (key instanceof String name) {
            return getAttr(obj, name);
        } else {
            v = new Undefined(Values.str(key));
        }
        if (usage != null) {
            usage.mark(v);
            usage.mark(obj, key instanceof Long ? "array_access" : "object_access");
        }
        return v;
    }

    private Object slice(Node.Slice s, Frame f) {
        Object obj = eval(s.object(), f);
        Object start = s.start() == null ? null : eval(s.start(), f);
        Object stop = s.stop() == null ? null : eval(s.stop(), f);
        Object step = s.step() == null ? null : eval(s.step(), f);
        if (usage != null) {
            usage.mark(obj, "slice");
        }
        try {
            return Builtins.slice(obj, start, stop, step);
        } catch (JinjaException ex) {
            throw ex.at(s.pos());
        }
    }

    private Object call(Node.Call c, Frame f) {
        Object callee = eval(c.callee(), f);
        List<Object> args = new ArrayList<>(c.args().size());
        for (Expr a : c.args()) {
            args.add(eval(a, f));
        }
        Map<String, Object> kwargs = new LinkedHashMap<>();
        for (int k = 0; k < c.kwNames().size(); k++) {
            kwargs.put(c.kwNames().get(k), eval(c.kwValues().get(k), f));
        }
        if (!(callee instanceof JinjaCallable fn)) {
            String what = c.callee() instanceof Node.Name n ? n.name()
                    : c.callee() instanceof Node.Attr a ? a.name() : Values.typeName(callee);
            throw new JinjaException("'" + what + "' is not callable", c.pos());
        }
        try {
            return fn.call(args, kwargs);
        } catch (JinjaException ex) {
            throw ex.at(c.pos());
        }
    }

    private Object filter(Node.Filter fl, Frame f) {
        Object input = eval(fl.input(), f);
        List<Object> args = new ArrayList<>(fl.args().size());
        for (Expr a : fl.args()) {
            args.add(eval(a, f));
        }
        Map<String, Object> kwargs = new LinkedHashMap<>();
        for (int k = 0; k < fl.kwNames().size(); k++) {
            kwargs.put(fl.kwNames().get(k), eval(fl.kwValues().get(k), f));
        }
        if (usage != null) {
            usage.mark(input, fl.name());
            if (fl.name().equals("tojson")) {
                // serializing a structure reads all of it: that is how a template shows it wants
                // tool-call arguments as objects (what it prints verbatim, it wants as text)
                usage.markDeep(input);
            }
        }
        try {
            return Builtins.filter(this, fl.name(), input, args, kwargs);
        } catch (JinjaException ex) {
            throw ex.at(fl.pos());
        }
    }

    private Object test(Node.Test t, Frame f) {
        Object input = eval(t.input(), f);
        List<Object> args = new ArrayList<>(t.args().size());
        for (Expr a : t.args()) {
            args.add(eval(a, f));
        }
        try {
            boolean r = Builtins.test(t.name(), input, args);
            return t.negated() != r;
        } catch (JinjaException ex) {
            throw ex.at(t.pos());
        }
    }

    private Object unary(Node.Unary u, Frame f) {
        Object v = eval(u.operand(), f);
        return switch (u.op()) {
            case "not" -> !Values.truthy(v);
            case "-" -> switch (v) {
                case Long l -> -l;
                case Double d -> -d;
                case Boolean b -> b ? -1L : 0L;
                default -> throw new JinjaException("bad operand type for unary -: " + Values.typeName(v), u.pos());
            };
            default -> {
                if (!Values.isNumber(v)) {
                    throw new JinjaException("bad operand type for unary +: " + Values.typeName(v), u.pos());
                }
                yield v;
            }
        };
    }

    private Object binary(Node.Binary b, Frame f) {
        Object l = eval(b.left(), f);
        switch (b.op()) {
            case "and" -> {
                return Values.truthy(l) ? eval(b.right(), f) : l;
            }
            case "or" -> {
                return Values.truthy(l) ? l : eval(b.right(), f);
            }
            default -> {
            }
        }
        Object r = eval(b.right(), f);
        try {
            return Builtins.binary(b.op(), l, r);
        } catch (JinjaException ex) {
            throw ex.at(b.pos());
        }
    }
}
