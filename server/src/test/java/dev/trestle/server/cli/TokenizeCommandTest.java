package dev.trestle.server.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.trestle.testdata.SharedData;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code trestle tokenize} against the real stories260K and Llama-2 vocabularies. */
class TokenizeCommandTest {
    static final String STORIES = SharedData.model("stories260K.gguf").toString();
    static final String LLAMA2 = SharedData.model("llama-2-tiny-random.gguf").toString();

    record Result(int code, String out, String err) {
    }

    static Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Result(code, out.toString(), err.toString());
    }

    @Test
    void printsIdsLikeLlamaTokenize() {
        Result r = run("tokenize", "-m", STORIES, "--ids", "Once upon a time");
        assertEquals(0, r.code(), r.err());
        assertEquals("[1, 403, 407, 261, 378]\n", r.out());
        assertEquals("[1, 9038, 2501, 263, 931]\n", run("tokenize", "-m", LLAMA2, "--ids", "Once upon a time").out());
        assertEquals("[403, 407, 261, 378]\n", run("tokenize", "-m", STORIES, "--ids", "--no-bos", "Once upon a time").out());
    }

    @Test
    void printsIdsAndPieces() {
        Result r = run("tokenize", "-m", LLAMA2, "-p", "Once upon a time");
        assertEquals(0, r.code(), r.err());
        assertEquals("""
                     1 -> '<s>'
                  9038 -> ' Once'
                  2501 -> ' upon'
                   263 -> ' a'
                   931 -> ' time'
                """, r.out());
        // a byte-fallback token that is only part of a character is flagged, not printed broken
        Result bytes = run("tokenize", "-m", STORIES, "--no-bos", "\u4f60");
        assertTrue(bytes.out().contains("(utf-8 decode failure)"), bytes.out());
    }

    @Test
    void printsJson() throws Exception {
        Result r = run("tokenize", "-m", STORIES, "--json", "Once upon a time");
        assertEquals(0, r.code(), r.err());
        JsonNode root = new ObjectMapper().readTree(r.out());
        assertEquals("[1,403,407,261,378]", root.get("ids").toString());
        assertEquals(" Once", root.get("pieces").get(1).asText());
        assertEquals(5, root.get("count").asInt());
    }

    @Test
    void readsExactBytesFromFileAndStdin(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("prompt.txt");
        Files.write(f, "Once upon a time\n".getBytes(StandardCharsets.UTF_8));
        String withNewline = run("tokenize", "-m", STORIES, "--ids", "Once upon a time\n").out();
        assertEquals(withNewline, run("tokenize", "-m", STORIES, "--ids", "--file", f.toString()).out());
        assertNotEquals(withNewline, run("tokenize", "-m", STORIES, "--ids", "Once upon a time").out());
        InputStream saved = System.in;
        try {
            System.setIn(new ByteArrayInputStream("Once upon a time".getBytes(StandardCharsets.UTF_8)));
            assertEquals("[1, 403, 407, 261, 378]\n", run("tokenize", "-m", STORIES, "--ids", "--stdin").out());
        } finally {
            System.setIn(saved);
        }
    }

    @Test
    void parsesSpecialTokensOnlyWhenAsked() {
        assertEquals("[1, 1, 9038]\n", run("tokenize", "-m", LLAMA2, "--ids", "--parse-special", "<s>Once").out());
        String plain = run("tokenize", "-m", LLAMA2, "--ids", "<s>Once").out();
        assertTrue(plain.startsWith("[1, ") && !plain.startsWith("[1, 1,"), plain);
    }

    @Test
    void explainsFailures() {
        Result none = run("tokenize", "-m", SharedData.model("archs/qwen3-dense-f16.gguf").toString(), "hi");
        assertNotEquals(0, none.code());
        assertTrue(none.err().contains("this model has no vocabulary; use --prompt-ids"), none.err());
        Result missing = run("tokenize", "-m", "/nonexistent/model.gguf", "hi");
        assertNotEquals(0, missing.code());
        assertTrue(missing.err().contains("model file not found"), missing.err());
        Result noText = run("tokenize", "-m", STORIES);
        assertNotEquals(0, noText.code());
        assertTrue(noText.err().contains("no text to tokenize"), noText.err());
    }
}
