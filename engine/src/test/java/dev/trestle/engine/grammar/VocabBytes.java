package dev.trestle.engine.grammar;

import dev.trestle.engine.gguf.GgufFile;
import dev.trestle.engine.gguf.GgufMetadata;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * Token byte strings of a real GGUF vocabulary, decoded here so the grammar tests do not depend on the
 * tokenizer being finished: GPT-2 byte-level BPE maps its printable-unicode alphabet back to bytes; SPM
 * turns U+2581 into a space and {@code <0xHH>} byte tokens into their byte. Control and unknown tokens get no
 * bytes here (so a grammar never picks them).
 */
record VocabBytes(byte[][] bytes, int[] eog) {
    private static final int TYPE_UNKNOWN = 2;
    private static final int TYPE_CONTROL = 3;
    private static final int TYPE_BYTE = 6;

    static VocabBytes load(Path gguf) {
        try (GgufFile f = GgufFile.open(gguf)) {
            GgufMetadata md = f.metadata();
            String model = md.getString("tokenizer.ggml.model");
            String[] tokens = md.getStringArray("tokenizer.ggml.tokens");
            int[] types = md.contains("tokenizer.ggml.token_type") ? md.getIntArray("tokenizer.ggml.token_type") : null;
            int eos = md.getInt("tokenizer.ggml.eos_token_id", -1);
            byte[][] out = new byte[tokens.length][];
            int[] unicodeToByte = gpt2ByteDecoder();
            for (int i = 0; i < tokens.length; i++) {
                int type = types == null ? 1 : types[i];
                if (type == TYPE_CONTROL || type == TYPE_UNKNOWN) {
                    out[i] = new byte[0];
                } else if (model.equals("gpt2")) {
                    byte[] b = new byte[tokens[i].length()];
                    int n = 0;
                    boolean ok = true;
                    for (int cp : tokens[i].codePoints().toArray()) {
                        if (cp >= unicodeToByte.length || unicodeToByte[cp] < 0) {
                            ok = false; // user-defined tokens spelled in plain text
                            break;
                        }
                        b[n++] = (byte) unicodeToByte[cp];
                    }
                    out[i] = ok ? java.util.Arrays.copyOf(b, n) : tokens[i].getBytes(StandardCharsets.UTF_8);
                } else if (type == TYPE_BYTE) {
                    out[i] = new byte[] {(byte) Integer.parseInt(tokens[i].substring(3, 5), 16)};
                } else {
                    out[i] = tokens[i].replace('\u2581', ' ').getBytes(StandardCharsets.UTF_8);
                }
            }
            return new VocabBytes(out, eos >= 0 ? new int[] {eos} : new int[0]);
        }
    }

    // GPT-2's bytes_to_unicode: printable Latin-1 bytes stand for themselves, the other 68 bytes are
    // shifted to U+0100 upwards in byte order.
    private static int[] gpt2ByteDecoder() {
        int[] dec = new int[512];
        java.util.Arrays.fill(dec, -1);
        int shifted = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = b >= '!' && b <= '~' || b >= 0xA1 && b <= 0xAC || b >= 0xAE && b <= 0xFF;
            dec[printable ? b : 256 + shifted++] = b;
        }
        return dec;
    }
}
