package dev.trestle.engine.template;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.BooleanNode;
import com.fasterxml.jackson.databind.node.TextNode;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The request handling around the Jinja rendering that llama.cpp does and the server relies on. */
class ChatTemplateTest {
    private static final Clock DAY = ReferenceRenderingsTest.RENDER_DAY;
    /** Prints each message as role=content|, the tool calls' argument types, and the flags it sees. */
    private static final String ECHO = """
            {%- for m in messages -%}
            {{ m.role }}={{ m.content }}
            {%- for tc in m.tool_calls or [] %}[{{ tc.function.name }}:{{ tc.function.arguments is mapping }}:\
            {{ tc.function.arguments|tojson }}]{% endfor %}|
            {%- endfor -%}
            {{ 'G' if add_generation_prompt is defined }}{{ 'T' if enable_thinking }}{{ extra|default('') }}""";

    private static String render(String source, List<ChatMessage> msgs, RenderOptions opts) {
        return new ChatTemplate(source, "<s>", "</s>", DAY).render(msgs, List.of(), opts);
    }

    @Test
    void passesMessagesTheWayLlamaCppDoes() {
        List<ChatMessage> msgs = List.of(
                ChatMessage.of("developer", "Be brief."),
                new ChatMessage("user", null, List.of(ContentPart.text("part one"), ContentPart.text("part two")),
                        null, null, null, null),
                ChatMessage.toolCalls(null, List.of(new ToolCall("call00001", "f", "{\"x\": [1, 2]}"))),
                ChatMessage.toolResult("call00001", "f", "42"));
        assertEquals("system=Be brief.|user=part one\npart two|assistant=[f:True:{\"x\": [1, 2]}]|tool=42|GT",
                render(ECHO, msgs, RenderOptions.defaults()));
        assertEquals("system=Be brief.|user=part one\npart two|assistant=[f:True:{\"x\": [1, 2]}]|tool=42|",
                render(ECHO, msgs, RenderOptions.defaults().withAddGenerationPrompt(false).withEnableThinking(false)));
    }

    @Test
    void kwargsBecomeTemplateVariablesAndWin() {
        RenderOptions opts = RenderOptions.defaults().withKwargs(Map.of("enable_thinking", BooleanNode.FALSE,
                "extra", TextNode.valueOf("X")));
        assertEquals("user=hi|GX", render(ECHO, List.of(ChatMessage.of("user", "hi")), opts));
    }

    @Test
    void systemMessageIsMergedWhenTheTemplateHasNoSystemRole() {
        String userOnly = "{% for m in messages %}{% if m.role == 'user' %}<{{ m.content }}>{% endif %}{% endfor %}";
        ChatTemplate t = new ChatTemplate(userOnly, "<s>", "</s>", DAY);
        assertFalse(t.caps().supportsSystemRole());
        assertEquals("<S\nU>", t.render(List.of(ChatMessage.of("system", "S"), ChatMessage.of("user", "U")), List.of(),
                RenderOptions.defaults()));
        assertEquals("", t.render(List.of(ChatMessage.of("system", "S")), List.of(), RenderOptions.defaults()));
    }

    @Test
    void stringArgumentsStayStringsForTemplatesThatPrintThem() {
        String src = "{% for m in messages %}{% for tc in m.tool_calls or [] %}{{ tc.function.arguments }}{% endfor %}{% endfor %}";
        ChatTemplate t = new ChatTemplate(src, "", "", DAY);
        assertTrue(t.caps().supportsToolCalls());
        assertFalse(t.caps().supportsObjectArguments());
        assertEquals("{\"a\":1}", t.render(List.of(ChatMessage.toolCalls("", List.of(new ToolCall("i", "f", "{\"a\":1}")))),
                List.of(), RenderOptions.defaults()));
    }

    @Test
    void badToolArgumentsAreARequestError() {
        TemplateException e = assertThrows(TemplateException.class, () -> render(ECHO,
                List.of(ChatMessage.toolCalls(null, List.of(new ToolCall("c", "f", "{not json")))), RenderOptions.defaults()));
        assertTrue(e.getMessage().startsWith("Failed to parse tool call arguments as JSON"), e.getMessage());
    }

    @Test
    void bosAndEosAreDroppedOnlyWhenTokenizationAddsThem() {
        String src = "{{ bos_token }}x{{ eos_token }}";
        List<ChatMessage> m = List.of(ChatMessage.of("user", "u"));
        assertEquals("<s>x</s>", new ChatTemplate(src, "<s>", "</s>", DAY).render(m, List.of(), null));
        assertEquals("x", new ChatTemplate(src, new SpecialTokens("<s>", "</s>", true, true), DAY).render(m, List.of(), null));
    }

    @Test
    void templateErrorsCarryTheTemplatesMessageAndLocation() {
        ChatTemplate t = new ChatTemplate("ok\n  {{ raise_exception('No tools here') }}", "", "", DAY);
        TemplateException e = assertThrows(TemplateException.class,
                () -> t.render(List.of(ChatMessage.of("user", "u")), List.of(), RenderOptions.defaults()));
        assertEquals("No tools here", e.templateMessage());
        assertEquals("chat template error: No tools here (line 2, column 21)", e.getMessage());
        assertTrue(e.fix().contains("--chat-template"));
    }

    @Test
    void openAiJsonParsing() throws Exception {
        ObjectMapper json = new ObjectMapper();
        ChatMessage m = ChatMessage.fromJson(json.readTree("""
                {"role": "assistant", "content": null, "reasoning_content": "hmm",
                 "tool_calls": [{"id": "a1", "type": "function", "function": {"name": "f", "arguments": {"k": 1}}}]}"""));
        assertEquals(new ToolCall("a1", "f", "{\"k\":1}"), m.toolCalls().getFirst());
        assertEquals("hmm", m.reasoningContent());
        assertThrows(TemplateException.class, () -> ChatMessage.fromJson(json.readTree("{\"role\": \"user\"}")));
        assertThrows(TemplateException.class, () -> ChatMessage.fromJson(json.readTree("{\"role\": \"user\", \"content\": 5}")));
        assertThrows(TemplateException.class, () -> Tool.fromJson(json.readTree("{\"type\": \"retrieval\"}")));
        Tool t = Tool.fromJson(json.readTree("{\"type\": \"function\", \"function\": {\"name\": \"g\"}}"));
        assertEquals("", t.description());
        assertEquals("{}", t.parameters().toString());
    }
}
