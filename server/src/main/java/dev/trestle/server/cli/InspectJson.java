package dev.trestle.server.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.trestle.engine.gguf.GgufFile;
import dev.trestle.engine.gguf.GgufSummary;
import dev.trestle.engine.gguf.GgufTensorInfo;
import dev.trestle.engine.gguf.GgufValue;
import dev.trestle.engine.gguf.GgufValueType;
import java.math.BigInteger;
import java.util.Map;
import java.util.OptionalLong;

/** The JSON form of {@code trestle inspect --json} (wire format kept out of {@link GgufSummary}). */
final class InspectJson {
    /** Arrays up to this length are written whole; longer ones as {element_type, length}. */
    static final int MAX_ARRAY_ITEMS = 256;

    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private InspectJson() {
    }

    static String render(GgufFile f, GgufSummary s, boolean withTensors, boolean withMetadata) {
        ObjectNode root = NODES.objectNode();
        root.put("file", s.path() == null ? null : s.path().toString());
        root.put("file_size", s.fileSize());
        root.put("gguf_version", s.version());
        root.put("alignment", s.alignment());
        root.put("data_offset", s.dataOffset());
        root.put("metadata_count", s.metadataCount());
        root.put("tensor_count", s.tensorCount());
        root.put("architecture", s.architecture());
        root.put("name", s.name());
        root.put("parameters", s.parameterCount());
        ObjectNode ft = root.putObject("file_type");
        ft.put("id", s.fileTypeId() & ~dev.trestle.engine.gguf.GgufFileType.GUESSED);
        ft.put("name", s.fileType().map(Enum::name).orElse(null));
        ft.put("description", s.fileTypeDescription());
        ft.put("guessed", s.fileTypeGuessed());
        root.put("bits_per_weight", s.bitsPerWeight());
        put(root, "context_length", s.contextLength());
        put(root, "block_count", s.blockCount());
        put(root, "embedding_length", s.embeddingLength());
        put(root, "vocab_size", s.vocabSize());
        root.put("tokenizer_model", s.tokenizerModel());
        root.set("hyperparameters", entries(s.hyperparameters()));
        ArrayNode types = root.putArray("tensor_types");
        for (GgufSummary.TypeCount t : s.tensorTypes()) {
            types.addObject().put("type", t.type().name()).put("count", t.count())
                    .put("elements", t.elements()).put("bytes", t.bytes());
        }
        root.put("tensor_bytes", s.tensorBytes());
        if (withMetadata) {
            root.set("metadata", entries(f.metadata().asMap()));
        }
        if (withTensors) {
            ArrayNode list = root.putArray("tensors");
            for (GgufTensorInfo t : f.tensors().values()) {
                ObjectNode n = list.addObject();
                n.put("name", t.name());
                n.put("type", t.type().name());
                ArrayNode shape = n.putArray("shape");
                for (long d : t.shape()) {
                    shape.add(d);
                }
                n.put("elements", t.elements());
                n.put("bytes", t.bytes());
                n.put("offset", t.offset());
                n.put("file_offset", s.dataOffset() + t.offset());
            }
        }
        try {
            return new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(root);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot render inspect JSON", e);
        }
    }

    private static ObjectNode entries(Map<String, GgufValue> entries) {
        ObjectNode o = NODES.objectNode();
        for (Map.Entry<String, GgufValue> e : entries.entrySet()) {
            o.set(e.getKey(), value(e.getValue().type(), e.getValue().value()));
        }
        return o;
    }

    private static JsonNode value(GgufValueType type, Object v) {
        return switch (v) {
            case GgufValue.GgufArray a -> array(a);
            case Long l when type == GgufValueType.UINT64 && l < 0 ->
                    NODES.numberNode(new BigInteger(Long.toUnsignedString(l)));
            case Long l -> NODES.numberNode(l);
            case Integer i -> NODES.numberNode(i);
            case Float x -> NODES.numberNode(x);
            case Double x -> NODES.numberNode(x);
            case Boolean b -> NODES.booleanNode(b);
            case String str -> NODES.textNode(str);
            default -> NODES.textNode(String.valueOf(v));
        };
    }

    private static JsonNode array(GgufValue.GgufArray a) {
        int n = a.length();
        if (n > MAX_ARRAY_ITEMS) {
            ObjectNode summary = NODES.objectNode();
            summary.put("element_type", a.elementType().shortName());
            summary.put("length", n);
            return summary;
        }
        ArrayNode out = NODES.arrayNode(n);
        for (int i = 0; i < n; i++) {
            out.add(switch (a.elementType()) {
                case FLOAT32, FLOAT64 -> NODES.numberNode(a.getDouble(i));
                case BOOL -> NODES.booleanNode(a.getLong(i) != 0);
                case STRING -> NODES.textNode(((String[]) a.data())[i]);
                case ARRAY -> array(((GgufValue.GgufArray[]) a.data())[i]);
                case UINT64 -> value(GgufValueType.UINT64, a.getLong(i));
                default -> NODES.numberNode(a.getLong(i));
            });
        }
        return out;
    }

    private static void put(ObjectNode o, String key, OptionalLong v) {
        if (v.isPresent()) {
            o.put(key, v.getAsLong());
        } else {
            o.putNull(key);
        }
    }
}
