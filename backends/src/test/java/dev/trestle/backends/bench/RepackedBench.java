package dev.trestle.backends.bench;

import dev.trestle.backends.cpu.ActivationRows;
import dev.trestle.backends.cpu.kernel.RepackedKernel;
import dev.trestle.backends.cpu.kernel.RowKernel;
import dev.trestle.backends.cpu.kernel.RowKernels;
import dev.trestle.backends.quant.Codecs;
import dev.trestle.backends.quant.QuantCodec;
import dev.trestle.backends.type.GgmlType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * One thread, the plain row kernel against the repacked one on the same Llama-1B FFN matrix (2048 x 8192):
 * {@code matvec} (decode) and {@code matmul} (64 tokens, prefill). GB/s of weights = stored bytes printed at
 * setup / time per op (the repacked layout reads its own, slightly larger, copy).
 * {@code mvn -Pbench -pl backends -am test-compile exec:exec -Djmh.args="RepackedBench"}
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class RepackedBench {
    private static final int COLS = 2048;
    private static final int ROWS = 8192;
    private static final int PREFILL = 64;
    private static final int TOKEN_TILE = 32;

    @Param({"Q4_K", "Q5_K", "Q6_K"})
    public String type;

    @Param({"plain", "repacked"})
    public String layout;

    private Arena arena;
    private RowKernel plain;
    private RepackedKernel repacked;
    private MemorySegment stored;
    private MemorySegment packed;
    private long rowBytes;
    private long groupBytes;
    private ActivationRows act1;
    private ActivationRows actN;
    private float[] out;

    @Setup(Level.Trial)
    public void setup() {
        GgmlType t = GgmlType.valueOf(type);
        arena = Arena.ofShared();
        plain = RowKernels.forType(t, "bench");
        repacked = RowKernels.repackedFor(t);
        Random rnd = new Random(42);
        rowBytes = t.bytesFor(COLS);
        stored = arena.allocate(rowBytes * ROWS, 64);
        // a pool of really quantized rows repeated, as KernelBench does
        QuantCodec codec = Codecs.quantizerOf(t);
        float[] row = new float[COLS];
        for (int r = 0; r < 16; r++) {
            for (int i = 0; i < COLS; i++) {
                row[i] = (float) (rnd.nextGaussian() * 0.5);
            }
            codec.quantize(row, 0, stored, r * rowBytes, COLS);
        }
        for (int r = 16; r < ROWS; r++) {
            MemorySegment.copy(stored, (long) rnd.nextInt(16) * rowBytes, stored, r * rowBytes, rowBytes);
        }
        groupBytes = repacked.groupBytes(COLS);
        int g = repacked.groupRows();
        packed = arena.allocate(groupBytes * (ROWS / g), 64);
        for (int grp = 0; grp < ROWS / g; grp++) {
            repacked.repack(stored, grp * g * rowBytes, rowBytes, COLS, packed, grp * groupBytes);
        }
        System.out.printf("%n%s weights: %d bytes stored, %d bytes repacked%n", t, rowBytes * ROWS, packed.byteSize());
        float[] x = new float[PREFILL * COLS];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) rnd.nextGaussian();
        }
        act1 = new ActivationRows(GgmlType.Q8_K, 1, COLS);
        act1.load(x, 0, COLS, 1, COLS);
        actN = new ActivationRows(GgmlType.Q8_K, PREFILL, COLS);
        actN.load(x, 0, COLS, PREFILL, COLS);
        out = new float[PREFILL * ROWS];
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
    }

    private void run(ActivationRows a, int tokens) {
        if (layout.equals("repacked")) {
            int g = repacked.groupRows();
            for (int grp = 0; grp < ROWS / g; grp++) {
                repacked.multiply(packed, grp * groupBytes, COLS, a, null, null, tokens, out, ROWS, grp * g);
            }
        } else if (tokens == 1) {
            for (int r = 0; r < ROWS; r++) {
                out[r] = plain.dot(stored, r * rowBytes, a, 0, COLS);
            }
        } else {
            // CpuMatrix's plain path: token tiles of 32, every row against the tile
            for (int t0 = 0; t0 < tokens; t0 += TOKEN_TILE) {
                int tn = Math.min(TOKEN_TILE, tokens - t0);
                for (int r = 0; r < ROWS; r++) {
                    plain.dotTokens(stored, r * rowBytes, a, t0 * COLS, COLS, tn, out, t0 * ROWS + r, ROWS);
                }
            }
        }
    }

    @Benchmark
    public float matvec() {
        run(act1, 1);
        return out[7];
    }

    @Benchmark
    public float matmul() {
        run(actN, PREFILL);
        return out[7];
    }
}
