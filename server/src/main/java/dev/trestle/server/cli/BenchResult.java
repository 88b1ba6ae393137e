package dev.trestle.server.cli;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One measured test of {@code trestle bench}: what ran (llama-bench's field names and values) and the time of
 * each repetition. Throughput is tokens (prompt + generated) over wall time, as llama-bench counts it.
 *
 * @param fields    llama-bench's fields in its order, values as JSON-ready Java objects (String, Long, Boolean)
 * @param samplesNs wall time of each timed repetition
 */
record BenchResult(Map<String, Object> fields, List<Long> samplesNs) {

    /** llama-bench's JSON field names, in its order (avg/stddev are computed here). */
    static final List<String> FIELDS = List.of(
            "build_commit", "build_number", "cpu_info", "gpu_info", "backends",
            "model_filename", "model_type", "model_size", "model_n_params", "n_batch",
            "n_ubatch", "n_threads", "cpu_mask", "cpu_strict", "poll",
            "type_k", "type_v", "n_gpu_layers", "n_cpu_moe", "split_mode",
            "main_gpu", "no_kv_offload", "flash_attn", "devices", "tensor_split",
            "tensor_buft_overrides", "load_mode", "lazy_mode", "embeddings",
            "no_op_offload", "no_host", "fit_target", "fit_min_ctx",
            "n_prompt", "n_gen", "n_depth",
            "test_time", "avg_ns", "stddev_ns", "avg_ts", "stddev_ts");

    int nPrompt() {
        return ((Number) fields.get("n_prompt")).intValue();
    }

    int nGen() {
        return ((Number) fields.get("n_gen")).intValue();
    }

    int nDepth() {
        return ((Number) fields.get("n_depth")).intValue();
    }

    /** Tokens per second of each repetition. */
    double[] samplesTs() {
        double[] ts = new double[samplesNs.size()];
        int tokens = nPrompt() + nGen();
        for (int i = 0; i < ts.length; i++) {
            ts[i] = 1e9 * tokens / samplesNs.get(i);
        }
        return ts;
    }

    double avgTs() {
        return mean(samplesTs());
    }

    double stddevTs() {
        return stddev(samplesTs());
    }

    /** "pp512", "tg128", "pp512+tg128", with " @ d4096" for a depth. */
    String testName() {
        String s = nPrompt() > 0 && nGen() == 0 ? "pp" + nPrompt()
                : nGen() > 0 && nPrompt() == 0 ? "tg" + nGen()
                : "pp" + nPrompt() + "+tg" + nGen();
        return nDepth() > 0 ? s + " @ d" + nDepth() : s;
    }

    /** Every field, including the derived averages and the samples, in llama-bench's order. */
    Map<String, Object> allFields() {
        Map<String, Object> m = new LinkedHashMap<>(fields);
        double[] ns = samplesNs.stream().mapToDouble(Long::doubleValue).toArray();
        m.put("avg_ns", Math.round(mean(ns)));
        m.put("stddev_ns", Math.round(stddev(ns)));
        m.put("avg_ts", avgTs());
        m.put("stddev_ts", stddevTs());
        Map<String, Object> ordered = new LinkedHashMap<>();
        for (String f : FIELDS) {
            ordered.put(f, m.get(f));
        }
        ordered.put("samples_ns", samplesNs);
        ordered.put("samples_ts", samplesTs());
        return ordered;
    }

    static double mean(double[] v) {
        double s = 0;
        for (double x : v) {
            s += x;
        }
        return v.length == 0 ? 0 : s / v.length;
    }

    /** Sample standard deviation (n - 1), 0 for fewer than two samples, as llama-bench. */
    static double stddev(double[] v) {
        if (v.length < 2) {
            return 0;
        }
        double m = mean(v);
        double s = 0;
        for (double x : v) {
            s += (x - m) * (x - m);
        }
        return Math.sqrt(s / (v.length - 1));
    }
}
