package dev.trestle.server.serving;

import dev.trestle.engine.grammar.GrammarMask;
import dev.trestle.engine.grammar.VocabTrie;
import dev.trestle.engine.runtime.Batch;
import dev.trestle.engine.runtime.Context;
import dev.trestle.engine.sampling.Sampler;
import dev.trestle.engine.sampling.TokenProb;
import dev.trestle.engine.tokenizer.Tokenizer;
import dev.trestle.engine.tokenizer.Utf8Stream;
import dev.trestle.server.http.ApiException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The continuous-batching loop: one thread owns the engine context and {@code -np} slots. Between decode
 * steps it admits queued requests into free slots (the slot with the longest cached prefix first), then
 * decodes one batch holding the next token of every generating slot plus prompt chunks of new ones.
 */
public final class ServingLoop implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(ServingLoop.class.getName());

    private final Context ctx;
    private final Tokenizer tokenizer;
    private final Slot[] slots;
    private final int slotCtx;
    private final int nBatch;
    private final BlockingQueue<Job> queue;
    private final ServerMetrics metrics;
    private final Thread thread;
    private volatile boolean running = true;
    private volatile List<SlotInfo> snapshot = List.of();
    // vocabulary tries for grammars, by the set of control tokens given text; built on first use, loop thread only
    private final java.util.Map<java.util.Set<Integer>, VocabTrie> tries = new java.util.HashMap<>();

    /** A read-only view of one slot for {@code /slots}. */
    public record SlotInfo(int id, boolean processing, int nCtx, int cachedTokens, int generated) {
    }

    public ServingLoop(Context ctx, Tokenizer tokenizer, int nParallel, int nBatch, int queueCapacity,
                       ServerMetrics metrics) {
        this.ctx = ctx;
        this.tokenizer = tokenizer;
        this.slots = new Slot[nParallel];
        for (int i = 0; i < nParallel; i++) {
            slots[i] = new Slot(i);
        }
        this.slotCtx = ctx.nCtx() / nParallel;
        this.nBatch = nBatch;
        this.queue = new ArrayBlockingQueue<>(Math.max(1, queueCapacity));
        this.metrics = metrics;
        this.thread = Thread.ofPlatform().name("trestle-serving").daemon(true).unstarted(this::run);
        publishSnapshot();
    }

    public void start() {
        thread.start();
    }

    /** Context cells per slot ({@code -c / -np}). */
    public int slotContext() {
        return slotCtx;
    }

    public int parallel() {
        return slots.length;
    }

    /**
     * Queues a request. Fails with 400 when its prompt cannot fit a slot's context, 503 when the queue is
     * full or the server is stopping.
     */
    public Job submit(GenerationRequest r) {
        int n = r.promptIds().length;
        if (n == 0) {
            throw ApiException.invalid("the prompt is empty");
        }
        if (n >= slotCtx) {
            throw new ApiException(400, "exceed_context_size_error", "the request exceeds the available context size: "
                    + "the prompt has " + n + " tokens, a slot holds " + slotCtx + " (-c " + ctx.nCtx() + " / -np "
                    + slots.length + "); shorten the prompt or start the server with a larger -c");
        }
        if (r.embedding() && n > nBatch) {
            throw ApiException.invalid("the input has " + n + " tokens, more than the batch size " + nBatch
                    + "; start the server with a larger -b/-ub or shorten the input");
        }
        if (!running) {
            throw ApiException.unavailable("the server is shutting down");
        }
        Job job = new Job(r);
        if (!queue.offer(job)) {
            throw ApiException.unavailable("the server is busy: " + queue.size()
                    + " requests are waiting; retry later or start it with a larger -np");
        }
        metrics.requestsTotal.incrementAndGet();
        return job;
    }

    /** Slots as of the last step. */
    public List<SlotInfo> slots() {
        return snapshot;
    }

    public int processing() {
        int n = 0;
        for (SlotInfo s : snapshot) {
            if (s.processing()) {
                n++;
            }
        }
        return n;
    }

    public int deferred() {
        return queue.size();
    }

    public double kvUsage() {
        return ctx.nCtx() == 0 ? 0 : (double) ctx.kvUsed() / ctx.nCtx();
    }

    public long kvTokens() {
        return ctx.kvUsed();
    }

    /** Stops accepting work, cancels queued and running jobs, and waits for the loop to end. */
    @Override
    public void close() {
        running = false;
        Job j;
        while ((j = queue.poll()) != null) {
            j.emit(new GenerationEvent.Failed(503, "the server is shutting down"));
        }
        try {
            thread.join(30_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void run() {
        Batch batch = new Batch();
        List<Slot> fed = new ArrayList<>();
        int[] fedCount = new int[slots.length];
        Slot[] entrySlot = new Slot[0];
        while (true) {
            if (!running) {
                for (Slot s : slots) {
                    if (s.busy()) {
                        finish(s, FinishReason.CANCELLED, null);
                    }
                }
                publishSnapshot();
                return;
            }
            admit();
            if (!anyBusy()) {
                try {
                    Job j = queue.poll(50, TimeUnit.MILLISECONDS);
                    if (j != null) {
                        assign(j);
                    }
                } catch (InterruptedException e) {
                    return;
                }
                continue;
            }
            for (Slot s : slots) {
                if (s.busy() && s.job.cancelled()) {
                    finish(s, FinishReason.CANCELLED, null);
                }
            }
            // build one batch: every generating slot's next token, then prompt chunks within -b
            batch.clear();
            fed.clear();
            if (entrySlot.length < nBatch + slots.length) {
                entrySlot = new Slot[nBatch + slots.length];
            }
            for (Slot s : slots) {
                if (s.state == Slot.State.GENERATING) {
                    entrySlot[batch.size()] = s;
                    batch.add(s.lastToken, s.nCached, s.id, true);
                    fed.add(s);
                    fedCount[s.id] = 1;
                }
            }
            for (Slot s : slots) {
                if (s.state != Slot.State.PROMPT) {
                    continue;
                }
                int remaining = s.prompt.length - s.promptNext;
                int budget = nBatch - batch.size();
                boolean embedding = s.job.request().embedding();
                if (budget <= 0 || (embedding && remaining > budget)) {
                    continue;
                }
                int take = Math.min(remaining, budget);
                if (s.promptNext == s.reusedPrefix) {
                    s.promptStartNanos = System.nanoTime();
                }
                for (int k = 0; k < take; k++) {
                    int idx = s.promptNext + k;
                    boolean last = idx == s.prompt.length - 1;
                    entrySlot[batch.size()] = s;
                    batch.add(s.prompt[idx], idx, s.id, last && !embedding);
                }
                fed.add(s);
                fedCount[s.id] = take;
            }
            if (batch.size() == 0) {
                continue;
            }
            try {
                ctx.decode(batch);
                metrics.decodeCalls.incrementAndGet();
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "decode failed", e);
                for (Slot s : fed) {
                    ctx.seqClear(s.id);
                    s.nCached = 0;
                    s.job.emit(new GenerationEvent.Failed(500, "inference failed: " + e.getMessage()));
                    s.release();
                }
                publishSnapshot();
                continue;
            }
            // account what entered the cache
            for (Slot s : fed) {
                if (s.state == Slot.State.GENERATING) {
                    s.append(s.lastToken);
                } else {
                    for (int k = 0; k < fedCount[s.id]; k++) {
                        s.append(s.prompt[s.promptNext + k]);
                    }
                    s.promptNext += fedCount[s.id];
                    if (s.job.request().embedding() && s.promptNext == s.prompt.length) {
                        float[] emb = ctx.embedding(s.id);
                        ctx.seqClear(s.id);
                        s.nCached = 0;
                        s.promptEndNanos = System.nanoTime();
                        finish(s, FinishReason.EOS, emb);
                    }
                }
            }
            for (int i = 0; i < batch.size(); i++) {
                if (batch.wantsLogits(i) && entrySlot[i].busy()) {
                    sampleNext(entrySlot[i], ctx.logits(i));
                }
            }
            publishSnapshot();
        }
    }

    private void sampleNext(Slot s, float[] logits) {
        GenerationRequest r = s.job.request();
        long now = System.nanoTime();
        if (s.state == Slot.State.PROMPT) {
            s.promptEndNanos = now;
            metrics.promptTokens.addAndGet(s.prompt.length - s.reusedPrefix);
            metrics.promptSeconds.add((now - s.promptStartNanos) / 1e9);
            s.state = Slot.State.GENERATING;
        } else {
            metrics.generationSeconds.add((now - s.lastTokenNanos) / 1e9);
        }
        s.lastTokenNanos = now;
        int token;
        try {
            token = s.sampler.sample(logits);
            if (s.constraint != null) {
                s.constraint.accept(token);
            }
        } catch (IllegalStateException e) {
            // the grammar (with logit_bias) left nothing to sample: a request problem, not a server fault
            s.job.emit(new GenerationEvent.Failed(400, "constrained decoding stopped: " + e.getMessage()
                    + "; check the grammar and logit_bias of the request"));
            s.release();
            publishSnapshot();
            return;
        }
        s.sampler.accept(token);
        List<List<TokenProb>> probs = null;
        if (r.logprobs()) {
            double lse = Sampler.logSumExp(logits); // one normalizer for the chosen token and the alternatives
            List<TokenProb> top = Sampler.topOfSoftmax(logits, Math.max(1, r.topLogprobs()), lse);
            List<TokenProb> entry = new ArrayList<>(top.size() + 1);
            entry.add(Sampler.softmaxProb(logits, token, lse));
            entry.addAll(top);
            probs = List.of(entry);
        }
        s.generated++;
        metrics.generatedTokens.incrementAndGet();
        if (tokenizer.isEog(token) && (!r.ignoreEos() || s.constraint != null)) {
            finish(s, FinishReason.EOS, null);
            return;
        }
        boolean special = !r.preservedTokens().isEmpty() && r.preservedTokens().contains(token);
        byte[] bytes = tokenizer.pieceBytes(token, special);
        if (s.untriggered != null) {
            triggerLazyGrammar(s, r, bytes);
        }
        String text = s.stops.push(s.utf8.push(bytes));
        s.job.emit(new GenerationEvent.Piece(text, new int[] {token}, probs));
        if (s.stops.stopped()) {
            finish(s, FinishReason.STOP_WORD, null);
        } else if (s.constraint != null && s.constraint.isFinished()) {
            finish(s, FinishReason.EOS, null);
        } else if ((r.maxTokens() >= 0 && s.generated >= r.maxTokens()) || s.nCached + 1 >= slotCtx) {
            finish(s, FinishReason.LENGTH, null);
        } else {
            s.lastToken = token;
        }
    }

    private void finish(Slot s, FinishReason reason, float[] embedding) {
        Job job = s.job;
        GenerationRequest r = job.request();
        String stoppingWord = null;
        if (reason == FinishReason.STOP_WORD) {
            stoppingWord = s.stops.matched();
        } else if (s.utf8 != null) {
            String tail = s.stops.push(s.utf8.flush()) + s.stops.flush();
            if (!tail.isEmpty()) {
                job.emit(new GenerationEvent.Piece(tail, new int[0], null));
            }
        }
        double promptMs = s.promptEndNanos > s.promptStartNanos ? (s.promptEndNanos - s.promptStartNanos) / 1e6 : 0;
        double genMs = s.generated > 0 && s.lastTokenNanos > s.promptEndNanos ? (s.lastTokenNanos - s.promptEndNanos) / 1e6 : 0;
        var usage = new GenerationEvent.Usage(s.prompt.length, s.reusedPrefix, s.generated, promptMs, genMs, s.id);
        job.emit(new GenerationEvent.Done(reason, stoppingWord, usage, embedding));
        s.release();
        publishSnapshot();
    }

    private void admit() {
        while (hasIdle() && !queue.isEmpty()) {
            Job j = queue.poll();
            if (j != null) {
                assign(j);
            }
        }
    }

    private void assign(Job job) {
        if (job.cancelled()) {
            job.emit(new GenerationEvent.Failed(499, "cancelled"));
            return;
        }
        GenerationRequest r = job.request();
        int[] prompt = r.promptIds();
        Slot best = null;
        int bestPrefix = -1;
        for (Slot s : slots) {
            if (s.busy()) {
                continue;
            }
            int p = r.cachePrompt() && !r.embedding() ? s.commonPrefix(prompt) : 0;
            if (p > bestPrefix || (p == bestPrefix && s.lastUsedNanos < best.lastUsedNanos)) {
                best = s;
                bestPrefix = p;
            }
        }
        Slot s = best;
        int reuse = Math.min(bestPrefix, prompt.length - 1); // the last prompt token is always re-fed for its logits
        if (reuse <= 0) {
            ctx.seqClear(s.id);
            s.nCached = 0;
            reuse = 0;
        } else {
            ctx.seqRemove(s.id, reuse);
            s.truncate(reuse);
        }
        s.job = job;
        s.prompt = prompt;
        s.promptNext = reuse;
        s.reusedPrefix = reuse;
        s.generated = 0;
        s.promptStartNanos = System.nanoTime();
        s.promptEndNanos = 0;
        s.state = Slot.State.PROMPT;
        s.utf8 = new Utf8Stream();
        s.stops = new StopMatcher(r.stops());
        s.sampler = new Sampler(r.sampling(), ctx.model().config().nVocab(), slotCtx);
        s.constraint = null;
        s.untriggered = null;
        if (r.grammar() != null && !r.grammarTriggers().isEmpty()) {
            s.untriggered = new java.io.ByteArrayOutputStream();
        } else if (r.grammar() != null) {
            s.constraint = new GrammarMask(r.grammar(), trie(r.preservedTokens()));
            s.sampler.setFilter(s.constraint::apply);
        }
        for (int t : prompt) {
            s.sampler.accept(t);
        }
    }

    /**
     * Watches the output for a lazy grammar's trigger; once one appears, the grammar takes over from the
     * trigger's first byte (the bytes from there on are fed to it). When those bytes already break the grammar
     * the output stays free, as it would have been without one.
     */
    private void triggerLazyGrammar(Slot s, GenerationRequest r, byte[] bytes) {
        int before = s.untriggered.size();
        s.untriggered.writeBytes(bytes);
        byte[] out = s.untriggered.toByteArray();
        int at = -1;
        for (String t : r.grammarTriggers()) {
            byte[] tb = t.getBytes(java.nio.charset.StandardCharsets.UTF_8);
            int i = indexOf(out, tb, Math.max(0, before - tb.length + 1));
            if (i >= 0 && (at < 0 || i < at)) {
                at = i;
            }
        }
        if (at < 0) {
            return;
        }
        s.untriggered = null;
        GrammarMask mask = new GrammarMask(r.grammar(), trie(r.preservedTokens()));
        if (mask.matcher().acceptBytes(java.util.Arrays.copyOfRange(out, at, out.length))) {
            s.constraint = mask;
            s.sampler.setFilter(mask::apply);
        } else {
            LOG.fine("lazy grammar triggered but the output already breaks it; leaving the output free");
        }
    }

    private static int indexOf(byte[] hay, byte[] needle, int from) {
        outer:
        for (int i = from; i + needle.length <= hay.length; i++) {
            for (int k = 0; k < needle.length; k++) {
                if (hay[i + k] != needle[k]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    /**
     * The vocabulary as a grammar sees it: control tokens have no text (a grammar never picks them) except the
     * request's preserved ones, such as a tool-call marker the grammar must produce.
     */
    private VocabTrie trie(java.util.Set<Integer> preserved) {
        VocabTrie t = tries.get(preserved);
        if (t != null) {
            return t;
        }
        if (preserved.isEmpty()) {
            t = VocabTrie.of(tokenizer);
        } else {
            int n = tokenizer.vocabSize();
            byte[][] bytes = new byte[n][];
            int[] eog = new int[n];
            int eogCount = 0;
            for (int id = 0; id < n; id++) {
                if (tokenizer.isEog(id)) {
                    eog[eogCount++] = id;
                }
                boolean special = preserved.contains(id);
                bytes[id] = tokenizer.isControl(id) && !special ? new byte[0] : tokenizer.pieceBytes(id, special);
            }
            t = new VocabTrie(bytes, java.util.Arrays.copyOf(eog, eogCount));
        }
        if (tries.size() >= 4) {
            tries.clear(); // a model has one tool format, so this only bounds odd request mixes
        }
        tries.put(Set.copyOf(preserved), t);
        return t;
    }

    private boolean hasIdle() {
        for (Slot s : slots) {
            if (!s.busy()) {
                return true;
            }
        }
        return false;
    }

    private boolean anyBusy() {
        for (Slot s : slots) {
            if (s.busy()) {
                return true;
            }
        }
        return false;
    }

    private void publishSnapshot() {
        List<SlotInfo> infos = new ArrayList<>(slots.length);
        for (Slot s : slots) {
            infos.add(new SlotInfo(s.id, s.busy(), slotCtx, s.nCached, s.generated));
        }
        snapshot = List.copyOf(infos);
    }
}
