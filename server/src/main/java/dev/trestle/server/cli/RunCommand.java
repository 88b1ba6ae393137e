package dev.trestle.server.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.trestle.backends.cpu.CpuThreadPool;
import dev.trestle.backends.cpu.RowQuantizer;
import dev.trestle.common.TrestleException;
import dev.trestle.engine.gguf.GgufFile;
import dev.trestle.engine.grammar.GbnfParser;
import dev.trestle.engine.grammar.GrammarMask;
import dev.trestle.engine.grammar.VocabTrie;
import dev.trestle.engine.runtime.Context;
import dev.trestle.engine.runtime.EngineOptions;
import dev.trestle.engine.runtime.FlashAttn;
import dev.trestle.engine.runtime.Generation;
import dev.trestle.engine.runtime.Model;
import dev.trestle.scheduler.memory.ContextSettings;
import dev.trestle.engine.tokenizer.Tokenizer;
import dev.trestle.engine.tokenizer.Utf8Stream;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import dev.trestle.engine.sampling.Sampler;
import dev.trestle.engine.sampling.SamplerConfig;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code trestle run}: generate from a prompt, streaming text (or one JSON object); layers run where the
 * placement flags put them (CPU or Vulkan devices).
 */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = "Generate text from a prompt (greedy) and print prompt/generation speed.")
public final class RunCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = {"-p", "--prompt"}, paramLabel = "TEXT", description = "prompt text (needs the model's tokenizer)")
    String prompt;

    @Option(names = "--prompt-ids", split = ",", paramLabel = "ID,...", description = "prompt as token ids")
    int[] promptIds;

    @Option(names = {"-n", "--n-predict"}, defaultValue = "128", description = "tokens to generate (default ${DEFAULT-VALUE})")
    int nPredict;

    @Option(names = {"-t", "--threads"}, description = "CPU threads (default: all cores)")
    Integer threads;

    @Mixin
    ModelSourceFlags source;

    @Mixin
    SamplingFlags sampling;

    @Mixin
    ContextFlags context = new ContextFlags();

    @Mixin
    PlacementFlags placement = new PlacementFlags();

    @Mixin
    GrammarFlags grammar = new GrammarFlags();

    @Option(names = "--json", description = "print one JSON object instead of text")
    boolean json;

    @Option(names = "--top-logits", defaultValue = "-1",
            description = "with --json: top K (id, logit) pairs per step (0 = the full vector)")
    int topLogits;

    @Option(names = "--top-steps", defaultValue = "3", description = "with --top-logits: how many first steps")
    int topSteps;

    @Option(names = "--teacher-ids", split = ",", paramLabel = "ID,...",
            description = "feed these ids instead of sampling and report logits of every step")
    int[] teacherIds;

    @Override
    public Integer call() throws Exception {
        if ((prompt == null) == (promptIds == null)) {
            throw new TrestleException("pass exactly one of -p and --prompt-ids", "e.g. -p \"Once upon a time\"");
        }
        ContextSettings cs = context.toSettings();
        EngineOptions opts = new EngineOptions(cs.nCtx(), cs.nBatch(), cs.nUbatch(), 1,
                RowQuantizer.cacheType(cs.typeK().llamaName()), RowQuantizer.cacheType(cs.typeV().llamaName()),
                FlashAttn.parse(cs.flashAttn().name()), threads != null ? threads : CpuThreadPool.defaultThreads());
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (!source.given()) {
            throw new TrestleException("no model given", "pass -m FILE.gguf, -hf USER/REPO[:QUANT], or --demo");
        }
        Path model = source.resolveAndReport(System.getenv(), err).path();
        try (Model m = Model.load(GgufFile.open(model), opts);
             Context c = m.newContext(opts, GpuOffload.resolve(m.file(), placement, context, m.config().nLayer()))) {
            Tokenizer tok = null;
            int[] ids = promptIds;
            if (prompt != null) {
                tok = Tokenizer.fromGguf(m.file().metadata());
                ids = tok.encode(prompt, true, true);
            } else {
                try {
                    tok = Tokenizer.fromGguf(m.file().metadata());
                } catch (TrestleException noTokenizer) {
                    tok = null; // token-id prompt on a vocab-less model: print ids
                }
            }
            final Tokenizer t = tok;
            int keep = teacherIds != null ? teacherIds.length : (topLogits >= 0 ? topSteps : 0);
            Utf8Stream utf8 = new Utf8Stream();
            if (!json && prompt != null) {
                out.print(prompt);
                out.flush();
            }
            String gbnf = grammar.gbnf();
            GrammarMask mask = null;
            if (gbnf != null) {
                if (t == null || teacherIds != null) {
                    throw new TrestleException("a grammar needs the model's tokenizer and no --teacher-ids",
                            "use -p with a model that has a vocabulary, without --teacher-ids");
                }
                mask = new GrammarMask(GbnfParser.parse(gbnf), VocabTrie.of(t));
            }
            SamplerConfig sc = sampling.toConfig();
            Sampler sampler = sc.isGreedy() ? null : new Sampler(sc, m.config().nVocab(), c.nCtx());
            Generation.Result r = Generation.run(c, ids, nPredict, teacherIds, keep,
                    t != null ? t::isEog : null, id -> {
                        if (!json) {
                            out.print(t != null ? utf8.push(t.pieceBytes(id, false)) : id + " ");
                            out.flush();
                        }
                    }, mask, sampler);
            if (json) {
                out.println(toJson(ids, r, t));
            } else {
                out.println(utf8.flush());
            }
            out.flush();
            int gen = r.generated().length;
            err.printf("prompt: %d tokens in %.1f ms (%.2f tokens/s)%n", ids.length, r.promptMs(),
                    ids.length * 1000.0 / Math.max(r.promptMs(), 1e-9));
            err.printf("generation: %d tokens in %.1f ms (%.2f tokens/s)%n", gen, r.genMs(),
                    Math.max(gen - 1, 0) * 1000.0 / Math.max(r.genMs(), 1e-9));
            err.flush();
        }
        return 0;
    }

    private String toJson(int[] promptIds, Generation.Result r, Tokenizer tok) throws Exception {
        ObjectMapper om = new ObjectMapper();
        ObjectNode o = om.createObjectNode();
        ArrayNode p = o.putArray("prompt_ids");
        Arrays.stream(promptIds).forEach(p::add);
        ArrayNode g = o.putArray("generated_ids");
        Arrays.stream(r.generated()).forEach(g::add);
        if (tok != null) {
            StringBuilder sb = new StringBuilder();
            Utf8Stream s = new Utf8Stream();
            for (int id : r.generated()) {
                sb.append(s.push(tok.pieceBytes(id, false)));
            }
            o.put("text", sb.append(s.flush()).toString());
        } else {
            o.putNull("text");
        }
        ObjectNode timings = o.putObject("timings");
        timings.put("prompt_n", promptIds.length);
        timings.put("prompt_ms", r.promptMs());
        timings.put("predicted_n", r.generated().length);
        timings.put("predicted_ms", r.genMs());
        if (!r.stepLogits().isEmpty()) {
            ArrayNode steps = o.putArray("logits");
            int k = topLogits <= 0 ? Integer.MAX_VALUE : topLogits;
            for (int s = 0; s < r.stepLogits().size(); s++) {
                float[] l = r.stepLogits().get(s);
                ObjectNode step = steps.addObject();
                step.put("step", s);
                ArrayNode top = step.putArray("top");
                Integer[] order = new Integer[l.length];
                for (int i = 0; i < l.length; i++) {
                    order[i] = i;
                }
                if (topLogits > 0) {
                    Arrays.sort(order, (a, b) -> l[a] != l[b] ? Float.compare(l[b], l[a]) : Integer.compare(a, b));
                }
                for (int i = 0; i < Math.min(k, l.length); i++) {
                    ArrayNode pair = top.addArray();
                    pair.add(order[i]);
                    pair.add(l[order[i]]);
                }
            }
        }
        return om.writeValueAsString(o);
    }
}
