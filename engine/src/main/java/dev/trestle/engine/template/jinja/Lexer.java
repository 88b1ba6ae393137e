package dev.trestle.engine.template.jinja;

import dev.trestle.engine.template.jinja.Token.Kind;
import java.util.ArrayList;
import java.util.List;

/**
 * Splits a template into text and tag tokens with the whitespace rules chat templates are written
 * for: Jinja2 with {@code trim_blocks} and {@code lstrip_blocks} on (as Hugging Face and llama.cpp
 * render them), {@code -} modifiers, and the single trailing newline of the source dropped.
 */
final class Lexer {
    private static final String[] OPERATORS = {
        "**", "//", "==", "!=", "<=", ">=",
        "+", "-", "*", "/", "%", "~", "<", ">", "=", "(", ")", "[", "]", "{", "}", ",", ".", ":", "|",
    };

    private final String src;
    private final List<Token> out = new ArrayList<>();
    private int pos;

    private Lexer(String src) {
        this.src = src;
    }

    /** The normalized source the positions refer to (CRLF folded, one trailing newline dropped). */
    static String normalize(String source) {
        String s = source.replace("\r\n", "\n").replace('\r', '\n');
        return s.endsWith("\n") ? s.substring(0, s.length() - 1) : s;
    }

    static List<Token> tokenize(String normalizedSource) {
        Lexer lx = new Lexer(normalizedSource);
        lx.run();
        return lx.out;
    }

    private void run() {
        // what the previous tag asks of the text that follows it
        boolean stripLeading = false;
        boolean trimNewline = false;
        while (pos <= src.length()) {
            int tag = nextTag(pos);
            int textEnd = tag < 0 ? src.length() : tag;
            int textStart = pos;
            String text = src.substring(textStart, textEnd);
            if (tag >= 0) {
                char kind = src.charAt(tag + 1);
                char modifier = tag + 2 < src.length() ? src.charAt(tag + 2) : ' ';
                if (modifier == '-') {
                    text = stripTrailing(text);
                } else if (kind != '{' && modifier != '+') {
                    text = lstripBlock(text, textStart);
                }
            }
            if (stripLeading) {
                text = text.stripLeading();
            } else if (trimNewline && text.startsWith("\n")) {
                text = text.substring(1);
            }
            if (!text.isEmpty()) {
                out.add(new Token(Kind.TEXT, text, textStart));
            }
            if (tag < 0) {
                break;
            }
            char kind = src.charAt(tag + 1);
            pos = tag + 2;
            if (pos < src.length() && (src.charAt(pos) == '-' || src.charAt(pos) == '+')) {
                pos++;
            }
            if (kind == '#') {
                int end = src.indexOf("#}", pos);
                if (end < 0) {
                    throw new JinjaException("unterminated comment", tag);
                }
                stripLeading = src.charAt(end - 1) == '-' && end - 1 >= pos;
                trimNewline = !stripLeading;
                pos = end + 2;
            } else if (kind == '{') {
                out.add(new Token(Kind.VAR_BEGIN, "{{", tag));
                stripLeading = tagBody("}}", tag);
                out.add(new Token(Kind.VAR_END, "}}", pos - 2));
                trimNewline = false;
            } else {
                out.add(new Token(Kind.BLOCK_BEGIN, "{%", tag));
                stripLeading = tagBody("%}", tag);
                out.add(new Token(Kind.BLOCK_END, "%}", pos - 2));
                trimNewline = !stripLeading;
            }
        }
        out.add(new Token(Kind.EOF, "", src.length()));
    }

    private int nextTag(int from) {
        int i = from;
        while (true) {
            i = src.indexOf('{', i);
            if (i < 0 || i + 1 >= src.length()) {
                return -1;
            }
            char c = src.charAt(i + 1);
            if (c == '{' || c == '%' || c == '#') {
                return i;
            }
            i++;
        }
    }

    /** lstrip_blocks: spaces and tabs between a line start and a block or comment tag go. */
    private String lstripBlock(String text, int textStart) {
        int i = text.length();
        while (i > 0 && (text.charAt(i - 1) == ' ' || text.charAt(i - 1) == '\t')) {
            i--;
        }
        boolean atLineStart = i > 0 ? text.charAt(i - 1) == '\n' : textStart == 0;
        return atLineStart ? text.substring(0, i) : text;
    }

    private static String stripTrailing(String s) {
        return s.stripTrailing();
    }

    /** Tokenizes a tag's inside up to its closer; returns whether the closer had a '-' modifier. */
    private boolean tagBody(String closer, int tagPos) {
        int depth = 0;
        while (true) {
            while (pos < src.length() && Character.isWhitespace(src.charAt(pos))) {
                pos++;
            }
            if (pos >= src.length()) {
                throw new JinjaException("unterminated tag (missing " + closer + ")", tagPos);
            }
            if (depth == 0 || closer.equals("%}")) {
                if (src.startsWith("-" + closer, pos)) {
                    pos += 3;
                    return true;
                }
                if (src.startsWith("+" + closer, pos)) {
                    pos += 3;
                    return false;
                }
                if (src.startsWith(closer, pos)) {
                    pos += 2;
                    return false;
                }
            }
            char c = src.charAt(pos);
            if (c == '\'' || c == '"') {
                string(c);
            } else if (Character.isDigit(c)) {
                number();
            } else if (Character.isLetter(c) || c == '_') {
                int s = pos;
                while (pos < src.length() && (Character.isLetterOrDigit(src.charAt(pos)) || src.charAt(pos) == '_')) {
                    pos++;
                }
                out.add(new Token(Kind.NAME, src.substring(s, pos), s));
            } else {
                String op = null;
                for (String o : OPERATORS) {
                    if (src.startsWith(o, pos)) {
                        op = o;
                        break;
                    }
                }
                if (op == null) {
                    throw new JinjaException("unexpected character '" + c + "'", pos);
                }
                if (op.equals("{")) {
                    depth++;
                } else if (op.equals("}")) {
                    depth--;
                }
                out.add(new Token(Kind.OP, op, pos));
                pos += op.length();
            }
        }
    }

    private void number() {
        int s = pos;
        while (pos < src.length() && (Character.isDigit(src.charAt(pos)) || src.charAt(pos) == '_')) {
            pos++;
        }
        boolean isFloat = false;
        if (pos + 1 < src.length() && src.charAt(pos) == '.' && Character.isDigit(src.charAt(pos + 1))) {
            isFloat = true;
            pos++;
            while (pos < src.length() && Character.isDigit(src.charAt(pos))) {
                pos++;
            }
        }
        if (pos < src.length() && (src.charAt(pos) == 'e' || src.charAt(pos) == 'E')) {
            int save = pos;
            pos++;
            if (pos < src.length() && (src.charAt(pos) == '+' || src.charAt(pos) == '-')) {
                pos++;
            }
            if (pos < src.length() && Character.isDigit(src.charAt(pos))) {
                isFloat = true;
                while (pos < src.length() && Character.isDigit(src.charAt(pos))) {
                    pos++;
                }
            } else {
                pos = save;
            }
        }
        out.add(new Token(isFloat ? Kind.FLOAT : Kind.INT, src.substring(s, pos).replace("_", ""), s));
    }

    private void string(char quote) {
        int s = pos;
        pos++;
        StringBuilder sb = new StringBuilder();
        while (true) {
            if (pos >= src.length()) {
                throw new JinjaException("unterminated string literal", s);
            }
            char c = src.charAt(pos++);
            if (c == quote) {
                break;
            }
            if (c != '\\' || pos >= src.length()) {
                sb.append(c);
                continue;
            }
            char e = src.charAt(pos++);
            switch (e) {
                case 'n' -> sb.append('\n');
                case 't' -> sb.append('\t');
                case 'r' -> sb.append('\r');
                case 'b' -> sb.append('\b');
                case 'f' -> sb.append('\f');
                case 'v' -> sb.append('\u000b');
                case '0' -> sb.append('\0');
                case '\\', '\'', '"' -> sb.append(e);
                case 'x' -> sb.append((char) hex(2));
                case 'u' -> sb.append((char) hex(4));
                case 'U' -> sb.appendCodePoint(hex(8));
                case '\n' -> { } // line continuation
                default -> sb.append('\\').append(e); // Python keeps unknown escapes verbatim
            }
        }
        out.add(new Token(Kind.STRING, sb.toString(), s));
    }

    private int hex(int n) {
        if (pos + n > src.length()) {
            throw new JinjaException("truncated escape sequence", pos);
        }
        try {
            int v = Integer.parseInt(src.substring(pos, pos + n), 16);
            pos += n;
            return v;
        } catch (NumberFormatException e) {
            throw new JinjaException("bad escape sequence", pos);
        }
    }
}
