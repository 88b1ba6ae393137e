package dev.trestle.server.tools;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Splits a chat model's raw output into reasoning, content and tool calls for one model family's format.
 *
 * <p>With {@code partial} the text is a prefix of the output still being generated: text that could still turn
 * into a marker or a call is held back, and a call is reported only once it is complete, so that the parts
 * of successive partial parses only grow (what {@link ChatDeltaStream} streams) and end as the final parse.
 * Content and reasoning are trimmed of surrounding whitespace. Output that looks like a call but does not
 * parse stays content, as llama-server does.
 */
public final class ChatOutputParser {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String THINK_OPEN = "<think>";
    private static final String THINK_CLOSE = "</think>";
    private static final Pattern RECIPIENT = Pattern.compile("to=(?:functions\\.)?([^\\s<]+)");
    private static final Pattern CHANNEL = Pattern.compile("<\\|channel\\|>\\s*(\\w+)");
    private static final Pattern PYTHON_CALL = Pattern.compile("(?s)\\s*([\\w.-]+?)\\.call\\((.*)\\)\\s*");
    private static final Pattern PYTHON_ARG = Pattern.compile(
            "\\s*(\\w+)\\s*=\\s*(\"(?:[^\"\\\\]|\\\\.)*\"|'(?:[^'\\\\]|\\\\.)*'|[^,]*)\\s*(?:,|$)");

    private final ToolCallFormat format;
    private final boolean parseTools;
    private final ReasoningFormat reasoning;
    private final boolean thinkTags;
    private final boolean thinkingForcedOpen;
    private final Set<String> toolNames;

    /**
     * @param format             the model family's tool-call format (also selects harmony channels for gpt-oss)
     * @param parseTools         look for tool calls (tools offered and tool_choice not "none")
     * @param reasoning          where thoughts go
     * @param thinkTags          the model writes thoughts in {@code <think>...</think>}
     * @param thinkingForcedOpen the prompt already opened {@code <think>} (DeepSeek R1), so output starts inside it
     * @param toolNames          the offered functions (a bare JSON object is a Llama 3 call only when it names one)
     */
    public ChatOutputParser(ToolCallFormat format, boolean parseTools, ReasoningFormat reasoning, boolean thinkTags,
                            boolean thinkingForcedOpen, Set<String> toolNames) {
        this.format = format;
        this.parseTools = parseTools;
        this.reasoning = reasoning;
        this.thinkTags = thinkTags;
        this.thinkingForcedOpen = thinkingForcedOpen;
        this.toolNames = Set.copyOf(toolNames);
    }

    /** True when this parser changes anything about the raw text (otherwise the server sends it as is). */
    public boolean active() {
        return parseTools || reasoning.extracts() && (thinkTags || format == ToolCallFormat.GPT_OSS);
    }

    /** Parses {@code text}; with {@code partial}, a prefix of output still being generated. */
    public ChatOutput parse(String text, boolean partial) {
        Parts p = new Parts();
        if (format == ToolCallFormat.GPT_OSS) {
            harmony(text, partial, p);
            return p.output();
        }
        String rest = text;
        if (reasoning.extracts() && thinkTags) {
            String t = text.stripLeading();
            boolean open = thinkingForcedOpen;
            if (t.startsWith(THINK_OPEN)) {
                open = true;
                t = t.substring(THINK_OPEN.length());
            } else if (!open && partial && THINK_OPEN.startsWith(t)) {
                return p.output(); // may still become <think>
            }
            if (open) {
                int end = t.indexOf(THINK_CLOSE);
                if (end >= 0) {
                    p.reasoning.append(t, 0, end);
                    rest = t.substring(end + THINK_CLOSE.length());
                } else {
                    p.reasoning.append(partial ? holdBack(t, THINK_CLOSE) : t);
                    rest = "";
                }
                if (reasoning == ReasoningFormat.DEEPSEEK_LEGACY) {
                    rest = partial && end < 0 ? holdBack(text, THINK_CLOSE) : text;
                }
            }
        }
        if (!parseTools) {
            p.content.append(rest);
            return p.output();
        }
        switch (format) {
            case HERMES -> hermes(rest, partial, p);
            case LLAMA3 -> llama3(rest, partial, p);
            case MISTRAL_NEMO -> mistral(rest, partial, p);
            case DEEPSEEK_R1 -> deepSeek(rest, partial, p);
            case GENERIC -> generic(rest, partial, p);
            case GPT_OSS -> throw new IllegalStateException("handled above");
        }
        return p.output();
    }

    /** {@code <tool_call>{"name": ..., "arguments": ...}</tool_call>}, any number, with text around. */
    private void hermes(String s, boolean partial, Parts p) {
        String open = "<tool_call>";
        String close = "</tool_call>";
        int i = 0;
        while (true) {
            int start = s.indexOf(open, i);
            if (start < 0) {
                p.content.append(partial ? holdBack(s.substring(i), open) : s.substring(i));
                return;
            }
            p.content.append(s, i, start);
            int end = s.indexOf(close, start);
            if (end < 0) {
                if (!partial) {
                    // a call cut short by max_tokens, or missing its closing tag: keep it if its JSON is whole
                    ParsedToolCall c = call(s.substring(start + open.length()), "arguments");
                    if (c != null) {
                        p.calls.add(c);
                    } else {
                        p.content.append(s, start, s.length());
                    }
                }
                return;
            }
            ParsedToolCall c = call(s.substring(start + open.length(), end), "arguments");
            if (c != null) {
                p.calls.add(c);
            } else {
                p.content.append(s, start, end + close.length());
            }
            i = end + close.length();
        }
    }

    /** A bare JSON call naming an offered tool, or {@code <|python_tag|>} followed by JSON or {@code name.call(k=v)}. */
    private void llama3(String s, boolean partial, Parts p) {
        String tag = "<|python_tag|>";
        int at = s.indexOf(tag);
        if (at >= 0) {
            p.content.append(s, 0, at);
            if (partial) {
                return;
            }
            String body = s.substring(at + tag.length());
            List<ParsedToolCall> calls = jsonCalls(body, "parameters", false);
            if (calls == null) {
                ParsedToolCall py = pythonCall(body);
                calls = py == null ? null : List.of(py);
            }
            if (calls == null) {
                p.content.append(s, at, s.length());
            } else {
                p.calls.addAll(calls);
            }
            return;
        }
        String t = s.strip();
        if (t.startsWith("{")) {
            if (partial) {
                return;
            }
            List<ParsedToolCall> calls = jsonCalls(t, "parameters", true);
            if (calls == null) {
                p.content.append(s);
            } else {
                p.calls.addAll(calls);
            }
            return;
        }
        p.content.append(partial ? holdBack(s, tag) : s);
    }

    /** {@code [TOOL_CALLS][{"name": ..., "arguments": ..., "id": ...}, ...]}. */
    private void mistral(String s, boolean partial, Parts p) {
        String tag = "[TOOL_CALLS]";
        int at = s.indexOf(tag);
        if (at < 0) {
            p.content.append(partial ? holdBack(s, tag) : s);
            return;
        }
        p.content.append(s, 0, at);
        if (partial) {
            return;
        }
        List<ParsedToolCall> calls = jsonCalls(s.substring(at + tag.length()), "arguments", false);
        if (calls == null) {
            p.content.append(s, at, s.length());
        } else {
            p.calls.addAll(calls);
        }
    }

    /** DeepSeek R1's calls: {@code function<｜tool▁sep｜>NAME\n```json\n{...}\n```} between call markers. */
    private void deepSeek(String s, boolean partial, Parts p) {
        String begin = ToolCallFormat.DeepSeek.CALLS_BEGIN;
        int at = s.indexOf(begin);
        if (at < 0) {
            p.content.append(partial ? holdBack(s, begin) : s);
            return;
        }
        p.content.append(s, 0, at);
        int end = s.indexOf(ToolCallFormat.DeepSeek.CALLS_END, at);
        if (partial && end < 0) {
            return;
        }
        String block = s.substring(at + begin.length(), end < 0 ? s.length() : end);
        List<ParsedToolCall> calls = new ArrayList<>();
        int i = 0;
        while (true) {
            int cb = block.indexOf(ToolCallFormat.DeepSeek.CALL_BEGIN, i);
            if (cb < 0) {
                break;
            }
            int ce = block.indexOf(ToolCallFormat.DeepSeek.CALL_END, cb);
            String one = block.substring(cb + ToolCallFormat.DeepSeek.CALL_BEGIN.length(), ce < 0 ? block.length() : ce);
            ParsedToolCall c = deepSeekCall(one);
            if (c == null) {
                calls = null;
                break;
            }
            calls.add(c);
            if (ce < 0) {
                break;
            }
            i = ce + ToolCallFormat.DeepSeek.CALL_END.length();
        }
        if (calls == null || calls.isEmpty()) {
            p.content.append(s, at, s.length());
            return;
        }
        p.calls.addAll(calls);
        if (end >= 0) {
            p.content.append(s, end + ToolCallFormat.DeepSeek.CALLS_END.length(), s.length());
        }
    }

    private static ParsedToolCall deepSeekCall(String one) {
        int sep = one.indexOf(ToolCallFormat.DeepSeek.SEP);
        if (sep < 0) {
            return null;
        }
        String after = one.substring(sep + ToolCallFormat.DeepSeek.SEP.length());
        int nl = after.indexOf('\n');
        if (nl < 0) {
            return null;
        }
        String name = after.substring(0, nl).strip();
        String body = after.substring(nl + 1).strip();
        if (body.startsWith("```")) {
            int fenceEnd = body.indexOf('\n');
            int close = body.lastIndexOf("```");
            if (fenceEnd < 0 || close <= fenceEnd) {
                return null;
            }
            body = body.substring(fenceEnd + 1, close);
        }
        JsonNode args = readWhole(body);
        if (name.isEmpty() || args == null || !args.isObject()) {
            return null;
        }
        return new ParsedToolCall(null, name, args.toString());
    }

    /** {@code {"tool_call": {...}}}, {@code {"tool_calls": [...]}} or {@code {"response": ...}}; else plain text. */
    private void generic(String s, boolean partial, Parts p) {
        String t = s.strip();
        if (!t.startsWith("{")) {
            p.content.append(s);
            return;
        }
        if (partial) {
            return;
        }
        JsonNode v = readWhole(t);
        if (v != null && v.isObject()) {
            JsonNode one = v.get("tool_call");
            JsonNode many = v.get("tool_calls");
            JsonNode response = v.get("response");
            if (one != null && one.isObject()) {
                ParsedToolCall c = call(one, "arguments");
                if (c != null) {
                    p.calls.add(c);
                    return;
                }
            } else if (many != null && many.isArray() && !many.isEmpty()) {
                List<ParsedToolCall> calls = new ArrayList<>();
                for (JsonNode c : many) {
                    ParsedToolCall pc = c.isObject() ? call(c, "arguments") : null;
                    if (pc == null) {
                        calls = null;
                        break;
                    }
                    calls.add(pc);
                }
                if (calls != null) {
                    p.calls.addAll(calls);
                    return;
                }
            } else if (response != null && v.size() == 1) {
                p.content.append(response.isTextual() ? response.asText() : response.toString());
                return;
            }
        }
        p.content.append(s);
    }

    /**
     * gpt-oss harmony: messages {@code [<|start|>assistant][ to=functions.NAME]<|channel|>CHANNEL[ to=...]
     * [<|constrain|>json]<|message|>BODY(<|end|>|<|call|>|<|return|>)}; the prompt already wrote the first
     * {@code <|start|>assistant}. analysis is reasoning, final and plain commentary are content, a recipient
     * makes a call.
     */
    private void harmony(String s, boolean partial, Parts p) {
        String[] segments = s.split(Pattern.quote("<|start|>"), -1);
        for (int k = 0; k < segments.length; k++) {
            String seg = segments[k];
            boolean last = k == segments.length - 1;
            int msg = seg.indexOf("<|message|>");
            if (msg < 0) {
                if (!partial || !last) {
                    String raw = stripTerminators(seg);
                    if (k == 0 && !raw.contains("<|channel|>")) {
                        p.content.append(raw); // plain text, no harmony framing at all
                    }
                }
                continue;
            }
            String header = seg.substring(0, msg);
            String body = seg.substring(msg + "<|message|>".length());
            int term = firstTerminator(body);
            boolean terminated = term >= 0;
            if (terminated) {
                body = body.substring(0, term);
            }
            boolean open = partial && last && !terminated;
            Matcher ch = CHANNEL.matcher(header);
            String channel = ch.find() ? ch.group(1) : "";
            Matcher to = RECIPIENT.matcher(header);
            String recipient = to.find() ? to.group(1) : null;
            if (recipient != null && parseTools && !recipient.equals("assistant")) {
                if (open) {
                    return;
                }
                JsonNode args = readWhole(body.strip());
                if (args != null && args.isObject()) {
                    p.calls.add(new ParsedToolCall(null, recipient, args.toString()));
                } else {
                    p.content.append(body);
                }
                continue;
            }
            String text = open ? holdBackAll(body, "<|end|>", "<|call|>", "<|return|>", "<|start|>") : body;
            if (channel.equals("analysis") && reasoning.extracts()) {
                p.reasoning.append(text);
            } else {
                p.content.append(text);
            }
        }
    }

    private static int firstTerminator(String body) {
        int best = -1;
        for (String t : new String[] {"<|end|>", "<|call|>", "<|return|>"}) {
            int i = body.indexOf(t);
            if (i >= 0 && (best < 0 || i < best)) {
                best = i;
            }
        }
        return best;
    }

    private static String stripTerminators(String s) {
        return s.replace("<|end|>", "").replace("<|call|>", "").replace("<|return|>", "");
    }

    /** Calls written as one JSON object or an array of them (Llama 3 also separates objects with ';'). */
    private List<ParsedToolCall> jsonCalls(String body, String argsKey, boolean requireKnownName) {
        List<JsonNode> values = readValues(body);
        if (values == null || values.isEmpty()) {
            return null;
        }
        List<ParsedToolCall> out = new ArrayList<>();
        for (JsonNode v : values) {
            List<JsonNode> items = new ArrayList<>();
            if (v.isArray()) {
                v.forEach(items::add);
            } else {
                items.add(v);
            }
            for (JsonNode item : items) {
                ParsedToolCall c = item.isObject() ? call(item, argsKey) : null;
                if (c == null || requireKnownName && !toolNames.contains(c.name())) {
                    return null;
                }
                out.add(c);
            }
        }
        return out.isEmpty() ? null : out;
    }

    /** {@code name.call(key="value", n=3)}: Llama 3's built-in tool syntax after {@code <|python_tag|>}. */
    private static ParsedToolCall pythonCall(String body) {
        Matcher m = PYTHON_CALL.matcher(body);
        if (!m.matches()) {
            return null;
        }
        ObjectNode args = JsonNodeFactory.instance.objectNode();
        String list = m.group(2).strip();
        Matcher a = PYTHON_ARG.matcher(list);
        int pos = 0;
        while (pos < list.length()) {
            if (!a.find(pos) || a.start() != pos) {
                return null;
            }
            String v = a.group(2).strip();
            if (v.startsWith("'") && v.endsWith("'") && v.length() >= 2) {
                args.put(a.group(1), v.substring(1, v.length() - 1).replace("\\'", "'"));
            } else {
                JsonNode parsed = readWhole(v);
                args.set(a.group(1), parsed != null ? parsed : JsonNodeFactory.instance.textNode(v));
            }
            pos = a.end();
        }
        return new ParsedToolCall(null, m.group(1), args.toString());
    }

    /** A call from JSON text {@code {"name": ..., argsKey: ...}}; null when it is not one. */
    private static ParsedToolCall call(String jsonText, String argsKey) {
        JsonNode v = readWhole(jsonText.strip());
        return v != null && v.isObject() ? call(v, argsKey) : null;
    }

    private static ParsedToolCall call(JsonNode o, String argsKey) {
        JsonNode name = o.get("name");
        if (name == null || !name.isTextual() || name.asText().isEmpty()) {
            return null;
        }
        JsonNode args = o.get(argsKey);
        if (args == null) {
            args = o.has("arguments") ? o.get("arguments") : o.get("parameters");
        }
        String argText;
        if (args == null || args.isNull()) {
            argText = "{}";
        } else if (args.isTextual()) {
            JsonNode inner = readWhole(args.asText());
            if (inner == null || !inner.isObject()) {
                return null;
            }
            argText = inner.toString();
        } else if (args.isObject()) {
            argText = args.toString();
        } else {
            return null;
        }
        JsonNode id = o.get("id");
        return new ParsedToolCall(id != null && id.isTextual() ? id.asText() : null, name.asText(), argText);
    }

    /** The single JSON value that is all of {@code s} (surrounding whitespace allowed), or null. */
    static JsonNode readWhole(String s) {
        List<JsonNode> v = readValues(s);
        return v != null && v.size() == 1 ? v.get(0) : null;
    }

    /** JSON values one after another, separated by whitespace or ';'; null unless all of s parses. */
    private static List<JsonNode> readValues(String s) {
        List<JsonNode> out = new ArrayList<>();
        String rest = s;
        while (true) {
            int i = skipSeparators(rest, 0);
            if (i >= rest.length()) {
                return out;
            }
            rest = rest.substring(i);
            // a fresh parser per value: Jackson refuses ';' between root values
            try (JsonParser jp = JSON.getFactory().createParser(rest)) {
                if (jp.nextToken() == null) {
                    return out;
                }
                out.add(JSON.readTree(jp));
                rest = rest.substring((int) jp.currentLocation().getCharOffset());
            } catch (IOException e) {
                return null;
            }
        }
    }

    private static int skipSeparators(String s, int from) {
        int i = from;
        while (i < s.length() && (Character.isWhitespace(s.charAt(i)) || s.charAt(i) == ';')) {
            i++;
        }
        return i;
    }

    /** {@code s} without a trailing proper prefix of {@code marker} (it may become the marker). */
    static String holdBack(String s, String marker) {
        for (int k = Math.min(marker.length() - 1, s.length()); k > 0; k--) {
            if (s.regionMatches(s.length() - k, marker, 0, k)) {
                return s.substring(0, s.length() - k);
            }
        }
        return s;
    }

    private static String holdBackAll(String s, String... markers) {
        String shortest = s;
        for (String m : markers) {
            String h = holdBack(s, m);
            if (h.length() < shortest.length()) {
                shortest = h;
            }
        }
        return shortest;
    }

    /** The parts as they are collected. */
    private static final class Parts {
        final StringBuilder reasoning = new StringBuilder();
        final StringBuilder content = new StringBuilder();
        final List<ParsedToolCall> calls = new ArrayList<>();

        ChatOutput output() {
            return new ChatOutput(reasoning.toString().strip(), content.toString().strip(), calls);
        }
    }
}
