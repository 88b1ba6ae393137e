package dev.trestle.server.tools;

import dev.trestle.common.TrestleException;

/** Where a reasoning model's thoughts go ({@code --reasoning-format}, llama-server's values). */
public enum ReasoningFormat {
    /** Thoughts stay in {@code content}, tags and all. */
    NONE("none"),
    /** Thoughts go to {@code reasoning_content}, without their tags. */
    DEEPSEEK("deepseek"),
    /** Thoughts go to {@code reasoning_content} and also stay in {@code content} with their tags. */
    DEEPSEEK_LEGACY("deepseek-legacy"),
    /** The default: as {@code deepseek}. */
    AUTO("auto");

    private final String flag;

    ReasoningFormat(String flag) {
        this.flag = flag;
    }

    public String flag() {
        return flag;
    }

    /** True when thoughts are moved to {@code reasoning_content}. */
    public boolean extracts() {
        return this != NONE;
    }

    /** Parses a flag or request value. */
    public static ReasoningFormat parse(String value) {
        for (ReasoningFormat f : values()) {
            if (f.flag.equals(value)) {
                return f;
            }
        }
        throw new TrestleException("unknown reasoning format '" + value + "'",
                "use one of none, deepseek, deepseek-legacy, auto");
    }
}
