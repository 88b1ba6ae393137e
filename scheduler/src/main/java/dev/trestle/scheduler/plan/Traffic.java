package dev.trestle.scheduler.plan;

/**
 * Bytes one generated token reads from one memory.
 *
 * @param deviceId         "CPU", "CUDA0" ...
 * @param weightBytes      weights read per token (active experts only; one embedding row)
 * @param rowSplitBytes    the part of {@code weightBytes} that is a row slice read in parallel with the other GPUs
 * @param kvBytesFullCtx   KV cache read per token once the context is full
 * @param bandwidth        bytes per second (0: unknown)
 * @param bandwidthSource  "--bandwidth", "known default for ..." or "unknown"
 */
public record Traffic(String deviceId, long weightBytes, long rowSplitBytes, long kvBytesFullCtx, double bandwidth,
                      String bandwidthSource) {
}
