package dev.trestle.engine.grammar;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A validated context-free grammar over Unicode code points (llama.cpp's GBNF model): named rules of
 * alternatives of element sequences, one of them the root.
 *
 * <p>Besides the readable rule list it holds a flat compiled form the matcher walks: every alternative of every
 * rule is laid out as consecutive element slots ending in an END slot, so "the element after this one" is
 * always {@code position + 1}. Construction rejects left recursion (including through nullable rules), which
 * a top-down matcher could never finish expanding.
 */
public final class Grammar {
    static final byte END = 0;
    static final byte REF = 1;
    static final byte CHARS = 2;

    private final List<Rule> rules;
    private final int root;
    private final Map<String, Integer> byName;

    // compiled form, one slot per element plus one END slot per alternative
    final byte[] kind; // (n_slots) END, REF or CHARS
    final int[] arg; // (n_slots) rule index for REF, class index for CHARS
    final CharClass[] classes; // (n_classes)
    final int[][] altStarts; // (n_rules)[n_alternatives] slot where each alternative begins

    /** Builds and validates a grammar; {@code rootName} must name one of the rules. */
    public Grammar(List<Rule> rules, String rootName) {
        this.rules = List.copyOf(rules);
        this.byName = new HashMap<>();
        for (int i = 0; i < rules.size(); i++) {
            byName.put(rules.get(i).name(), i);
        }
        Integer r = byName.get(rootName);
        if (r == null) {
            throw new GrammarException("grammar has no rule named '" + rootName + "'",
                    "define the start rule, e.g. root ::= ...");
        }
        this.root = r;
        for (Rule rule : rules) {
            for (List<Element> alt : rule.alternatives()) {
                for (Element e : alt) {
                    if (e instanceof Element.RuleRef ref && (ref.rule() < 0 || ref.rule() >= rules.size())) {
                        throw new GrammarException("rule '" + rule.name() + "' refers to rule #" + ref.rule()
                                + " which does not exist", "refer only to defined rules");
                    }
                }
            }
        }
        // compile
        int slots = 0;
        for (Rule rule : rules) {
            for (List<Element> alt : rule.alternatives()) {
                slots += alt.size() + 1;
            }
        }
        kind = new byte[slots];
        arg = new int[slots];
        altStarts = new int[rules.size()][];
        Map<CharClass, Integer> classIndex = new HashMap<>();
        List<CharClass> classList = new ArrayList<>();
        int p = 0;
        for (int ri = 0; ri < rules.size(); ri++) {
            List<List<Element>> alts = rules.get(ri).alternatives();
            altStarts[ri] = new int[alts.size()];
            for (int ai = 0; ai < alts.size(); ai++) {
                altStarts[ri][ai] = p;
                for (Element e : alts.get(ai)) {
                    switch (e) {
                        case Element.RuleRef ref -> {
                            kind[p] = REF;
                            arg[p] = ref.rule();
                        }
                        case Element.Chars ch -> {
                            kind[p] = CHARS;
                            arg[p] = classIndex.computeIfAbsent(ch.chars(), c -> {
                                classList.add(c);
                                return classList.size() - 1;
                            });
                        }
                    }
                    p++;
                }
                kind[p] = END;
                p++;
            }
        }
        classes = classList.toArray(new CharClass[0]);
        checkLeftRecursion();
    }

    /** The rules, in definition order. */
    public List<Rule> rules() {
        return rules;
    }

    /** Index of the start rule. */
    public int root() {
        return root;
    }

    /** Index of the named rule, or -1. */
    public int ruleIndex(String name) {
        return byName.getOrDefault(name, -1);
    }

    /** True when the whole string is a sentence of the grammar. */
    public boolean matches(String text) {
        GrammarMatcher m = new GrammarMatcher(this);
        return m.acceptString(text) && m.canEnd();
    }

    /** The grammar as GBNF text (root first is not guaranteed; definition order is kept). */
    public String toGbnf() {
        StringBuilder sb = new StringBuilder();
        for (Rule rule : rules) {
            sb.append(rule.name()).append(" ::=");
            List<List<Element>> alts = rule.alternatives();
            for (int a = 0; a < alts.size(); a++) {
                if (a > 0) {
                    sb.append(" |");
                }
                if (alts.get(a).isEmpty()) {
                    sb.append(" \"\""); // a bare trailing '|' would continue onto the next line
                }
                for (Element e : alts.get(a)) {
                    sb.append(' ');
                    switch (e) {
                        case Element.RuleRef ref -> sb.append(rules.get(ref.rule()).name());
                        case Element.Chars ch -> sb.append(ch.chars().toGbnf());
                    }
                }
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    @Override
    public String toString() {
        return toGbnf();
    }

    /** Rules that can match the empty string (fixpoint). */
    boolean[] nullable() {
        boolean[] nullable = new boolean[rules.size()];
        boolean changed = true;
        while (changed) {
            changed = false;
            for (int ri = 0; ri < rules.size(); ri++) {
                if (nullable[ri]) {
                    continue;
                }
                for (List<Element> alt : rules.get(ri).alternatives()) {
                    boolean all = true;
                    for (Element e : alt) {
                        if (!(e instanceof Element.RuleRef ref) || !nullable[ref.rule()]) {
                            all = false;
                            break;
                        }
                    }
                    if (all) {
                        nullable[ri] = true;
                        changed = true;
                        break;
                    }
                }
            }
        }
        return nullable;
    }

    // A rule that can reach itself through leftmost references (skipping nullable prefixes) would make
    // the matcher's expansion loop forever.
    private void checkLeftRecursion() {
        boolean[] nullable = nullable();
        int n = rules.size();
        int[][] leftRefs = new int[n][];
        for (int ri = 0; ri < n; ri++) {
            List<Integer> refs = new ArrayList<>();
            for (List<Element> alt : rules.get(ri).alternatives()) {
                for (Element e : alt) {
                    if (e instanceof Element.RuleRef ref) {
                        refs.add(ref.rule());
                        if (!nullable[ref.rule()]) {
                            break;
                        }
                    } else {
                        break;
                    }
                }
            }
            leftRefs[ri] = refs.stream().mapToInt(Integer::intValue).distinct().toArray();
        }
        byte[] color = new byte[n]; // 0 new, 1 on path, 2 done
        int[] stackRule = new int[n + 1];
        int[] stackIt = new int[n + 1];
        for (int start = 0; start < n; start++) {
            if (color[start] != 0) {
                continue;
            }
            int sp = 0;
            stackRule[0] = start;
            stackIt[0] = 0;
            color[start] = 1;
            while (sp >= 0) {
                int r = stackRule[sp];
                if (stackIt[sp] == leftRefs[r].length) {
                    color[r] = 2;
                    sp--;
                    continue;
                }
                int next = leftRefs[r][stackIt[sp]++];
                if (color[next] == 1) {
                    throw new GrammarException("left recursion in rule '" + rules.get(next).name()
                            + "' (it can reach itself without consuming a character)",
                            "rewrite the rule right-recursively or with repetition, e.g. list ::= item (\",\" item)*");
                }
                if (color[next] == 0) {
                    color[next] = 1;
                    sp++;
                    stackRule[sp] = next;
                    stackIt[sp] = 0;
                }
            }
        }
    }

    int slotCount() {
        return kind.length;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Grammar g && g.root == root && g.rules.equals(rules);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(new int[] {root, rules.hashCode()});
    }
}
