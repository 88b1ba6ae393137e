package dev.trestle.engine.template.jinja;

import dev.trestle.engine.template.jinja.Node.Stmt;
import java.util.List;
import java.util.Map;

/**
 * A parsed Jinja template: the subset of Jinja2 that chat templates use (statements if/for/set/
 * macro/filter/do/break/continue, Python-like expressions, Jinja2 filters and tests, Python string,
 * list and dict methods, {@code namespace()}, {@code raise_exception()}). Thread-safe: rendering
 * keeps no state in the template.
 */
public final class Template {
    private final String source;
    private final List<Stmt> body;

    private Template(String source, List<Stmt> body) {
        this.source = source;
        this.body = body;
    }

    /** Parses {@code source}; throws {@link JinjaException} with the position of a syntax error. */
    public static Template parse(String source) {
        String normalized = Lexer.normalize(source);
        return new Template(normalized, Parser.parse(Lexer.tokenize(normalized)));
    }

    /** The source the error positions refer to (line endings normalized, final newline dropped). */
    public String source() {
        return source;
    }

    /** Renders with {@code globals} as the template's variables (values as {@link Values} describes). */
    public String render(Map<String, Object> globals) {
        return render(globals, null);
    }

    /** Renders and records in {@code usage} (when not null) which input values the template read. */
    public String render(Map<String, Object> globals, Usage usage) {
        try {
            return new Interpreter(globals, usage).run(body);
        } catch (StackOverflowError e) {
            throw new JinjaException("template recursion is too deep", -1);
        }
    }

    /** 1-based "line L, column C" of an offset in {@link #source()}. */
    public String lineColumn(int pos) {
        return lineColumn(source, pos);
    }

    /** 1-based "line L, column C" of an offset into a template source as given to {@link #parse}. */
    public static String locate(String rawSource, int pos) {
        return lineColumn(Lexer.normalize(rawSource), pos);
    }

    private static String lineColumn(String source, int pos) {
        int line = 1;
        int col = 1;
        for (int i = 0; i < pos && i < source.length(); i++) {
            if (source.charAt(i) == '\n') {
                line++;
                col = 1;
            } else {
                col++;
            }
        }
        return "line " + line + ", column " + col;
    }
}
