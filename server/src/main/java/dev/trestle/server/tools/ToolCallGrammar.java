package dev.trestle.server.tools;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.trestle.engine.grammar.GbnfParser;
import dev.trestle.engine.grammar.Grammar;
import dev.trestle.engine.grammar.GrammarException;
import dev.trestle.engine.grammar.JsonSchemaToGbnf;
import dev.trestle.engine.template.Tool;
import java.util.ArrayList;
import java.util.List;

/**
 * The grammar that forces a tool call in a model family's format ({@code tool_choice: "required"} or a named
 * function): the output is one call (several with parallel calls) to one of the tools, its arguments valid
 * against that tool's parameter schema, so the call always parses.
 */
public final class ToolCallGrammar {
    private static final String ROOT = "tc-root";

    private ToolCallGrammar() {
    }

    /**
     * GBNF forcing a call to one of {@code tools}.
     *
     * @param parallel           allow several calls where the format can write them
     * @param thinkingForcedOpen the prompt opened {@code <think>}: the output first closes it
     * @throws GrammarException when a tool's parameters schema cannot be turned into a grammar
     */
    public static String gbnf(ToolCallFormat format, List<Tool> tools, boolean parallel, boolean thinkingForcedOpen) {
        if (tools.isEmpty()) {
            throw new IllegalArgumentException("no tools");
        }
        // one schema whose alternatives are the tools' parameters: the converter names each alternative's rule
        ArrayNode alts = JsonNodeFactory.instance.arrayNode();
        for (Tool t : tools) {
            alts.add(t.parameters());
        }
        ObjectNode anyOf = JsonNodeFactory.instance.objectNode();
        anyOf.set("anyOf", alts);
        String converted;
        try {
            converted = JsonSchemaToGbnf.convert(anyOf);
        } catch (GrammarException e) {
            throw new GrammarException("a tool's parameters schema cannot constrain generation: " + e.getMessage(),
                    "simplify the tool's parameters schema, or use tool_choice \"auto\" (unconstrained)");
        }
        List<String> argRules = alternatives(converted, tools.size());

        StringBuilder g = new StringBuilder(converted);
        String argsKey = format == ToolCallFormat.LLAMA3 ? "parameters" : "arguments";
        List<String> calls = new ArrayList<>();
        for (int i = 0; i < tools.size(); i++) {
            String name = tools.get(i).name();
            String args = argRules.get(i);
            String jsonName = lit(TextNode.valueOf(name).toString());
            String object = "\"{\" space " + lit("\"name\"") + " space \":\" space " + jsonName + " space \",\" space "
                    + lit("\"" + argsKey + "\"") + " space \":\" space " + args
                    + (format == ToolCallFormat.MISTRAL_NEMO
                        ? " \",\" space " + lit("\"id\"") + " space \":\" space \"\\\"\" [a-zA-Z0-9]{9} \"\\\"\" space" : "")
                    + " \"}\" space";
            calls.add(switch (format) {
                case HERMES -> lit("<tool_call>") + " space " + object + " " + lit("</tool_call>");
                case DEEPSEEK_R1 -> lit(ToolCallFormat.DeepSeek.CALL_BEGIN + "function" + ToolCallFormat.DeepSeek.SEP
                        + name + "\n```json\n") + " " + args + " " + lit("```" + ToolCallFormat.DeepSeek.CALL_END);
                case GPT_OSS -> lit(name) + " " + lit(" <|constrain|>json") + "? " + lit("<|message|>") + " " + args;
                default -> object;
            });
        }
        g.append("tc-call ::= ").append(String.join(" | ", calls)).append('\n');
        String body = switch (format) {
            case HERMES -> parallel ? "tc-call (space tc-call)*" : "tc-call";
            case LLAMA3 -> "tc-call";
            case MISTRAL_NEMO -> lit("[TOOL_CALLS]") + " \"[\" space tc-call "
                    + (parallel ? "(\",\" space tc-call)* " : "") + "\"]\"";
            case DEEPSEEK_R1 -> lit(ToolCallFormat.DeepSeek.CALLS_BEGIN) + " tc-call" + (parallel ? "+ " : " ")
                    + lit(ToolCallFormat.DeepSeek.CALLS_END);
            case GPT_OSS -> "(" + lit("<|channel|>analysis<|message|>") + " [^<]* " + lit("<|end|><|start|>assistant")
                    + ")? " + lit("<|channel|>commentary to=functions.") + " tc-call";
            case GENERIC -> parallel
                    ? "\"{\" space " + lit("\"tool_calls\"") + " space \":\" space \"[\" space tc-call (\",\" space tc-call)* \"]\" space \"}\""
                    : "\"{\" space " + lit("\"tool_call\"") + " space \":\" space tc-call \"}\"";
        };
        if (thinkingForcedOpen) {
            body = "[^<]* " + lit("</think>") + " space " + body;
        }
        g.append(ROOT).append(" ::= ").append(body).append('\n');
        return g.toString();
    }

    /** The parsed grammar of {@link #gbnf}. */
    public static Grammar grammar(ToolCallFormat format, List<Tool> tools, boolean parallel, boolean thinkingForcedOpen) {
        return GbnfParser.parse(gbnf(format, tools, parallel, thinkingForcedOpen), ROOT);
    }

    /** The rule names of the root's alternatives, one per tool, in order. */
    private static List<String> alternatives(String gbnf, int expected) {
        for (String line : gbnf.split("\n")) {
            if (line.startsWith("root ::= ")) {
                List<String> names = new ArrayList<>();
                for (String alt : line.substring("root ::= ".length()).split(" \\| ")) {
                    String n = alt.strip();
                    if (!n.matches("[a-zA-Z0-9-]+")) {
                        break;
                    }
                    names.add(n);
                }
                if (names.size() == expected) {
                    return names;
                }
            }
        }
        if (expected == 1) {
            return List.of("root"); // a single alternative may become the root itself
        }
        throw new IllegalStateException("unexpected grammar layout for tool parameters:\n" + gbnf);
    }

    /** A GBNF string literal matching {@code text} exactly. */
    static String lit(String text) {
        StringBuilder sb = new StringBuilder(text.length() + 2).append('"');
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> sb.append(c);
            }
        }
        return sb.append('"').toString();
    }
}
