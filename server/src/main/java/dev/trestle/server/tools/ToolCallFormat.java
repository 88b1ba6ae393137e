package dev.trestle.server.tools;

import java.util.List;

/**
 * How a model family writes tool calls, chosen from its chat template the way llama.cpp's
 * {@code common_chat_params} detection does (the template shows the format it was trained on).
 */
public enum ToolCallFormat {
    /** Hermes 2 Pro, Qwen 2.5, Qwen 3: {@code <tool_call>{"name": ..., "arguments": {...}}</tool_call>}, repeatable. */
    HERMES(List.of("<tool_call>", "</tool_call>")),
    /** Llama 3.1 / 3.2 / 3.3: a bare {@code {"name": ..., "parameters": {...}}}, or after {@code <|python_tag|>}. */
    LLAMA3(List.of("<|python_tag|>")),
    /** Mistral Nemo: {@code [TOOL_CALLS][{"name": ..., "arguments": {...}, "id": "abcdefghi"}, ...]}. */
    MISTRAL_NEMO(List.of("[TOOL_CALLS]")),
    /** DeepSeek R1: {@code <｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>NAME\n```json\n{...}\n```<｜tool▁call▁end｜>...}. */
    DEEPSEEK_R1(List.of(DeepSeek.CALLS_BEGIN, DeepSeek.CALL_BEGIN, DeepSeek.SEP, DeepSeek.CALL_END, DeepSeek.CALLS_END)),
    /** gpt-oss harmony: {@code <|channel|>commentary to=functions.NAME <|constrain|>json<|message|>{...}<|call|>}. */
    GPT_OSS(List.of("<|channel|>", "<|message|>", "<|start|>", "<|end|>", "<|constrain|>", "<|call|>", "<|return|>")),
    /** Any other template: a JSON object {@code {"tool_call": {"name": ..., "arguments": {...}}}} or {@code {"tool_calls": [...]}}. */
    GENERIC(List.of());

    /** DeepSeek R1's tool-call markers (full-width bars and the ▁ separator are part of the tokens). */
    static final class DeepSeek {
        static final String CALLS_BEGIN = "<｜tool▁calls▁begin｜>";
        static final String CALL_BEGIN = "<｜tool▁call▁begin｜>";
        static final String SEP = "<｜tool▁sep｜>";
        static final String CALL_END = "<｜tool▁call▁end｜>";
        static final String CALLS_END = "<｜tool▁calls▁end｜>";

        private DeepSeek() {
        }
    }

    private final List<String> markers;

    ToolCallFormat(List<String> markers) {
        this.markers = markers;
    }

    /** Special strings of this format that must reach the parser as text (they are often control tokens). */
    public List<String> markers() {
        return markers;
    }

    /** The format a chat template's model writes. */
    public static ToolCallFormat detect(String templateSource) {
        String s = templateSource == null ? "" : templateSource;
        if (s.contains("<|channel|>")) {
            return GPT_OSS;
        }
        if (s.contains(DeepSeek.CALLS_BEGIN)) {
            return DEEPSEEK_R1;
        }
        if (s.contains("[TOOL_CALLS]")) {
            return MISTRAL_NEMO;
        }
        if (s.contains("<tool_call>")) {
            return HERMES;
        }
        if (s.contains("<|start_header_id|>") && s.contains("ipython")) {
            return LLAMA3;
        }
        return GENERIC;
    }
}
