/**
 * A small, complete Jinja engine for the subset real chat templates use: Jinja2 syntax with
 * {@code trim_blocks}/{@code lstrip_blocks}, Python value semantics (slicing, str/list/dict
 * methods, {@code tojson} in {@code json.dumps} layout), Jinja2's filters and tests, macros,
 * {@code namespace()}, loop variables, {@code break}/{@code continue}, and llama.cpp's leniency
 * (missing attributes are undefined; none/undefined + string concatenates as "").
 *
 * <p>Lexer to tokens, Parser to a sealed {@code Node} tree, Interpreter walking it. Templates come
 * from model files, so rendering is bounded (loop iterations, sequence sizes, call depth, output
 * size). {@link dev.trestle.engine.template.jinja.Usage} records which inputs a rendering read,
 * which is how template capabilities are detected.
 */
package dev.trestle.engine.template.jinja;
