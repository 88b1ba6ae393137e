package dev.trestle.server.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.trestle.testdata.SharedData;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code trestle run --grammar / --grammar-file / --json-schema} on stories260K. */
class RunGrammarTest {
    private static final String STORIES = SharedData.model("stories260K.gguf").toString();
    private static final ObjectMapper JSON = new ObjectMapper();

    private record Out(int code, String out, String err) {
    }

    private static Out run(String... args) {
        StringWriter o = new StringWriter();
        StringWriter e = new StringWriter();
        int code = Main.run(args, new PrintWriter(o, true), new PrintWriter(e, true));
        return new Out(code, o.toString(), e.toString());
    }

    @Test
    void jsonSchemaMakesTheGreedyStoryAValidDocument() throws Exception {
        Out r = run("run", "-m", STORIES, "-p", "Once upon a time", "-n", "400", "-c", "512", "-t", "2", "--json",
                "--json-schema", "{\"type\":\"object\",\"properties\":{\"hero\":{\"type\":\"string\",\"maxLength\":10},"
                        + "\"age\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":9}},\"required\":[\"hero\",\"age\"]}");
        assertEquals(0, r.code(), r.err());
        JsonNode doc = JSON.readTree(JSON.readTree(r.out()).get("text").asText());
        assertTrue(doc.get("hero").isTextual() && doc.get("hero").asText().length() <= 10, doc.toString());
        assertTrue(doc.get("age").asInt() >= 1 && doc.get("age").asInt() <= 9 && doc.size() == 2, doc.toString());
    }

    @Test
    void grammarFileAndItsErrors(@TempDir Path dir) throws Exception {
        Path g = dir.resolve("yn.gbnf");
        Files.writeString(g, "root ::= answer \".\"\nanswer ::= \"yes\" | \"no\"\n");
        Out r = run("run", "-m", STORIES, "-p", "Once upon a time", "-n", "50", "-c", "256", "-t", "1", "--json",
                "--grammar-file", g.toString());
        assertEquals(0, r.code(), r.err());
        String text = JSON.readTree(r.out()).get("text").asText();
        assertTrue(text.equals("yes.") || text.equals("no."), text);

        Out bad = run("run", "-m", STORIES, "-p", "x", "-n", "4", "--grammar", "root ::= undefined-rule");
        assertNotEquals(0, bad.code());
        assertTrue(bad.err().contains("undefined-rule"), bad.err());
        Out both = run("run", "-m", STORIES, "-p", "x", "-n", "4", "--grammar", "root ::= \"a\"", "--json-schema", "{}");
        assertNotEquals(0, both.code());
        assertTrue(both.err().contains("only one"), both.err());
    }
}
