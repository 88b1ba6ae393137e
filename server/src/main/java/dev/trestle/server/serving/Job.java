package dev.trestle.server.serving;

import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** A submitted request: its events flow to the HTTP handler; the handler may cancel it at any time. */
public final class Job {
    private final GenerationRequest request;
    private final BlockingQueue<GenerationEvent> events = new LinkedBlockingQueue<>();
    private volatile boolean cancelled;

    Job(GenerationRequest request) {
        this.request = request;
    }

    public GenerationRequest request() {
        return request;
    }

    /** Asks the loop to stop this job; its slot is freed within one decode step. */
    public void cancel() {
        cancelled = true;
    }

    public boolean cancelled() {
        return cancelled;
    }

    /** The next event, waiting at most {@code timeoutMs}; null on timeout. */
    public GenerationEvent next(long timeoutMs) throws InterruptedException {
        return events.poll(timeoutMs, TimeUnit.MILLISECONDS);
    }

    void emit(GenerationEvent e) {
        events.add(e);
    }
}
