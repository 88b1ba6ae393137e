package dev.trestle.backends.bench;

import dev.trestle.backends.cpu.ActivationRows;
import dev.trestle.backends.cpu.Attention;
import dev.trestle.backends.cpu.CpuMatrix;
import dev.trestle.backends.cpu.CpuOps;
import dev.trestle.backends.cpu.CpuThreadPool;
import dev.trestle.backends.cpu.MatmulJob;
import dev.trestle.backends.cpu.Rope;
import dev.trestle.backends.quant.Codecs;
import dev.trestle.backends.quant.QuantCodec;
import dev.trestle.backends.type.GgmlType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
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
 * JMH microbenchmarks of the CPU hot kernels (run with {@code mvn -Pbench}, never by the test suite).
 *
 * <p>{@code matvec}: one token through a matrix of 2048 columns and {@code rows} rows (8192: a Llama-1B FFN
 * matrix, in cache), the decode case; with {@code -p rows=131072} it streams from DRAM: divide the weight bytes
 * printed at setup by the time per op for GB/s and compare with {@code stream}, the same bytes only read.
 * {@code matmul}: 64 tokens, the prefill case. {@code repack=false} measures the plain in-place kernels of types
 * that have a repacked layout (Q4_0, Q8_0), for an A/B in one run. {@code attention}: one token's 32 heads over a 4096-cell F16
 * cache. {@code rmsNorm}/{@code rope}: one 2048-wide row.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class KernelBench {
    private static final int COLS = 2048;
    private static final int PREFILL = 64;

    @Param({"Q4_0", "Q8_0", "Q4_K", "Q5_K", "Q6_K", "F16", "BF16"})
    public String type;

    @Param({"2"})
    public int threads;

    /**
     * Rows of the {@code matvec}/{@code matmul} matrix (2048 columns): 8192 stays in a large L3 (kernel speed);
     * {@code -p rows=131072} streams from DRAM (decode's case: compare GB/s with {@code stream}).
     */
    @Param({"8192"})
    public int rows;

    /** Load-time repacked layout where the type has one (the engine's default) or the plain kernel. */
    @Param({"true", "false"})
    public boolean repack;

    private Arena arena;
    private CpuThreadPool pool;
    private MatmulJob job;
    private CpuMatrix matrix;
    private ActivationRows act1;
    private ActivationRows actN;
    private float[] out;
    private float[] row;
    private float[] normW;
    private float[] ropeCache;
    private Rope rope;
    private Attention attention;
    private Attention.KvView kv;
    private int[] cells;
    private float[] q;
    private float[] attnOut;
    private MemorySegment streamed;
    private final int[] streamSums = new int[64];

    @Setup(Level.Trial)
    public void setup() {
        GgmlType t = GgmlType.valueOf(type);
        System.setProperty("trestle.cpu.repack", Boolean.toString(repack)); // read when the matrix is built
        arena = Arena.ofShared();
        pool = new CpuThreadPool(threads);
        job = new MatmulJob(pool);
        Random rnd = new Random(42);
        matrix = new CpuMatrix("bench", t, randomRows(t, rows, COLS, rnd), new long[] {COLS, rows});
        long bytes = t.bytesFor((long) rows * COLS);
        System.out.printf("%n%s weights: %d bytes per matvec%n", t, bytes);
        streamed = arena.allocate(bytes, 4096);
        streamed.fill((byte) 1);
        float[] x = gaussians(PREFILL * COLS, rnd);
        act1 = new ActivationRows(matrix.dotType(), 1, COLS);
        act1.load(x, 0, COLS, 1, COLS);
        actN = new ActivationRows(matrix.dotType(), PREFILL, COLS);
        actN.load(x, 0, COLS, PREFILL, COLS);
        out = new float[PREFILL * rows];
        row = gaussians(COLS, rnd);
        normW = gaussians(COLS, rnd);
        rope = new Rope(64, false, 500000f, 1f, 0f, 1f, 32f, 1f, 0);
        ropeCache = new float[64];
        rope.cache(1234, null, ropeCache);
        int nCells = 4096;
        int kvDim = 8 * 64;
        MemorySegment k = randomRows(GgmlType.F16, nCells, kvDim, rnd);
        MemorySegment v = randomRows(GgmlType.F16, nCells, kvDim, rnd);
        long rowBytes = GgmlType.F16.bytesFor(kvDim);
        kv = new Attention.KvView(GgmlType.F16, k, rowBytes, GgmlType.F16, v, rowBytes);
        attention = new Attention(new Attention.Shape(32, 8, 64, 0.125f, 0f, true), GgmlType.F16, GgmlType.F16, 1,
                nCells);
        cells = new int[nCells];
        for (int i = 0; i < nCells; i++) {
            cells[i] = i;
        }
        q = gaussians(32 * 64, rnd);
        attnOut = new float[32 * 64];
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        pool.close();
        arena.close();
    }

    /** Decode: one activation row against the whole matrix. */
    @Benchmark
    public float matvec() {
        matrix.matmul(job, act1, 1, out, rows, 0);
        return out[7];
    }

    /** Prefill: {@value #PREFILL} activation rows against the whole matrix. */
    @Benchmark
    public float matmul() {
        matrix.matmul(job, actN, PREFILL, out, rows, 0);
        return out[7];
    }

    /**
     * The read bandwidth a matvec can reach: the pool's threads sum as many bytes as the matrix file holds, in
     * contiguous chunks with 512-bit loads (weight bytes / time of {@code matvec} against this).
     */
    @Benchmark
    public int stream() {
        long chunk = streamed.byteSize() / 64 / 128 * 128;
        int[] sums = streamSums;
        pool.parallelFor(64, (from, to) -> {
            for (int c = from; c < to; c++) {
                IntVector acc = IntVector.zero(IntVector.SPECIES_512);
                IntVector acc2 = IntVector.zero(IntVector.SPECIES_512);
                for (long i = c * chunk; i < (c + 1) * chunk; i += 128) {
                    acc = acc.add(IntVector.fromMemorySegment(IntVector.SPECIES_512, streamed, i,
                            ByteOrder.LITTLE_ENDIAN));
                    acc2 = acc2.add(IntVector.fromMemorySegment(IntVector.SPECIES_512, streamed, i + 64,
                            ByteOrder.LITTLE_ENDIAN));
                }
                sums[c] = acc.add(acc2).reduceLanes(VectorOperators.ADD);
            }
        });
        return sums[3];
    }

    /** Quantizing one activation row to the kernel's dot format (done once per matmul). */
    @Benchmark
    public float quantizeActivation() {
        act1.load(row, 0, COLS, 1, COLS);
        return act1.value(3);
    }

    /**
     * One token's 32 query heads over 4096 cached cells (F16 K/V, flash path, one thread), two heads of a KV head
     * at a time as the engine runs them.
     */
    @Benchmark
    public float attention() {
        for (int h = 0; h < 32; h += 2) {
            attention.attendHeadPair(0, q, h * 64, h, (h + 1) * 64, h + 1, kv, cells, cells.length, attnOut, h * 64,
                    (h + 1) * 64);
        }
        return attnOut[5];
    }

    @Benchmark
    public float rmsNorm() {
        CpuOps.rmsNorm(row, 0, COLS, 1e-5f, normW);
        return row[3];
    }

    @Benchmark
    public float rope() {
        rope.apply(row, 0, 32, 64, ropeCache);
        return row[3];
    }

    private MemorySegment randomRows(GgmlType t, int rows, int cols, Random rnd) {
        // a pool of really quantized rows repeated: reading it costs what reading a real matrix costs
        QuantCodec c = Codecs.quantizerOf(t);
        int pool = Math.min(rows, 16);
        long rowBytes = t.bytesFor(cols);
        MemorySegment seg = arena.allocate(rowBytes * rows, 64);
        for (int r = 0; r < pool; r++) {
            c.quantize(gaussians(cols, rnd), 0, seg, r * rowBytes, cols);
        }
        for (int r = pool; r < rows; r++) {
            MemorySegment.copy(seg, (long) rnd.nextInt(pool) * rowBytes, seg, r * rowBytes, rowBytes);
        }
        seg.get(ValueLayout.JAVA_BYTE, 0);
        return seg;
    }

    private static float[] gaussians(int n, Random rnd) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (rnd.nextGaussian() * 0.5);
        }
        return v;
    }
}
