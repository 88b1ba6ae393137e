package dev.trestle.engine.template.jinja;

import dev.trestle.engine.template.jinja.Node.Expr;
import dev.trestle.engine.template.jinja.Node.Stmt;
import dev.trestle.engine.template.jinja.Token.Kind;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/** Recursive-descent parser from tokens to a {@link Node} tree, with Jinja2's operator precedence. */
final class Parser {
    private static final Set<String> COMPARE = Set.of("==", "!=", "<", ">", "<=", ">=");
    /** Words after which a test takes no bare argument ({@code x is defined and ...}). */
    private static final Set<String> NOT_AN_ARGUMENT = Set.of("and", "or", "else", "if", "in", "is", "not");

    private final List<Token> tokens;
    private int i;

    private Parser(List<Token> tokens) {
        this.tokens = tokens;
    }

    static List<Stmt> parse(List<Token> tokens) {
        Parser p = new Parser(tokens);
        List<Stmt> body = p.body(Set.of());
        if (p.peek().kind() != Kind.EOF) {
            Token t = p.peek();
            throw new JinjaException("unexpected '" + t.text() + "'", t.pos());
        }
        return body;
    }

    // ---- statements

    /** Parses statements until a block tag whose name is in {@code enders}; stops before that name. */
    private List<Stmt> body(Set<String> enders) {
        List<Stmt> out = new ArrayList<>();
        while (true) {
            Token t = peek();
            switch (t.kind()) {
                case EOF -> {
                    if (!enders.isEmpty()) {
                        throw new JinjaException("unexpected end of template, expected one of " + enders, t.pos());
                    }
                    return out;
                }
                case TEXT -> {
                    i++;
                    out.add(new Node.Text(t.text()));
                }
                case VAR_BEGIN -> {
                    i++;
                    Expr e = expression();
                    expect(Kind.VAR_END, "}}");
                    out.add(new Node.Output(e));
                }
                case BLOCK_BEGIN -> {
                    Token name = tokens.get(i + 1);
                    if (name.kind() == Kind.NAME && enders.contains(name.text())) {
                        i++;
                        return out;
                    }
                    i++;
                    out.add(statement());
                }
                default -> throw new JinjaException("unexpected '" + t.text() + "'", t.pos());
            }
        }
    }

    private Stmt statement() {
        Token kw = next();
        if (kw.kind() != Kind.NAME) {
            throw new JinjaException("expected a statement name", kw.pos());
        }
        switch (kw.text()) {
            case "if" -> {
                return ifStatement();
            }
            case "for" -> {
                return forStatement(kw);
            }
            case "set" -> {
                return setStatement(kw);
            }
            case "macro" -> {
                return macroStatement();
            }
            case "filter" -> {
                Token name = expectName();
                List<Expr> args = new ArrayList<>();
                if (peek().isOp("(")) {
                    i++;
                    args = callArgs(new ArrayList<>(), new ArrayList<>());
                }
                endTag();
                List<Stmt> body = body(Set.of("endfilter"));
                i++;
                endTag();
                return new Node.FilterBlock(name.text(), args, body, name.pos());
            }
            case "do" -> {
                Expr e = expression();
                endTag();
                return new Node.Do(e);
            }
            case "break" -> {
                endTag();
                return new Node.Break();
            }
            case "continue" -> {
                endTag();
                return new Node.Continue();
            }
            case "generation" -> {
                // Hugging Face's training-mask marker: renders its body unchanged
                endTag();
                List<Stmt> body = body(Set.of("endgeneration"));
                i++;
                endTag();
                return new Node.If(List.of(new Node.Branch(new Node.Literal(true, kw.pos()), body)), List.of());
            }
            default -> throw new JinjaException("unknown statement '" + kw.text() + "'", kw.pos());
        }
    }

    private Stmt ifStatement() {
        List<Node.Branch> branches = new ArrayList<>();
        Expr test = expression();
        endTag();
        List<Stmt> otherwise = List.of();
        while (true) {
            List<Stmt> body = body(Set.of("elif", "else", "endif"));
            branches.add(new Node.Branch(test, body));
            Token t = next();
            if (t.text().equals("elif")) {
                test = expression();
                endTag();
            } else if (t.text().equals("else")) {
                endTag();
                otherwise = body(Set.of("endif"));
                i++;
                endTag();
                break;
            } else {
                endTag();
                break;
            }
        }
        return new Node.If(branches, otherwise);
    }

    private Stmt forStatement(Token kw) {
        List<String> targets = new ArrayList<>();
        targets.add(expectName().text());
        while (peek().isOp(",")) {
            i++;
            targets.add(expectName().text());
        }
        Token in = next();
        if (!in.isName("in")) {
            throw new JinjaException("expected 'in' in for loop", in.pos());
        }
        Expr iterable = ternaryFree();
        Expr filter = null;
        if (peek().isName("if")) {
            i++;
            filter = expression();
        }
        if (peek().isName("recursive")) {
            throw new JinjaException("recursive loops are not supported", peek().pos());
        }
        endTag();
        List<Stmt> body = body(Set.of("else", "endfor"));
        List<Stmt> otherwise = List.of();
        if (next().text().equals("else")) {
            endTag();
            otherwise = body(Set.of("endfor"));
            i++;
        }
        endTag();
        return new Node.For(targets, iterable, filter, body, otherwise, kw.pos());
    }

    private Stmt setStatement(Token kw) {
        Token first = expectName();
        List<String> targets = new ArrayList<>();
        Expr object = null;
        if (peek().isOp(".")) {
            i++;
            object = new Node.Name(first.text(), first.pos());
            targets.add(expectName().text());
        } else {
            targets.add(first.text());
            while (peek().isOp(",")) {
                i++;
                targets.add(expectName().text());
            }
        }
        if (peek().kind() == Kind.BLOCK_END && object == null && targets.size() == 1) {
            endTag();
            List<Stmt> body = body(Set.of("endset"));
            i++;
            endTag();
            return new Node.SetBlock(targets.getFirst(), body);
        }
        Token eq = next();
        if (!eq.isOp("=")) {
            throw new JinjaException("expected '=' in set", eq.pos());
        }
        Expr value = expression();
        if (peek().isOp(",")) {
            List<Expr> items = new ArrayList<>(List.of(value));
            while (peek().isOp(",")) {
                i++;
                items.add(expression());
            }
            value = new Node.ListLit(items, true, value.pos());
        }
        endTag();
        return new Node.Set(targets, object, value, kw.pos());
    }

    private Stmt macroStatement() {
        Token name = expectName();
        expectOp("(");
        List<Node.Param> params = new ArrayList<>();
        while (!peek().isOp(")")) {
            Token p = expectName();
            Expr def = null;
            if (peek().isOp("=")) {
                i++;
                def = expression();
            }
            params.add(new Node.Param(p.text(), def));
            if (!peek().isOp(")")) {
                expectOp(",");
            }
        }
        i++;
        endTag();
        List<Stmt> body = body(Set.of("endmacro"));
        i++;
        if (peek().kind() == Kind.NAME) {
            i++; // {% endmacro name %}
        }
        endTag();
        return new Node.Macro(name.text(), params, body);
    }

    // ---- expressions (lowest precedence first)

    Expr expression() {
        Expr e = or();
        while (peek().isName("if")) {
            Token t = next();
            Expr test = or();
            Expr otherwise = null;
            if (peek().isName("else")) {
                i++;
                otherwise = or();
            }
            e = new Node.Conditional(test, e, otherwise, t.pos());
        }
        return e;
    }

    /** A for loop's iterable: an expression without the conditional form (its 'if' filters). */
    private Expr ternaryFree() {
        return or();
    }

    private Expr or() {
        Expr e = and();
        while (peek().isName("or")) {
            Token t = next();
            e = new Node.Binary("or", e, and(), t.pos());
        }
        return e;
    }

    private Expr and() {
        Expr e = not();
        while (peek().isName("and")) {
            Token t = next();
            e = new Node.Binary("and", e, not(), t.pos());
        }
        return e;
    }

    private Expr not() {
        if (peek().isName("not")) {
            Token t = next();
            return new Node.Unary("not", not(), t.pos());
        }
        return compare();
    }

    private Expr compare() {
        Expr e = math1();
        while (true) {
            Token t = peek();
            if (t.kind() == Kind.OP && COMPARE.contains(t.text())) {
                i++;
                e = new Node.Binary(t.text(), e, math1(), t.pos());
            } else if (t.isName("in")) {
                i++;
                e = new Node.Binary("in", e, math1(), t.pos());
            } else if (t.isName("not") && tokens.get(i + 1).isName("in")) {
                i += 2;
                e = new Node.Binary("not in", e, math1(), t.pos());
            } else {
                return e;
            }
        }
    }

    private Expr math1() {
        Expr e = concat();
        while (peek().isOp("+") || peek().isOp("-")) {
            Token t = next();
            e = new Node.Binary(t.text(), e, concat(), t.pos());
        }
        return e;
    }

    private Expr concat() {
        Expr e = math2();
        while (peek().isOp("~")) {
            Token t = next();
            e = new Node.Binary("~", e, math2(), t.pos());
        }
        return e;
    }

    private Expr math2() {
        Expr e = pow();
        while (peek().isOp("*") || peek().isOp("/") || peek().isOp("//") || peek().isOp("%")) {
            Token t = next();
            e = new Node.Binary(t.text(), e, pow(), t.pos());
        }
        return e;
    }

    private Expr pow() {
        Expr e = unary();
        while (peek().isOp("**")) {
            Token t = next();
            e = new Node.Binary("**", e, unary(), t.pos());
        }
        return e;
    }

    private Expr unary() {
        return filtersAndTests(unaryOperand());
    }

    /** As Jinja2: in {@code -x|abs} the filter applies to {@code -x}. */
    private Expr unaryOperand() {
        Token t = peek();
        if (t.isOp("-") || t.isOp("+")) {
            i++;
            return new Node.Unary(t.text(), unaryOperand(), t.pos());
        }
        return postfix(primary());
    }

    private Expr filtersAndTests(Expr e) {
        while (true) {
            Token t = peek();
            if (t.isOp("|")) {
                i++;
                Token name = expectName();
                String fname = name.text();
                while (peek().isOp(".")) { // dotted filter names are not used by chat templates; keep the last part
                    i++;
                    fname = expectName().text();
                }
                List<Expr> args = new ArrayList<>();
                List<String> kwNames = new ArrayList<>();
                List<Expr> kwValues = new ArrayList<>();
                if (peek().isOp("(")) {
                    i++;
                    args = callArgs(kwNames, kwValues);
                }
                e = new Node.Filter(e, fname, args, kwNames, kwValues, name.pos());
            } else if (t.isName("is")) {
                i++;
                boolean negated = false;
                if (peek().isName("not")) {
                    i++;
                    negated = true;
                }
                Token name = next();
                if (name.kind() != Kind.NAME) {
                    throw new JinjaException("expected a test name after 'is'", name.pos());
                }
                List<Expr> args = new ArrayList<>();
                if (peek().isOp("(")) {
                    i++;
                    args = callArgs(new ArrayList<>(), new ArrayList<>());
                } else if (startsBareArgument(peek())) {
                    args.add(postfix(primary()));
                }
                e = new Node.Test(e, name.text(), args, negated, name.pos());
            } else {
                return e;
            }
        }
    }

    private static boolean startsBareArgument(Token t) {
        return switch (t.kind()) {
            case STRING, INT, FLOAT -> true;
            case NAME -> !NOT_AN_ARGUMENT.contains(t.text());
            case OP -> t.text().equals("[") || t.text().equals("{");
            default -> false;
        };
    }

    private Expr postfix(Expr e) {
        while (true) {
            Token t = peek();
            if (t.isOp(".")) {
                i++;
                Token name = next();
                if (name.kind() == Kind.NAME) {
                    e = new Node.Attr(e, name.text(), name.pos());
                } else if (name.kind() == Kind.INT) {
                    e = new Node.Item(e, new Node.Literal(Long.parseLong(name.text()), name.pos()), name.pos());
                } else {
                    throw new JinjaException("expected an attribute name after '.'", name.pos());
                }
            } else if (t.isOp("[")) {
                i++;
                e = subscript(e, t);
            } else if (t.isOp("(")) {
                i++;
                List<String> kwNames = new ArrayList<>();
                List<Expr> kwValues = new ArrayList<>();
                List<Expr> args = callArgs(kwNames, kwValues);
                e = new Node.Call(e, args, kwNames, kwValues, t.pos());
            } else {
                return e;
            }
        }
    }

    private Expr subscript(Expr object, Token open) {
        Expr start = null;
        if (!peek().isOp(":")) {
            start = expression();
            if (peek().isOp("]")) {
                i++;
                return new Node.Item(object, start, open.pos());
            }
        }
        expectOp(":");
        Expr stop = null;
        Expr step = null;
        if (!peek().isOp("]") && !peek().isOp(":")) {
            stop = expression();
        }
        if (peek().isOp(":")) {
            i++;
            if (!peek().isOp("]")) {
                step = expression();
            }
        }
        expectOp("]");
        return new Node.Slice(object, start, stop, step, open.pos());
    }

    /** Parses call arguments after '(' up to and including ')'. */
    private List<Expr> callArgs(List<String> kwNames, List<Expr> kwValues) {
        List<Expr> args = new ArrayList<>();
        while (!peek().isOp(")")) {
            if (peek().kind() == Kind.NAME && tokens.get(i + 1).isOp("=")) {
                kwNames.add(next().text());
                i++;
                kwValues.add(expression());
            } else {
                if (!kwNames.isEmpty()) {
                    throw new JinjaException("positional argument after keyword argument", peek().pos());
                }
                args.add(expression());
            }
            if (!peek().isOp(")")) {
                expectOp(",");
            }
        }
        i++;
        return args;
    }

    private Expr primary() {
        Token t = next();
        switch (t.kind()) {
            case STRING -> {
                StringBuilder sb = new StringBuilder(t.text());
                while (peek().kind() == Kind.STRING) { // adjacent literals concatenate, as in Python
                    sb.append(next().text());
                }
                return new Node.Literal(sb.toString(), t.pos());
            }
            case INT -> {
                return new Node.Literal(Long.parseLong(t.text()), t.pos());
            }
            case FLOAT -> {
                return new Node.Literal(Double.parseDouble(t.text()), t.pos());
            }
            case NAME -> {
                return switch (t.text()) {
                    case "true", "True" -> new Node.Literal(Boolean.TRUE, t.pos());
                    case "false", "False" -> new Node.Literal(Boolean.FALSE, t.pos());
                    case "none", "None" -> new Node.Literal(null, t.pos());
                    default -> new Node.Name(t.text(), t.pos());
                };
            }
            case OP -> {
                switch (t.text()) {
                    case "(" -> {
                        if (peek().isOp(")")) {
                            i++;
                            return new Node.ListLit(List.of(), true, t.pos());
                        }
                        Expr e = expression();
                        if (peek().isOp(",")) {
                            List<Expr> items = new ArrayList<>(List.of(e));
                            while (peek().isOp(",")) {
                                i++;
                                if (peek().isOp(")")) {
                                    break;
                                }
                                items.add(expression());
                            }
                            e = new Node.ListLit(items, true, t.pos());
                        }
                        expectOp(")");
                        return e;
                    }
                    case "[" -> {
                        List<Expr> items = new ArrayList<>();
                        while (!peek().isOp("]")) {
                            items.add(expression());
                            if (!peek().isOp("]")) {
                                expectOp(",");
                            }
                        }
                        i++;
                        return new Node.ListLit(items, false, t.pos());
                    }
                    case "{" -> {
                        List<Expr> keys = new ArrayList<>();
                        List<Expr> values = new ArrayList<>();
                        while (!peek().isOp("}")) {
                            keys.add(expression());
                            expectOp(":");
                            values.add(expression());
                            if (!peek().isOp("}")) {
                                expectOp(",");
                            }
                        }
                        i++;
                        return new Node.DictLit(keys, values, t.pos());
                    }
                    default -> {
                    }
                }
            }
            default -> {
            }
        }
        throw new JinjaException("unexpected '" + t.text() + "' in expression", t.pos());
    }

    // ---- token helpers

    private Token peek() {
        return tokens.get(i);
    }

    private Token next() {
        return tokens.get(i++);
    }

    private Token expectName() {
        Token t = next();
        if (t.kind() != Kind.NAME) {
            throw new JinjaException("expected a name, found '" + t.text() + "'", t.pos());
        }
        return t;
    }

    private void expectOp(String op) {
        Token t = next();
        if (!t.isOp(op)) {
            throw new JinjaException("expected '" + op + "', found '" + t.text() + "'", t.pos());
        }
    }

    private void expect(Kind kind, String what) {
        Token t = next();
        if (t.kind() != kind) {
            throw new JinjaException("expected '" + what + "', found '" + t.text() + "'", t.pos());
        }
    }

    private void endTag() {
        expect(Kind.BLOCK_END, "%}");
    }
}
