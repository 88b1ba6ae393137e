package dev.trestle.engine.template;

import dev.trestle.engine.gguf.GgufMetadata;
import dev.trestle.engine.gguf.GgufValue;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;

/**
 * Where a model's chat template comes from: {@code --chat-template NAME|FILE|JINJA}, else the
 * GGUF's {@code tokenizer.chat_template}, else the built-in chatml (logged). Built-in names are
 * llama-server's; their sources are Jinja resources that render what llama.cpp's built-in
 * formats produce.
 */
public final class ChatTemplates {
    private static final System.Logger LOG = System.getLogger(ChatTemplates.class.getName());

    /** The template used when a model has none. */
    public static final String DEFAULT = "chatml";

    // GGUF keys this class reads
    private static final String KEY_TEMPLATE = "tokenizer.chat_template";
    private static final String KEY_TEMPLATE_TOOL_USE = "tokenizer.chat_template.tool_use";
    private static final String KEY_TOKENS = "tokenizer.ggml.tokens";
    private static final String KEY_MODEL = "tokenizer.ggml.model";
    private static final String KEY_BOS_ID = "tokenizer.ggml.bos_token_id";
    private static final String KEY_EOS_ID = "tokenizer.ggml.eos_token_id";
    private static final String KEY_ADD_BOS = "tokenizer.ggml.add_bos_token";
    private static final String KEY_ADD_EOS = "tokenizer.ggml.add_eos_token";

    private static final List<String> BUILTIN = List.of(
            "chatml", "command-r", "deepseek", "deepseek2", "deepseek3", "falcon3", "gemma",
            "llama2", "llama2-sys", "llama2-sys-bos", "llama2-sys-strip", "llama3", "llama4",
            "mistral-v1", "mistral-v3", "mistral-v3-tekken", "mistral-v7", "mistral-v7-tekken",
            "phi3", "phi4", "vicuna", "vicuna-orca", "zephyr");

    private ChatTemplates() {
    }

    /** llama-server's template names that Trestle has built in, sorted. */
    public static List<String> builtinNames() {
        return BUILTIN;
    }

    /** The Jinja source of built-in template {@code name}, or null when there is none by that name. */
    public static String builtinSource(String name) {
        if (!BUILTIN.contains(name)) {
            return null;
        }
        try (InputStream in = ChatTemplates.class.getResourceAsStream("builtin/" + name + ".jinja")) {
            if (in == null) {
                throw new IllegalStateException("built-in template resource missing: " + name);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** {@link #forModel(GgufMetadata, String, Clock)} on the system clock. */
    public static ChatTemplate forModel(GgufMetadata metadata, String override) {
        return forModel(metadata, override, Clock.systemDefaultZone());
    }

    /**
     * The chat template for a model.
     *
     * @param override {@code --chat-template}: a built-in name, a file, or Jinja source; null or
     *     blank to use the model's own template
     * @throws TemplateException when the override names nothing usable or the template does not parse
     */
    public static ChatTemplate forModel(GgufMetadata metadata, String override, Clock clock) {
        return new ChatTemplate(resolveSource(metadata, override), specialTokens(metadata), clock, toolUseSource(metadata, override));
    }

    /**
     * The model's tool-use template variant, used for requests with tools (llama.cpp's rule);
     * none when {@code --chat-template} overrides the template.
     */
    public static String toolUseSource(GgufMetadata metadata, String override) {
        if (override != null && !override.isBlank()) {
            return null;
        }
        String s = metadata.getString(KEY_TEMPLATE_TOOL_USE, null);
        return s == null || s.isBlank() ? null : s;
    }

    /** The template source {@link #forModel} uses. */
    public static String resolveSource(GgufMetadata metadata, String override) {
        if (override != null && !override.isBlank()) {
            return overrideSource(override);
        }
        String own = metadata.getString(KEY_TEMPLATE, null);
        if ((own == null || own.isBlank() || own.strip().equals(DEFAULT)) && toolUseSource(metadata, null) != null) {
            return toolUseSource(metadata, null); // llama.cpp prefers the tool-use template to plain chatml
        }
        if (own == null || own.isBlank()) {
            LOG.log(System.Logger.Level.INFO, "model has no chat template (" + KEY_TEMPLATE + "); using built-in " + DEFAULT);
            return builtinSource(DEFAULT);
        }
        // some converters store a built-in name instead of a template
        String named = builtinSource(own.strip());
        return named != null ? named : own;
    }

    /** Resolves {@code --chat-template NAME|FILE|JINJA}. */
    public static String overrideSource(String override) {
        String named = builtinSource(override.strip());
        if (named != null) {
            return named;
        }
        Path file = asFile(override);
        if (file != null) {
            try {
                return Files.readString(file, StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new TemplateException("cannot read chat template file " + file + ": " + e.getMessage(),
                        "check the path and its permissions");
            }
        }
        if (override.contains("{{") || override.contains("{%")) {
            return override; // inline Jinja, as llama-server accepts it
        }
        throw new TemplateException("unknown chat template '" + override + "'",
                "use a built-in name (" + String.join(", ", BUILTIN) + "), a .jinja file, or Jinja source");
    }

    private static Path asFile(String s) {
        try {
            Path p = Path.of(s);
            return Files.isRegularFile(p) ? p : null;
        } catch (InvalidPathException e) {
            return null;
        }
    }

    /**
     * BOS/EOS texts from the vocabulary and whether tokenization adds them; the defaults follow
     * llama.cpp (SentencePiece and WordPiece vocabularies add BOS unless the file says otherwise).
     */
    public static SpecialTokens specialTokens(GgufMetadata m) {
        String[] tokens = m.contains(KEY_TOKENS) ? m.getStringArray(KEY_TOKENS) : new String[0];
        String model = m.getString(KEY_MODEL, "");
        boolean addBosDefault = model.equals("llama") || model.equals("bert");
        boolean addBos = m.getBool(KEY_ADD_BOS, addBosDefault);
        boolean addEos = m.getBool(KEY_ADD_EOS, false);
        return new SpecialTokens(token(m, KEY_BOS_ID, tokens), token(m, KEY_EOS_ID, tokens), addBos, addEos);
    }

    private static String token(GgufMetadata m, String key, String[] tokens) {
        if (!m.contains(key)) {
            return "";
        }
        GgufValue v = m.get(key);
        if (!v.type().isInteger()) {
            return "";
        }
        long id = v.asLong();
        return id >= 0 && id < tokens.length ? tokens[(int) id] : "";
    }

    /**
     * The built-in template whose format a template source uses, by llama.cpp's markers (what
     * llama-server falls back to without {@code --jinja}); null when none matches.
     */
    public static String detectBuiltin(String source) {
        if (builtinSource(source.strip()) != null) {
            return source.strip();
        }
        if (source.contains("<|im_start|>")) {
            return source.contains("<|im_sep|>") ? "phi4" : "chatml";
        }
        if (source.startsWith("mistral") || source.contains("[INST]")) {
            if (source.contains("[SYSTEM_PROMPT]")) {
                return "mistral-v7";
            }
            if (source.contains("' [INST] ' + system_message") || source.contains("[AVAILABLE_TOOLS]")) {
                return source.contains(" [INST]") ? "mistral-v1" : source.contains("\"[INST]\"") ? "mistral-v3-tekken" : "mistral-v3";
            }
            if (source.contains("content.strip()")) {
                return "llama2-sys-strip";
            }
            if (source.contains("bos_token + '[INST]")) {
                return "llama2-sys-bos";
            }
            return source.contains("<<SYS>>") ? "llama2-sys" : "llama2";
        }
        if (source.contains("<|assistant|>") && source.contains("<|end|>")) {
            return "phi3";
        }
        if (source.contains("<|assistant|>") && source.contains("<|user|>") && source.contains("</s>")) {
            return "falcon3";
        }
        if (source.contains("<|user|>") && source.contains("<|endoftext|>")) {
            return "zephyr";
        }
        if (source.contains("<start_of_turn>")) {
            return "gemma";
        }
        if (source.contains("USER: ") && source.contains("ASSISTANT: ")) {
            return source.contains("SYSTEM: ") ? "vicuna-orca" : "vicuna";
        }
        if (source.contains("### Instruction:") && source.contains("<|EOT|>")) {
            return "deepseek";
        }
        if (source.contains("<|START_OF_TURN_TOKEN|>") && source.contains("<|USER_TOKEN|>")) {
            return "command-r";
        }
        if (source.contains("<|start_header_id|>") && source.contains("<|end_header_id|>")) {
            return "llama3";
        }
        if (source.contains("'Assistant: ' + message['content'] + eos_token")) {
            return "deepseek2";
        }
        if (source.contains("<｜Assistant｜>") && source.contains("<｜User｜>") && source.contains("<｜end▁of▁sentence｜>")) {
            return "deepseek3";
        }
        if (source.contains("<|header_start|>") && source.contains("<|header_end|>")) {
            return "llama4";
        }
        return null;
    }
}
