package dev.trestle.engine.gguf;

import dev.trestle.common.TrestleException;

/** A GGUF file is malformed or unsupported; the message names the byte offset and the problem. */
public final class GgufFormatException extends TrestleException {
    private static final String DEFAULT_FIX =
            "the file is corrupt, truncated or not a GGUF model; download or convert it again";

    private final long offset;

    public GgufFormatException(String source, long offset, String problem) {
        this(source, offset, problem, DEFAULT_FIX);
    }

    /** With a specific fix hint (e.g. "re-convert with a current llama.cpp" for an old version). */
    public GgufFormatException(String source, long offset, String problem, String fix) {
        super(source + ": invalid GGUF at byte " + offset + " (0x" + Long.toHexString(offset) + "): " + problem, fix);
        this.offset = offset;
    }

    /** Byte offset in the file where the problem was found. */
    public long offset() {
        return offset;
    }
}
