package dev.trestle.engine.template;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** JSON trees to the plain values the Jinja engine works on (Map, List, String, Long, Double, Boolean, null). */
final class JsonValues {
    private JsonValues() {
    }

    /**
     * Converts {@code node}. With {@code fresh}, every string is a new object, so usage tracking by
     * identity can tell two equal strings of a probe conversation apart.
     */
    @SuppressWarnings("StringOperationCanBeSimplified")
    static Object from(JsonNode node, boolean fresh) {
        if (node == null || node.isNull() || node.isMissingNode()) {
            return null;
        }
        if (node.isTextual()) {
            return fresh ? new String(node.asText()) : node.asText();
        }
        if (node.isBoolean()) {
            return node.asBoolean();
        }
        if (node.isIntegralNumber()) {
            return node.canConvertToLong() ? (Object) node.asLong() : (Object) node.asDouble();
        }
        if (node.isNumber()) {
            return node.asDouble();
        }
        if (node.isArray()) {
            List<Object> out = new ArrayList<>(node.size());
            for (JsonNode n : node) {
                out.add(from(n, fresh));
            }
            return out;
        }
        Map<Object, Object> out = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            out.put(e.getKey(), from(e.getValue(), fresh));
        }
        return out;
    }
}
