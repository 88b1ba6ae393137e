package dev.trestle.server.serving;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.DoubleAdder;

/** Counters behind {@code GET /metrics} (Prometheus text format, llama-server's metric names). */
public final class ServerMetrics {
    final AtomicLong promptTokens = new AtomicLong();
    final AtomicLong generatedTokens = new AtomicLong();
    final DoubleAdder promptSeconds = new DoubleAdder();
    final DoubleAdder generationSeconds = new DoubleAdder();
    final AtomicLong requestsTotal = new AtomicLong();
    final AtomicLong decodeCalls = new AtomicLong();

    /** Renders the metrics; live gauges are passed in by the serving loop. */
    public String render(int processing, int deferred, double kvUsageRatio, long kvTokens) {
        StringBuilder sb = new StringBuilder();
        counter(sb, "prompt_tokens_total", "Number of prompt tokens processed.", promptTokens.get());
        counter(sb, "prompt_seconds_total", "Prompt process time", promptSeconds.sum());
        counter(sb, "tokens_predicted_total", "Number of generation tokens processed.", generatedTokens.get());
        counter(sb, "tokens_predicted_seconds_total", "Predict process time", generationSeconds.sum());
        counter(sb, "n_decode_total", "Total number of llama_decode() calls", decodeCalls.get());
        counter(sb, "requests_total", "Number of completion requests received.", requestsTotal.get());
        double ps = promptSeconds.sum();
        double gs = generationSeconds.sum();
        gauge(sb, "prompt_tokens_seconds", "Average prompt throughput in tokens/s.",
                ps > 0 ? promptTokens.get() / ps : 0);
        gauge(sb, "predicted_tokens_seconds", "Average generation throughput in tokens/s.",
                gs > 0 ? generatedTokens.get() / gs : 0);
        gauge(sb, "kv_cache_usage_ratio", "KV-cache usage. 1 means 100 percent usage.", kvUsageRatio);
        gauge(sb, "kv_cache_tokens", "KV-cache tokens.", kvTokens);
        gauge(sb, "requests_processing", "Number of requests processing.", processing);
        gauge(sb, "requests_deferred", "Number of requests deferred.", deferred);
        return sb.toString();
    }

    private static void counter(StringBuilder sb, String name, String help, double v) {
        metric(sb, "counter", name, help, v);
    }

    private static void gauge(StringBuilder sb, String name, String help, double v) {
        metric(sb, "gauge", name, help, v);
    }

    private static void metric(StringBuilder sb, String kind, String name, String help, double v) {
        String full = "llamacpp:" + name;
        sb.append("# HELP ").append(full).append(' ').append(help).append('\n');
        sb.append("# TYPE ").append(full).append(' ').append(kind).append('\n');
        sb.append(full).append(' ');
        if (v == Math.rint(v) && Math.abs(v) < 1e15) {
            sb.append((long) v);
        } else {
            sb.append(v);
        }
        sb.append('\n');
    }
}
