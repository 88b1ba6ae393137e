package dev.trestle.engine.grammar;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The pushdown automaton of one grammar, discovered lazily and memoized: parse stacks are hash-consed into
 * {@link Stack} nodes, sets of stacks into {@link State}s, and every computed transition is cached on its
 * state. After warm-up, advancing over an ASCII code point is one array load, which is what makes masking a
 * whole vocabulary trie per decode step cheap.
 *
 * <p>Semantics follow llama.cpp's llama_grammar: a state is the set of all stacks whose top is a character
 * class (or the empty stack, meaning the grammar may end here); a code point advances every stack whose top
 * class contains it, then expands rule references until character classes are on top again.
 *
 * <p>Not thread-safe: one instance per generating sequence (or guarded by the caller).
 */
final class GrammarStates {
    /** Bounds on memoized parse stacks and states, so a pathological grammar fails clearly, not with OOM. */
    static final int MAX_STACKS = 4_000_000;
    static final int MAX_STATES = 1_000_000;

    private final Grammar g;
    private final Map<Long, Stack> stacks = new HashMap<>();
    private final Map<StateKey, State> states = new HashMap<>();
    private int generation;
    private final List<Stack> scratch = new ArrayList<>();

    /** The empty stack: the grammar has matched completely. */
    final Stack accept;
    /** The state with no stacks: no continuation exists. */
    final State dead;
    /** The state before any input. */
    final State initial;

    GrammarStates(Grammar g) {
        this.g = g;
        this.accept = new Stack(-1, null, 0);
        this.dead = new State(new Stack[0], 0);
        states.put(new StateKey(new int[0]), dead);
        List<Stack> out = new ArrayList<>();
        int gen = ++generation;
        for (int alt : g.altStarts[g.root()]) {
            expand(alt, null, out, gen);
        }
        this.initial = intern(out);
    }

    /** Number of distinct stacks and states discovered so far (memory grows with both). */
    int stackCount() {
        return stacks.size();
    }

    int stateCount() {
        return states.size();
    }

    /** The state after {@code cp}, or {@link #dead}. */
    State next(State s, int cp) {
        if (cp < 128) {
            State[] ascii = s.ascii;
            if (ascii == null) {
                ascii = new State[128];
                s.ascii = ascii;
            }
            State n = ascii[cp];
            if (n == null) {
                n = compute(s, cp);
                ascii[cp] = n;
            }
            return n;
        }
        if (s.highBounds == null) {
            buildHighPartition(s);
        }
        // interval i holds code points in [highBounds[i-1], highBounds[i]); membership is constant there
        int i = Arrays.binarySearch(s.highBounds, cp);
        i = i >= 0 ? i + 1 : -i - 1;
        State n = s.highNext[i];
        if (n == null) {
            n = compute(s, cp);
            s.highNext[i] = n;
        }
        return n;
    }

    /** Fills {@code s.loopLo}/{@code s.loopHi}: the ASCII bytes that lead from {@code s} back to {@code s} itself. */
    void computeLoops(State s) {
        long lo = 0;
        long hi = 0;
        for (int b = 0; b < 128; b++) {
            if (next(s, b) == s) {
                if (b < 64) {
                    lo |= 1L << b;
                } else {
                    hi |= 1L << (b - 64);
                }
            }
        }
        s.loopLo = lo;
        s.loopHi = hi;
        if (s.highBounds == null) {
            buildHighPartition(s);
        }
        // every non-ASCII code point loops when every interval of the partition does
        boolean allHigh = true;
        int[] bounds = s.highBounds;
        for (int i = 0; i <= bounds.length && allHigh; i++) {
            int from = i == 0 ? 128 : bounds[i - 1];
            int to = i == bounds.length ? CharClass.MAX_CODE_POINT + 1 : bounds[i];
            if (from < to) {
                allHigh = next(s, from) == s;
            }
        }
        s.loopsAllHigh = allHigh;
        s.loopsKnown = true;
    }

    /** True when some character starting with UTF-8 lead byte {@code lead} (0xC2..0xF4) can continue {@code s}. */
    boolean leadViable(State s, int lead, int lo, int hi) {
        long bit = 1L << (lead - 0xC0);
        if ((s.leadKnown & bit) == 0) {
            if (viable(s, lo, hi)) {
                s.leadViable |= bit;
            }
            s.leadKnown |= bit;
        }
        return (s.leadViable & bit) != 0;
    }

    /** True when some code point in [lo, hi] can continue {@code s} (a partial UTF-8 sequence is viable). */
    boolean viable(State s, int lo, int hi) {
        for (Stack st : s.stacks) {
            if (st != accept && g.classes[g.arg[st.pos]].intersects(lo, hi)) {
                return true;
            }
        }
        return false;
    }

    private State compute(State s, int cp) {
        int gen = ++generation;
        List<Stack> out = scratch;
        out.clear();
        for (Stack st : s.stacks) {
            if (st == accept || !g.classes[g.arg[st.pos]].matches(cp)) {
                continue;
            }
            Stack[] succ = st.afterMatch;
            if (succ == null) {
                List<Stack> tmp = new ArrayList<>();
                expand(st.pos + 1, st.parent, tmp, ++generation);
                succ = tmp.toArray(new Stack[0]);
                st.afterMatch = succ;
                gen = ++generation; // marks of the outer collection were clobbered; restart them
                for (Stack o : out) {
                    o.mark = gen;
                }
            }
            for (Stack n : succ) {
                if (n.mark != gen) {
                    n.mark = gen;
                    out.add(n);
                }
            }
        }
        return intern(out);
    }

    // Expands the stack (slot pos on top of parent) until character classes are on top, adding each
    // resulting stack to out once.
    private void expand(int pos, Stack parent, List<Stack> out, int gen) {
        switch (g.kind[pos]) {
            case Grammar.END -> {
                if (parent == null) {
                    if (accept.mark != gen) {
                        accept.mark = gen;
                        out.add(accept);
                    }
                } else {
                    expand(parent.pos, parent.parent, out, gen);
                }
            }
            case Grammar.CHARS -> {
                Stack st = stack(pos, parent);
                if (st.mark != gen) {
                    st.mark = gen;
                    out.add(st);
                }
            }
            default -> {
                // tail position: nothing to come back to in this alternative, so do not push it
                Stack cont = g.kind[pos + 1] == Grammar.END ? parent : stack(pos + 1, parent);
                for (int alt : g.altStarts[g.arg[pos]]) {
                    expand(alt, cont, out, gen);
                }
            }
        }
    }

    private Stack stack(int pos, Stack parent) {
        long key = (long) pos << 32 | (parent == null ? 0 : parent.id);
        Stack st = stacks.get(key);
        if (st == null) {
            if (stacks.size() >= MAX_STACKS) {
                throw tooComplex(MAX_STACKS + " parse stacks");
            }
            st = new Stack(pos, parent, stacks.size() + 1);
            stacks.put(key, st);
        }
        return st;
    }

    private State intern(List<Stack> list) {
        if (list.isEmpty()) {
            return dead;
        }
        Stack[] arr = list.toArray(new Stack[0]);
        Arrays.sort(arr, (a, b) -> Integer.compare(a.id, b.id));
        int[] ids = new int[arr.length];
        for (int i = 0; i < arr.length; i++) {
            ids[i] = arr[i].id;
        }
        StateKey key = new StateKey(ids);
        State s = states.get(key);
        if (s == null) {
            if (states.size() >= MAX_STATES) {
                throw tooComplex(MAX_STATES + " parser states");
            }
            s = new State(arr, states.size());
            states.put(key, s);
        }
        return s;
    }

    private static GrammarException tooComplex(String what) {
        return new GrammarException("grammar too complex to follow: more than " + what,
                "simplify the grammar (fewer ambiguous alternatives, smaller repetition counts)");
    }

    private void buildHighPartition(State s) {
        int[] bounds = new int[16];
        int n = 0;
        for (Stack st : s.stacks) {
            if (st == accept) {
                continue;
            }
            int[] r = g.classes[g.arg[st.pos]].rangesView();
            for (int i = 0; i < r.length; i += 2) {
                for (int b : new int[] {r[i], r[i + 1] + 1}) {
                    if (b > 128 && b <= CharClass.MAX_CODE_POINT) {
                        if (n == bounds.length) {
                            bounds = Arrays.copyOf(bounds, n * 2);
                        }
                        bounds[n++] = b;
                    }
                }
            }
        }
        int[] sorted = Arrays.stream(bounds, 0, n).sorted().distinct().toArray();
        s.highNext = new State[sorted.length + 1];
        s.highBounds = sorted;
    }

    /** A hash-consed parse stack: slot {@code pos} on top of {@code parent} (null = bottom). */
    static final class Stack {
        final int pos;
        final Stack parent;
        final int id;
        Stack[] afterMatch; // expansions after the top class matched, computed once
        int mark;

        Stack(int pos, Stack parent, int id) {
            this.pos = pos;
            this.parent = parent;
            this.id = id;
        }
    }

    /** A set of stacks with its cached transitions. */
    static final class State {
        final Stack[] stacks;
        final int id;
        final boolean canEnd;
        State[] ascii; // (128) transitions on ASCII, allocated on first use
        int[] highBounds;
        State[] highNext;
        boolean loopsKnown;
        long loopLo; // ASCII bytes 0..63 whose transition returns to this state
        long loopHi; // ASCII bytes 64..127 likewise
        boolean loopsAllHigh; // every code point >= 128 returns to this state
        long leadKnown; // bit (lead - 0xC0): viability of that UTF-8 lead byte computed
        long leadViable; // bit (lead - 0xC0): some character with that lead byte is allowed

        State(Stack[] stacks, int id) {
            this.stacks = stacks;
            this.id = id;
            boolean end = false;
            for (Stack s : stacks) {
                end |= s.pos < 0;
            }
            this.canEnd = end;
        }
    }

    private record StateKey(int[] ids) {
        @Override
        public boolean equals(Object o) {
            return o instanceof StateKey k && Arrays.equals(ids, k.ids);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(ids);
        }
    }
}
