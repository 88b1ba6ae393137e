package dev.trestle.engine.model;

import dev.trestle.backends.cpu.ActivationRows;
import dev.trestle.backends.type.GgmlType;
import java.util.HashMap;
import java.util.Map;

/** Buffers for one micro-batch of up to {@code nTokens} rows, allocated once per context. */
public final class ForwardState {
    final int nTokens;
    final float[] x;        // (n_tokens, n_embd) residual stream
    final float[] cur;      // (n_tokens, n_embd) normed input of a sub-block
    final float[] q;        // (n_tokens, n_head * head_dim)
    final float[] k;        // (n_tokens, kv_dim)
    final float[] v;        // (n_tokens, kv_dim)
    final float[] qkv;      // (n_tokens, q_dim + 2 kv_dim) fused projection output
    final float[] attn;     // (n_tokens, n_head * head_dim) attention output
    final float[] proj;     // (n_tokens, n_embd) projection output
    final float[] gate;     // (n_tokens * n_slots, max ff) FFN gate / fused gate-up
    final float[] up;       // (n_tokens * n_slots, max ff)
    final float[] ffnOut;   // (n_tokens * n_slots, n_embd)
    final float[] shared;   // (n_tokens, n_embd) shared-expert output
    final float[] router;   // (n_tokens, n_expert) router logits / probabilities
    final int[] selected;   // (n_tokens, n_expert_used) chosen experts
    final float[] weights;  // (n_tokens, n_expert_used) routing weights
    final int[] rowsA;      // (n_tokens * n_slots) gather lists for one expert
    final int[] rowsB;      // (n_tokens * n_slots)
    final float[] ropeCache; // (n_rot) cos/sin of one position
    final int[] visible;    // (n_cells) cells visible to one query
    final float[] hidden;   // (n_tokens, n_embd) final normed hidden state (embeddings)
    private final Map<Long, ActivationRows> acts = new HashMap<>();

    public ForwardState(ModelConfig c, int nTokens, int nCells) {
        this.nTokens = nTokens;
        int slots = Math.max(1, c.nExpertUsed());
        int ff = Math.max(2 * c.nFf(), Math.max(c.nFfExp(), c.nFfShexp()));
        x = new float[nTokens * c.nEmbd()];
        cur = new float[nTokens * c.nEmbd()];
        q = new float[nTokens * c.qDim()];
        k = new float[nTokens * c.kvDim()];
        v = new float[nTokens * c.kvDim()];
        qkv = new float[nTokens * (c.qDim() + 2 * c.kvDim())];
        attn = new float[nTokens * c.qDim()];
        proj = new float[nTokens * c.nEmbd()];
        gate = new float[nTokens * slots * ff];
        up = new float[nTokens * slots * ff];
        ffnOut = new float[nTokens * slots * c.nEmbd()];
        shared = new float[nTokens * c.nEmbd()];
        router = new float[nTokens * Math.max(1, c.nExpert())];
        selected = new int[nTokens * slots];
        weights = new float[nTokens * slots];
        rowsA = new int[nTokens * slots];
        rowsB = new int[nTokens * slots];
        ropeCache = new float[Math.max(2, c.nRot())];
        visible = new int[nCells];
        hidden = new float[nTokens * c.nEmbd()];
    }

    /** Activation buffer in {@code format} for rows of {@code cols} (created on first use, then reused). */
    ActivationRows act(GgmlType format, int cols, int rows) {
        long key = ((long) format.id() << 40) | ((long) cols << 8);
        ActivationRows a = acts.get(key);
        if (a == null || a.rowCapacity() < rows) {
            a = new ActivationRows(format, Math.max(rows, nTokens), cols);
            acts.put(key, a);
        }
        return a;
    }

    /** Final normed hidden states, row-major (n_tokens, n_embd). */
    public float[] hidden() {
        return hidden;
    }
}
