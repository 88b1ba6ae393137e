package dev.trestle.engine.model;

/**
 * One micro-batch as the forward pass sees it: token, position, sequence and cache cell of each row.
 *
 * @param n      rows
 * @param tokens (n) token ids
 * @param pos    (n) positions
 * @param seq    (n) sequence ids
 * @param cells  (n) KV cells the rows write
 */
public record UBatch(int n, int[] tokens, int[] pos, int[] seq, int[] cells) {
}
