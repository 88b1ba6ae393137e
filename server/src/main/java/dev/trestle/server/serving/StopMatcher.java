package dev.trestle.server.serving;

import java.util.List;

/**
 * Finds stop strings in generated text and holds back any tail that could still become one, so a
 * stop sequence never reaches the client, even when it arrives split across tokens.
 */
public final class StopMatcher {
    private final List<String> stops;
    private final StringBuilder text = new StringBuilder();
    private int emitted;
    private boolean stopped;
    private String matched;

    public StopMatcher(List<String> stops) {
        this.stops = stops.stream().filter(s -> !s.isEmpty()).toList();
    }

    /**
     * Appends newly generated text and returns what may be sent now. After a stop string is found,
     * {@link #stopped()} is true and the text up to (not including) the stop string has been returned.
     */
    public String push(String piece) {
        if (stopped) {
            return "";
        }
        text.append(piece);
        int cut = firstStop();
        if (cut >= 0) {
            stopped = true;
            return take(cut);
        }
        return take(text.length() - heldBack());
    }

    /** Returns whatever was held back (at the end of generation, when no stop string completed). */
    public String flush() {
        return stopped ? "" : take(text.length());
    }

    /** True once a stop string has been seen. */
    public boolean stopped() {
        return stopped;
    }

    /** The stop string that ended the text, or null. */
    public String matched() {
        return matched;
    }

    /** The whole text accepted so far, without the stop string. */
    public String text() {
        return text.substring(0, emitted);
    }

    private String take(int upTo) {
        if (upTo <= emitted) {
            return "";
        }
        String s = text.substring(emitted, upTo);
        emitted = upTo;
        return s;
    }

    private int firstStop() {
        int best = -1;
        for (String s : stops) {
            // search only where a new match can start: from the earliest unemitted position
            int from = Math.max(0, emitted - s.length() + 1);
            int i = text.indexOf(s, from);
            if (i >= 0 && (best < 0 || i < best)) {
                best = i;
                matched = s;
            }
        }
        return best;
    }

    private boolean endsWithPrefix(int n, String s, int k) {
        for (int i = 0; i < k; i++) {
            if (text.charAt(n - k + i) != s.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    /** Length of the longest suffix of the unemitted text that is a proper prefix of a stop string. */
    private int heldBack() {
        int hold = 0;
        int n = text.length();
        for (String s : stops) {
            for (int k = Math.min(s.length() - 1, n - emitted); k > hold; k--) {
                if (endsWithPrefix(n, s, k)) {
                    hold = k;
                    break;
                }
            }
        }
        return hold;
    }
}
