package dev.trestle.engine.gguf;

import dev.trestle.common.TrestleException;

/** A GGUF file is malformed or unsupported; the message names the byte offset and the problem. */
public final class GgufFormatException extends TrestleException {
    private final long offset;

    public GgufFormatException(String source, long offset, String problem) {
        super(source + ": invalid GGUF at byte " + offset + " (0x" + Long.toHexString(offset) + "): " + problem,
                "the file is corrupt, truncated or not a GGUF model; download or convert it again");
        this.offset = offset;
    }

    /** Byte offset in the file where the problem was found. */
    public long offset() {
        return offset;
    }
}
