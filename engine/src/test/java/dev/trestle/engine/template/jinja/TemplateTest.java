package dev.trestle.engine.template.jinja;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The Jinja subset chat templates use, checked against what Python's Jinja2 (with trim_blocks and
 * lstrip_blocks, as Hugging Face renders chat templates) outputs for the same source.
 */
class TemplateTest {

    private static String render(String source) {
        return Template.parse(source).render(Map.of());
    }

    private static String render(String source, Map<String, Object> globals) {
        return Template.parse(source).render(globals);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
        // whitespace control: trim_blocks, lstrip_blocks, '-' modifiers, the dropped final newline
        "`  {% if true %}\n  x\n  {% endif %}\n`|`  x\n`",
        "`a {{- ' b ' -}} c`|`a b c`",
        "`{# note #}\nx`|`x`",
        "`{{ 'a' }}\nb`|`a\nb`",
        "`a\n  {%- if true %} b{% endif %}`|`a b`",
        "`{% for i in [1, 2] %}\n{{ i }}\n{% endfor %}`|`1\n2\n`",
        "`x {%+ if true %}y{% endif %}`|`x y`",
        // arithmetic and literals, Python style
        "`{{ 1 + 2 * 3 }}|{{ 7 // 2 }}|{{ -7 // 2 }}|{{ 7 % 3 }}|{{ -7 % 3 }}|{{ 7 / 2 }}|{{ 2 ** 10 }}`|`7|3|-4|1|2|3.5|1024`",
        "`{{ 1.0 }} {{ 0.1 + 0.2 }} {{ 1e20 }} {{ 0.00001 }} {{ 123.456 }}`|`1.0 0.30000000000000004 1e+20 1e-05 123.456`",
        "`{{ 'a' ~ 1 ~ none ~ true }}`|`a1NoneTrue`",
        "`{{ 'x' 'y' }}`|`xy`",
        "`{{ '%s-%d%%' % ('a', 3) }}|{{ 'x%s' % 1 }}`|`a-3%|x1`",
        "`{{ {'a': 1, 'b': [true, none, \"it's\"]} }}`|`{'a': 1, 'b': [True, None, \"it's\"]}`",
        // subscripts and slices
        "`{{ [1, 2, 3][::-1] }}|{{ 'hello'[1:3] }}|{{ 'hello'[-1] }}|{{ [1, 2, 3, 4][1:] }}|{{ [1, 2, 3][:-1] }}`|`[3, 2, 1]|el|o|[2, 3, 4]|[1, 2]`",
        "`{{ 'abcdef'[::2] }}|{{ [1, 2, 3][5] is defined }}|{{ {'a': 1}['b'] is defined }}`|`ace|False|False`",
        // conditionals, logic, membership
        "`{{ 'x' if false else 'y' }}[{{ 'x' if false }}]`|`y[]`",
        "`{{ 0 or 'd' }} {{ 'a' and 'b' }} {{ not none }}`|`d b True`",
        "`{{ 'b' in 'abc' }} {{ 2 in [1, 2] }} {{ 'k' in {'k': 1} }} {{ 'z' not in 'abc' }} {{ 1 in undefined_thing }}`|`True True True True False`",
        "`{{ 1 < 2 < 3 }} {{ 'a' < 'b' }} {{ [1, 2] == [1, 2] }} {{ 1 == 1.0 }}`|`True True True True`",
        // tests
        "`{{ none is none }} {{ x is defined }} {{ 3 is odd }} {{ 4 is divisibleby 2 }} {{ 'a' is string }} {{ {} is mapping }}`|`True False True True True True`",
        "`{{ 'a' is iterable }} {{ 1 is number }} {{ 1 is integer }} {{ 1.5 is float }} {{ false is sameas false }} {{ 3 is not even }}`|`True True True True True True`",
        // filters
        "`{{ '  x  '|trim }}|{{ [1, 2]|length }}|{{ 'ab'|upper }}|{{ [3, 1, 2]|sort|join(',') }}|{{ y|default('dflt') }}|{{ ''|default('e', true) }}`|`x|2|AB|1,2,3|dflt|e`",
        "`{{ [1, 2, 2, 3]|unique|list }}|{{ ['a', 'b']|first }}{{ ['a', 'b']|last }}|{{ 'hello world'|title }}|{{ 'a b'|replace(' ', '_') }}|{{ 'abc'|reverse }}`|`[1, 2, 3]|ab|Hello World|a_b|cba`",
        "`{{ {'a': [1, 2.5, 'é\"\n'], 'b': none, 'c': {}}|tojson }}`|`{\"a\": [1, 2.5, \"é\\\"\\n\"], \"b\": null, \"c\": {}}`",
        "`{{ {'a': [1], 'b': 'x'}|tojson(indent=2) }}`|`{\n  \"a\": [\n    1\n  ],\n  \"b\": \"x\"\n}`",
        "`{{ {'b': [1, 'é'], 'a': 2}|tojson(separators=(',', ':'), sort_keys=true) }}|{{ 'é✓'|tojson(ensure_ascii=true) }}`|`{\"a\":2,\"b\":[1,\"é\"]}|\"\\u00e9\\u2713\"`",
        "`{{ 'x'|tojson }} {{ 3|string + '!' }} {{ '5'|int + 1 }} {{ 2|float }} {{ -3|abs }} {{ 2.567|round(2) }}`|`\"x\" 3! 6 2.0 3 2.57`",
        "`{{ [1, 2, 3, 4]|select('even')|list }} {{ [1, 2, 3]|reject('odd')|list }} {{ [1, 2, 3]|map('string')|join }}`|`[2, 4] [2] 123`",
        "`{{ 'a\nb'|indent(2) }}|{{ [3, 9, 1]|max }}{{ [3, 9, 1]|min }}|{{ [1, 2, 3]|sum }}|{{ 'one two'|wordcount }}`|`a\n  b|91|6|2`",
        // str methods
        "`{{ '  a b  '.strip() }}|{{ 'a,b,,c'.split(',') }}|{{ ' a  b '.split() }}|{{ 'abc'.startswith('ab') }}|{{ 'abc'.endswith(('x', 'c')) }}`|`a b|['a', 'b', '', 'c']|['a', 'b']|True|True`",
        "`{{ 'xAx'.lower() }}|{{ 'a-b-c'.rsplit('-', 1) }}|{{ '<think>x</think>y'.split('</think>')[-1] }}|{{ '\n\nx\n'.lstrip('\n') }}|{{ 'ab'.upper() }}`|`xax|['a-b', 'c']|y|x\n|AB`",
        "`{{ 'a{}c{x}'.format('b', x='d') }}|{{ '-'.join(['a', 'b']) }}|{{ 'abcb'.count('b') }}|{{ 'abc'.find('c') }}|{{ 'a'.replace('a', 'b') }}`|`abcd|a-b|2|2|b`",
        // dict methods and iteration
        "`{% for k, v in {'a': 1, 'b': 2}.items() %}{{ k }}={{ v }};{% endfor %}{% for k in {'x': 0} %}{{ k }}{% endfor %}`|`a=1;b=2;x`",
        "`{{ {'a': 1}.items()|list }} {{ (1,) }} {{ (1, 'b') }} {{ (1, 2).append is defined }}`|`[('a', 1)] (1,) (1, 'b') False`",
        "`{{ {'a': 1}.get('a') }} {{ {'a': 1}.get('z', 9) }} {{ {'a': 1}.keys()|list }} {{ {'a': 1}.values()|list }}`|`1 9 ['a'] [1]`",
        // statements
        "`{% set ns = namespace(n=0) %}{% for i in range(3) %}{% set ns.n = ns.n + i %}{% endfor %}{{ ns.n }}`|`3`",
        "`{% set x = 1 %}{% for i in [1] %}{% set x = 2 %}{% endfor %}{{ x }}`|`1`",
        "`{% if true %}{% set y = 5 %}{% endif %}{{ y }}`|`5`",
        "`{% set a, b = 1, 2 %}{{ b }}{{ a }}`|`21`",
        "`{% for c in 'abc' %}{{ loop.index }}{{ loop.first }}{{ loop.last }}{{ loop.revindex0 }}{% if not loop.last %},{% endif %}{% endfor %}`|`1TrueFalse2,2FalseFalse1,3FalseTrue0`",
        "`{% for i in range(5) if i is even %}{{ i }}{{ loop.length }} {% else %}none{% endfor %}|{% for i in [] %}x{% else %}empty{% endfor %}`|`03 23 43 |empty`",
        "`{% for i in range(10) %}{% if i == 2 %}{% continue %}{% endif %}{% if i == 4 %}{% break %}{% endif %}{{ i }}{% endfor %}`|`013`",
        "`{% for i in [1, 2, 3] %}{{ loop.cycle('a', 'b') }}{{ loop.previtem is defined }}{% endfor %}`|`aFalsebTrueaTrue`",
        "`{% macro f(n, sep='-') %}{% if n > 0 %}{{ n }}{{ sep }}{{ f(n - 1, sep) }}{% endif %}{% endmacro %}{{ f(3) }}|{{ f(2, sep='+') }}`|`3-2-1-|2+1+`",
        "`{% set s %}a{{ 1 }}{% endset %}{{ s }}!`|`a1!`",
        "`{% filter upper %}abc{% endfilter %}`|`ABC`",
        "`{% set l = [] %}{% do l.append(1) %}{% set _ = l.append(2) %}{{ l }}{{ l|length }}`|`[1, 2]2`",
        "`{% generation %}kept{% endgeneration %}`|`kept`",
        "`{{ undefined_var }}[{{ undefined_var.attr }}]{{ none }}`|`[]None`",
    })
    void rendersLikeJinja2(String source, String expected) {
        assertEquals(expected, render(source));
    }

    @Test
    void methodBeatsKeyForAttributeButNotForSubscript() {
        Map<String, Object> spec = new LinkedHashMap<>();
        spec.put("items", "the-key");
        assertEquals("the-key|True", render("{{ spec['items'] }}|{{ spec.items is callable }}", Map.of("spec", spec)));
    }

    @Test
    void raiseExceptionStopsRenderingWithTheTemplatesMessageAndPosition() {
        Template t = Template.parse("ok\n{{ raise_exception('Roles must alternate') }}");
        JinjaException e = assertThrows(JinjaException.class, () -> t.render(Map.of()));
        assertEquals("Roles must alternate", e.getMessage());
        assertTrue(e.raised());
        assertEquals("line 2, column 19", t.lineColumn(e.position()));
    }

    @Test
    void errorsNameTheProblem() {
        JinjaException e = assertThrows(JinjaException.class, () -> render("{{ 1|nosuchfilter }}"));
        assertTrue(e.getMessage().contains("nosuchfilter"), e.getMessage());
        assertFalse(e.raised());
        e = assertThrows(JinjaException.class, () -> render("{{ nothing() }}"));
        assertTrue(e.getMessage().contains("'nothing' is not callable"), e.getMessage());
        e = assertThrows(JinjaException.class, () -> Template.parse("{% if x %}never closed"));
        assertTrue(e.getMessage().contains("endif"), e.getMessage());
        e = assertThrows(JinjaException.class, () -> Template.parse("{% frobnicate %}"));
        assertTrue(e.getMessage().contains("frobnicate"), e.getMessage());
        e = assertThrows(JinjaException.class, () -> render("{{ 1 + 'a' }}"));
        assertTrue(e.getMessage().contains("unsupported operand"), e.getMessage());
    }

    @Test
    void hostileTemplatesFailInsteadOfHanging() {
        assertThrows(JinjaException.class, () -> render("{% for i in range(100000000) %}{% endfor %}"));
        assertThrows(JinjaException.class, () -> render("{% macro r() %}{{ r() }}{% endmacro %}{{ r() }}"));
        assertThrows(JinjaException.class, () -> render("{{ 'x' * 100000000 }}"));
        assertThrows(JinjaException.class,
                () -> render("{% for a in range(1000000) %}{% for b in range(1000000) %}{% endfor %}{% endfor %}"));
    }

    @Test
    void usageRecordsWhatWasRead() {
        List<Object> messages = new ArrayList<>();
        Map<Object, Object> system = new LinkedHashMap<>();
        system.put("role", "system");
        String content = new String("S");
        system.put("content", content);
        messages.add(system);
        Usage usage = new Usage();
        Template.parse("{% for m in messages %}{{ m.role }}{% endfor %}").render(Map.of("messages", messages), usage);
        assertTrue(usage.used(messages));
        assertTrue(usage.usedWith(messages, "array_access"));
        assertFalse(usage.used(content));
        usage = new Usage();
        Template.parse("{{ messages[0]['content']|trim }}").render(Map.of("messages", messages), usage);
        assertTrue(usage.usedWith(content, "trim"));
    }
}
