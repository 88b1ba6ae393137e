package dev.trestle.engine.grammar;

/** One element of a grammar sequence: a reference to a rule, or a character class matching one code point. */
public sealed interface Element {

    /** A reference to rule number {@code rule} of the grammar. */
    record RuleRef(int rule) implements Element {
    }

    /** One code point from {@code chars}. */
    record Chars(CharClass chars) implements Element {
    }
}
