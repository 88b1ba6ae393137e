package dev.trestle.server.http;

import com.fasterxml.jackson.databind.JsonNode;
import dev.trestle.engine.sampling.SamplerConfig;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;

/** Reads sampling fields of a request (OpenAI and llama-server names) over the server's defaults. */
final class SamplingParams {
    private SamplingParams() {
    }

    static SamplerConfig read(JsonNode body, SamplerConfig defaults, int nVocab) {
        float temp = (float) JsonFields.number(body, "temperature", defaults.temperature(), 0, 100);
        int topK = JsonFields.integer(body, "top_k", defaults.topK(), -1, Integer.MAX_VALUE);
        float topP = (float) JsonFields.number(body, "top_p", defaults.topP(), 0, 1);
        float minP = (float) JsonFields.number(body, "min_p", defaults.minP(), 0, 1);
        float typical = (float) JsonFields.number(body, "typical_p", defaults.typicalP(), 0, 1);
        float repeat = (float) JsonFields.number(body, "repeat_penalty", defaults.repeatPenalty(), 0, 100);
        int lastN = JsonFields.integer(body, "repeat_last_n", defaults.repeatLastN(), -1, Integer.MAX_VALUE);
        float freq = (float) JsonFields.number(body, "frequency_penalty", defaults.frequencyPenalty(), -2, 2);
        float pres = (float) JsonFields.number(body, "presence_penalty", defaults.presencePenalty(), -2, 2);
        int minKeep = JsonFields.integer(body, "min_keep", defaults.minKeep(), 0, Integer.MAX_VALUE);
        long seed = JsonFields.longValue(body, "seed", defaults.seed());
        Map<Integer, Float> bias = new HashMap<>(defaults.logitBias());
        bias.putAll(logitBias(body, nVocab));
        return new SamplerConfig(temp, topK, topP, minP, typical, repeat, lastN, freq, pres, minKeep, seed, bias);
    }

    /**
     * {@code logit_bias}: OpenAI's object {"id": bias}, or llama-server's array [[id, bias|false], ...];
     * {@code false} bans the token.
     */
    private static Map<Integer, Float> logitBias(JsonNode body, int nVocab) {
        Map<Integer, Float> out = new HashMap<>();
        if (!JsonFields.has(body, "logit_bias")) {
            return out;
        }
        JsonNode lb = body.get("logit_bias");
        if (lb.isObject()) {
            for (Iterator<Map.Entry<String, JsonNode>> it = lb.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                int id;
                try {
                    id = Integer.parseInt(e.getKey());
                } catch (NumberFormatException ex) {
                    throw ApiException.invalid("'logit_bias' keys must be token ids, got '" + e.getKey() + "'");
                }
                out.put(checkId(id, nVocab), biasValue(e.getValue()));
            }
        } else if (lb.isArray()) {
            for (JsonNode pair : lb) {
                if (!pair.isArray() || pair.size() != 2 || !pair.get(0).isIntegralNumber()) {
                    throw ApiException.invalid("'logit_bias' entries must be [token_id, bias]");
                }
                out.put(checkId(pair.get(0).asInt(), nVocab), biasValue(pair.get(1)));
            }
        } else {
            throw ApiException.invalid("'logit_bias' must be an object {token_id: bias} or an array of [token_id, bias]");
        }
        return out;
    }

    private static int checkId(int id, int nVocab) {
        if (id < 0 || id >= nVocab) {
            throw ApiException.invalid("'logit_bias' token id " + id + " is outside the vocabulary (0.." + (nVocab - 1) + ")");
        }
        return id;
    }

    private static float biasValue(JsonNode v) {
        if (v.isBoolean() && !v.asBoolean()) {
            return Float.NEGATIVE_INFINITY;
        }
        if (!v.isNumber()) {
            throw ApiException.invalid("'logit_bias' values must be numbers (or false to ban a token)");
        }
        return (float) v.asDouble();
    }
}
