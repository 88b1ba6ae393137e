package dev.trestle.engine.kv;

import dev.trestle.backends.cpu.Attention;
import dev.trestle.backends.type.GgmlType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * The KV cache: {@code nCells} cells, each holding one token's K and V rows for every layer in the cache types,
 * and the (sequence, position) that owns it. A cell belongs to one sequence; free cells have sequence -1.
 */
public final class KvCache implements AutoCloseable {
    private final int nCells;
    private final GgmlType kType;
    private final GgmlType vType;
    private final Arena arena = Arena.ofShared();
    private final Attention.KvView[] layers; // (n_layer) views over (n_cells, kv_dim) K and V rows
    private final int[] cellSeq;             // (n_cells) owning sequence or -1
    private final int[] cellPos;             // (n_cells) position of the token in its sequence

    public KvCache(int nLayer, int nCells, int kvDim, GgmlType kType, GgmlType vType) {
        this.nCells = nCells;
        this.kType = kType;
        this.vType = vType;
        long kRow = kType.bytesFor(kvDim);
        long vRow = vType.bytesFor(kvDim);
        layers = new Attention.KvView[nLayer];
        for (int l = 0; l < nLayer; l++) {
            MemorySegment k = arena.allocate(kRow * nCells, 64);
            MemorySegment v = arena.allocate(vRow * nCells, 64);
            layers[l] = new Attention.KvView(kType, k, kRow, vType, v, vRow);
        }
        cellSeq = new int[nCells];
        cellPos = new int[nCells];
        Arrays.fill(cellSeq, -1);
    }

    public int size() {
        return nCells;
    }

    public GgmlType kType() {
        return kType;
    }

    public GgmlType vType() {
        return vType;
    }

    public Attention.KvView layer(int l) {
        return layers[l];
    }

    public int seqOf(int cell) {
        return cellSeq[cell];
    }

    public int posOf(int cell) {
        return cellPos[cell];
    }

    /** Number of cells in use. */
    public int used() {
        int n = 0;
        for (int s : cellSeq) {
            if (s >= 0) {
                n++;
            }
        }
        return n;
    }

    /** Claims a free cell for (seq, pos), or returns -1 when the cache is full. */
    public int claim(int seq, int pos) {
        for (int c = 0; c < nCells; c++) {
            if (cellSeq[c] < 0) {
                cellSeq[c] = seq;
                cellPos[c] = pos;
                return c;
            }
        }
        return -1;
    }

    /** The cell holding (seq, pos), or -1. */
    public int find(int seq, int pos) {
        for (int c = 0; c < nCells; c++) {
            if (cellSeq[c] == seq && cellPos[c] == pos) {
                return c;
            }
        }
        return -1;
    }

    /** Frees the cells of {@code seq} at positions {@code >= fromPos}. */
    public void remove(int seq, int fromPos) {
        for (int c = 0; c < nCells; c++) {
            if (cellSeq[c] == seq && cellPos[c] >= fromPos) {
                cellSeq[c] = -1;
            }
        }
    }

    /** Frees every cell of {@code seq} ({@code seq < 0}: every cell). */
    public void clear(int seq) {
        for (int c = 0; c < nCells; c++) {
            if (seq < 0 || cellSeq[c] == seq) {
                cellSeq[c] = -1;
            }
        }
    }

    /** Largest position stored for {@code seq}, or -1. */
    public int maxPos(int seq) {
        int m = -1;
        for (int c = 0; c < nCells; c++) {
            if (cellSeq[c] == seq) {
                m = Math.max(m, cellPos[c]);
            }
        }
        return m;
    }

    /**
     * Collects the cells a query of {@code seq} at {@code pos} may attend to (causal, and within {@code nSwa}
     * positions when {@code nSwa > 0}) into {@code out}, in cell order; returns their count.
     */
    public int visible(int seq, int pos, int nSwa, int[] out) {
        int n = 0;
        for (int c = 0; c < nCells; c++) {
            if (cellSeq[c] == seq && cellPos[c] <= pos && (nSwa <= 0 || pos - cellPos[c] < nSwa)) {
                out[n++] = c;
            }
        }
        return n;
    }

    @Override
    public void close() {
        arena.close();
    }
}
