package dev.trestle.engine.grammar;

import java.util.List;

/** A named grammar rule: alternatives, each a sequence of elements (an empty sequence matches nothing, i.e. epsilon). */
public record Rule(String name, List<List<Element>> alternatives) {
    public Rule {
        alternatives = alternatives.stream().map(List::copyOf).toList();
    }
}
