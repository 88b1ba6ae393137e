package dev.trestle.engine.grammar;

/** Escaping of code points for GBNF string literals and character classes. */
final class GbnfText {
    private GbnfText() {
    }

    /** One code point as GBNF source; {@code inString} escapes '"', otherwise ']', '-', '^' and '['. */
    static String escape(int cp, boolean inString) {
        switch (cp) {
            case '\n':
                return "\\n";
            case '\r':
                return "\\r";
            case '\t':
                return "\\t";
            case '\\':
                return "\\\\";
            default:
                break;
        }
        if (inString && cp == '"') {
            return "\\\"";
        }
        if (!inString && (cp == ']' || cp == '[' || cp == '"')) {
            return "\\" + (char) cp;
        }
        if (!inString && (cp == '-' || cp == '^')) {
            return String.format("\\x%02X", cp);
        }
        if (cp < 0x20 || cp == 0x7F) {
            return String.format("\\x%02X", cp);
        }
        if (cp >= 0xD800 && cp <= 0xDFFF || cp > 0xFFFF) {
            return cp > 0xFFFF ? String.format("\\U%08X", cp) : String.format("\\u%04X", cp);
        }
        return new String(Character.toChars(cp));
    }

    /** A Java string as a GBNF string literal, quotes included. */
    static String literal(String s) {
        StringBuilder sb = new StringBuilder("\"");
        s.codePoints().forEach(cp -> sb.append(escape(cp, true)));
        return sb.append('"').toString();
    }
}
