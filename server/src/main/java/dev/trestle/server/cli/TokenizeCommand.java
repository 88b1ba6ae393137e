package dev.trestle.server.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.trestle.common.TrestleException;
import dev.trestle.engine.gguf.GgufFile;
import dev.trestle.engine.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code trestle tokenize}: a model's tokenization of a text, like llama.cpp's {@code llama-tokenize}. */
@Command(name = "tokenize", mixinStandardHelpOptions = true,
        description = "Tokenize text with a model's vocabulary and print the ids and pieces (like llama-tokenize).")
public final class TokenizeCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = {"-m", "--model"}, required = true, paramLabel = "FILE", description = "GGUF model (or vocab-only) file")
    Path model;

    @ArgGroup(exclusive = true)
    Source source;

    /** Where the text comes from: exactly one of these. */
    static final class Source {
        @Parameters(index = "0", arity = "0..1", paramLabel = "TEXT", description = "the text to tokenize")
        String text;

        @Option(names = {"-p", "--prompt"}, paramLabel = "TEXT", description = "the text to tokenize")
        String prompt;

        @Option(names = {"-f", "--file"}, paramLabel = "FILE", description = "read the text from a file (exact bytes)")
        Path file;

        @Option(names = "--stdin", description = "read the text from standard input (exact bytes)")
        boolean stdin;
    }

    @Option(names = "--ids", description = "print only the id list, e.g. [1, 403, 407]")
    boolean idsOnly;

    @Option(names = "--json", description = "print a JSON object with the ids and pieces")
    boolean json;

    @Option(names = "--no-bos", description = "never add BOS (or other special tokens) even if the model asks for it")
    boolean noBos;

    @Option(names = "--parse-special", description = "recognise special/control token texts such as <|im_start|>")
    boolean parseSpecial;

    @Option(names = "--show-count", description = "also print the number of tokens")
    boolean showCount;

    @Override
    public Integer call() throws IOException {
        if (idsOnly && json) {
            throw new TrestleException("--ids and --json cannot be combined", "choose one output format");
        }
        String text = readText();
        Tokenizer tokenizer;
        try (GgufFile f = openModel()) {
            tokenizer = Tokenizer.fromGguf(f.metadata());
        }
        int[] ids = tokenizer.encode(text, !noBos, parseSpecial);
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            printJson(out, tokenizer, ids);
        } else if (idsOnly) {
            StringBuilder sb = new StringBuilder("[");
            for (int i = 0; i < ids.length; i++) {
                sb.append(i > 0 ? ", " : "").append(ids[i]);
            }
            out.println(sb.append(']'));
        } else {
            for (int id : ids) {
                byte[] piece = tokenizer.pieceBytes(id, true);
                String shown = strictUtf8(piece);
                out.println(shown != null ? String.format("%6d -> '%s'", id, shown)
                        : String.format("%6d -> '%s' (utf-8 decode failure)", id, hex(piece)));
            }
        }
        if (showCount && !json) {
            out.println("Total number of tokens: " + ids.length);
        }
        out.flush();
        return 0;
    }

    private GgufFile openModel() {
        if (!Files.isRegularFile(model)) {
            throw new TrestleException("model file not found: " + model, "pass an existing GGUF file with -m");
        }
        return GgufFile.open(model);
    }

    private String readText() throws IOException {
        if (source == null) {
            throw new TrestleException("no text to tokenize", "pass the text as an argument, or use --file FILE or --stdin");
        }
        if (source.text != null) {
            return source.text;
        }
        if (source.prompt != null) {
            return source.prompt;
        }
        byte[] bytes;
        if (source.file != null) {
            try {
                bytes = Files.readAllBytes(source.file);
            } catch (NoSuchFileException e) {
                throw new TrestleException("text file not found: " + source.file, "check the path given to --file");
            }
        } else {
            bytes = System.in.readAllBytes();
        }
        return new String(bytes, StandardCharsets.UTF_8);
    }

    private static void printJson(PrintWriter out, Tokenizer tokenizer, int[] ids) throws IOException {
        ObjectMapper mapper = new ObjectMapper();
        ObjectNode root = mapper.createObjectNode();
        ArrayNode idArray = root.putArray("ids");
        ArrayNode pieces = root.putArray("pieces");
        for (int id : ids) {
            idArray.add(id);
            // a piece that is not valid UTF-8 on its own (a lone byte token) is shown with U+FFFD
            pieces.add(new String(tokenizer.pieceBytes(id, true), StandardCharsets.UTF_8));
        }
        root.put("count", ids.length);
        out.println(mapper.writeValueAsString(root));
    }

    /** The bytes as text, or null when they are not valid UTF-8. */
    private static String strictUtf8(byte[] bytes) {
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }

    private static String hex(byte[] bytes) {
        StringBuilder sb = new StringBuilder();
        for (byte b : bytes) {
            sb.append(String.format("\\x%02X", b & 0xFF));
        }
        return sb.toString();
    }
}
