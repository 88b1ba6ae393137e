package dev.trestle.engine.template;

/**
 * llama.cpp's source patches for published templates that would otherwise reject valid requests
 * (it applies them before parsing; so do we, to render what llama-server renders).
 */
final class KnownPatches {
    private KnownPatches() {
    }

    static String apply(String src) {
        String s = src;
        // gpt-oss: the check for channel tags in content trips on llama.cpp's own history handling
        if (s.contains("<|channel|>") && s.contains("in message.content or")) {
            s = s.replace("{%- if \"<|channel|>analysis<|message|>\" in message.content or "
                    + "\"<|channel|>final<|message|>\" in message.content %}", "{%- if false %}");
        }
        // Mistral (tool-calling templates): empty assistant turns carrying only tool calls are valid
        if (s.contains("[TOOL_CALLS]") && s.contains("if (message['content'] is none or")) {
            s = s.replace("{%- if (message['content'] is none or message['content'] == '' or "
                    + "message['content']|length == 0) and (message['tool_calls'] is not defined or "
                    + "message['tool_calls'] is none or message['tool_calls']|length == 0) %}", "{%- if false %}");
        }
        return s;
    }
}
