package dev.trestle.server.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.trestle.common.TrestleException;
import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Prints {@code trestle bench} results in llama-bench's formats: md, csv, json, jsonl. */
abstract class BenchPrinter {
    protected final PrintWriter out;

    BenchPrinter(PrintWriter out) {
        this.out = out;
    }

    /** The printer for {@code -o NAME}. {@code extraColumns} are the md columns between backend and test. */
    static BenchPrinter of(String name, PrintWriter out, List<String> extraColumns, String build) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "md" -> new Markdown(out, extraColumns, build);
            case "csv" -> new Csv(out);
            case "json" -> new Json(out);
            case "jsonl" -> new JsonLines(out);
            default -> throw new TrestleException("-o " + name + " is not an output format", "use -o md, csv, json or jsonl");
        };
    }

    void header() {
    }

    abstract void test(BenchResult r);

    void footer() {
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    static String json(Map<String, Object> m, boolean pretty) {
        try {
            return pretty ? JSON.copy().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(m)
                    : JSON.writeValueAsString(m);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** llama-bench's default table: model, size, params, backend, threads, the non-default settings, test, t/s. */
    static final class Markdown extends BenchPrinter {
        private final List<String> extra;
        private final String build;

        Markdown(PrintWriter out, List<String> extra, String build) {
            super(out);
            this.extra = extra;
            this.build = build;
        }

        private List<String> columns() {
            List<String> c = new java.util.ArrayList<>(List.of("model", "size", "params", "backend", "n_threads"));
            c.addAll(extra);
            c.add("test");
            c.add("t/s");
            return c;
        }

        private static int width(String f) {
            return switch (f) {
                case "model" -> -30;
                case "t/s" -> 20;
                case "size", "params" -> 10;
                case "n_threads", "n_batch" -> 7;
                case "n_ubatch" -> 8;
                case "type_k", "type_v" -> 6;
                case "flash_attn", "n_gpu_layers" -> 3;
                case "test" -> 15;
                case "backend" -> -10;
                default -> Math.max(f.length(), 10);
            };
        }

        private static String display(String f) {
            return switch (f) {
                case "n_threads" -> "threads";
                case "n_gpu_layers" -> "ngl";
                case "flash_attn" -> "fa";
                case "tensor_split" -> "ts";
                default -> f;
            };
        }

        private static String pad(String s, int w) {
            return w < 0 ? String.format(Locale.ROOT, "%-" + (-w) + "s", s) : String.format(Locale.ROOT, "%" + w + "s", s);
        }

        @Override
        void header() {
            StringBuilder h = new StringBuilder("|");
            StringBuilder u = new StringBuilder("|");
            for (String f : columns()) {
                int w = width(f);
                h.append(' ').append(pad(display(f), w)).append(" |");
                u.append(' ').append("-".repeat(Math.abs(w) - 1)).append(w > 0 ? ":" : "-").append(" |");
            }
            out.println(h);
            out.println(u);
            out.flush();
        }

        @Override
        void test(BenchResult r) {
            Map<String, Object> m = r.fields();
            StringBuilder row = new StringBuilder("|");
            for (String f : columns()) {
                String v = switch (f) {
                    case "model" -> String.valueOf(m.get("model_type"));
                    case "size" -> size(((Number) m.get("model_size")).longValue());
                    case "params" -> params(((Number) m.get("model_n_params")).longValue());
                    case "backend" -> String.valueOf(m.get("backends"));
                    case "test" -> r.testName();
                    case "t/s" -> String.format(Locale.ROOT, "%.2f \u00b1 %.2f", r.avgTs(), r.stddevTs());
                    default -> String.valueOf(m.get(f));
                };
                row.append(' ').append(pad(v, width(f))).append(" |");
            }
            out.println(row);
            out.flush();
        }

        @Override
        void footer() {
            out.println();
            out.println("build: " + build);
            out.flush();
        }

        static String size(long bytes) {
            return bytes < 1024L * 1024 * 1024 ? String.format(Locale.ROOT, "%.2f MiB", bytes / 1024.0 / 1024.0)
                    : String.format(Locale.ROOT, "%.2f GiB", bytes / 1024.0 / 1024.0 / 1024.0);
        }

        static String params(long n) {
            return n < 1_000_000_000L ? String.format(Locale.ROOT, "%.2f M", n / 1e6)
                    : String.format(Locale.ROOT, "%.2f B", n / 1e9);
        }
    }

    /** One header line of every field, then one line per test, every value quoted (as llama-bench). */
    static final class Csv extends BenchPrinter {
        Csv(PrintWriter out) {
            super(out);
        }

        @Override
        void header() {
            out.println(String.join(",", BenchResult.FIELDS));
            out.flush();
        }

        @Override
        void test(BenchResult r) {
            Map<String, Object> m = r.allFields();
            StringBuilder sb = new StringBuilder();
            for (String f : BenchResult.FIELDS) {
                Object v = m.get(f);
                String s = v instanceof Boolean b ? (b ? "1" : "0")
                        : v instanceof Double d ? String.format(Locale.ROOT, "%.6f", d) : String.valueOf(v);
                sb.append(sb.isEmpty() ? "" : ",").append('"').append(s.replace("\"", "\"\"")).append('"');
            }
            out.println(sb);
            out.flush();
        }
    }

    /** A JSON array of one object per test. */
    static final class Json extends BenchPrinter {
        private boolean first = true;

        Json(PrintWriter out) {
            super(out);
        }

        @Override
        void header() {
            out.println("[");
            out.flush();
        }

        @Override
        void test(BenchResult r) {
            if (!first) {
                out.println(",");
            }
            first = false;
            out.print(json(r.allFields(), true));
            out.flush();
        }

        @Override
        void footer() {
            out.println();
            out.println("]");
            out.flush();
        }
    }

    /** One JSON object per line. */
    static final class JsonLines extends BenchPrinter {
        JsonLines(PrintWriter out) {
            super(out);
        }

        @Override
        void test(BenchResult r) {
            out.println(json(r.allFields(), false));
            out.flush();
        }
    }
}
