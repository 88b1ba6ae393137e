package dev.trestle.engine.grammar;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/** Test grammars from src/test/resources/grammars. */
final class Grammars {
    private Grammars() {
    }

    static String text(String name) {
        try (InputStream in = Grammars.class.getResourceAsStream("/grammars/" + name + ".gbnf")) {
            if (in == null) {
                throw new IllegalStateException("missing test grammar " + name);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Grammar load(String name) {
        return GbnfParser.parse(text(name));
    }
}
