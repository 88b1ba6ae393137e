package dev.trestle.backends.cpu.kernel;

import static dev.trestle.backends.cpu.kernel.RepackedKernel.row;

import dev.trestle.backends.bytes.Le;
import dev.trestle.backends.cpu.ActivationRows;
import dev.trestle.backends.cpu.x86.VnniMatmul;
import dev.trestle.backends.type.GgmlType;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The Q4_0 and Q8_0 layouts: per 32-element block of a group, the {@link #G} rows' F16 scales, then per 4-byte
 * word of a stored block one chunk of {@link #H} ints per half group (int {@code i}: that word of row
 * {@code half * H + i}). Their kernels take activation rows three at a time (prefill: each unpacked weight vector
 * serves all three) and one at a time (decode, the last rows).
 */
public abstract class TripledRepackedKernel implements RepackedKernel {
    static final VectorSpecies<Short> S = ShortVector.SPECIES_PREFERRED;
    static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    /** Rows per group: two short lanes per row. */
    static final int G = S.length();
    /** Rows per half group: one int (and float) lane per row. */
    static final int H = I.length();
    /** Bytes of one word's chunk: one int per row of a half group. */
    static final int CHUNK = 4 * H;
    /** Bytes of a block's scales. */
    static final int SCALES = 2 * G;
    /** One short lane per row of a half group: the F16 scales. */
    static final VectorSpecies<Short> SH = ShortVector.SPECIES_64.withShape(VectorShape.forBitSize(16 * H));
    /** Sign, exponent and mantissa of an F16 shifted left by 13 in a sign-extended int. */
    static final int F16_BITS = 0x8fffffff;

    /** The emitted AVX-512 VNNI kernels for this layout, or null (no VNNI, not Linux x86-64, or turned off). */
    private final VnniMatmul vnni;

    TripledRepackedKernel(VnniMatmul vnni) {
        // the emitted kernels hard-code 32-row groups
        this.vnni = G == 32 ? vnni : null;
    }

    @Override
    public final int groupRows() {
        return G;
    }

    /**
     * Repacks {@link #G} stored rows of {@code cols} elements, blocks of {@code srcBlock} bytes (an F16 scale, then
     * {@code words} 4-byte words), into repacked blocks of {@code block} bytes.
     */
    static void repackBlocks(MemorySegment src, long srcOff, long rowBytes, int cols, MemorySegment dst, long dstOff,
                             int srcBlock, int words, int block) {
        for (int b = 0; b < cols / 32; b++) {
            long bo = dstOff + (long) b * block;
            for (int r = 0; r < G; r++) {
                long so = srcOff + r * rowBytes + (long) b * srcBlock;
                dst.set(Le.SHORT, bo + 2L * r, src.get(Le.SHORT, so));
                for (int k = 0; k < words; k++) {
                    int v = src.get(Le.INT, so + 2 + 4L * k);
                    dst.set(Le.INT, bo + SCALES + (long) (2 * k + r / H) * CHUNK + 4L * (r % H), v);
                }
            }
        }
    }

    /** The activations' format: Q8_0 rows, as ggml's vec_dot for these types. */
    @Override
    public final GgmlType dotType() {
        return GgmlType.Q8_0;
    }

    /**
     * Two or more tokens go to the emitted VNNI kernels where there are some (prefill: several times the Vector
     * API's products per instruction); decode stays in Java, where memory bandwidth, not arithmetic, is the limit.
     */
    @Override
    public final void multiply(MemorySegment w, long groupOff, int cols, ActivationRows a, int[] actRows,
                               int[] outRows, int tokens, float[] out, int outStride, int rowOff) {
        if (vnni != null && tokens >= 2 && w.isNative()) {
            vnni.multiply(w, groupOff, cols, a, actRows, outRows, tokens, out, outStride, rowOff);
            return;
        }
        multiplyVectorApi(w, groupOff, cols, a, actRows, outRows, tokens, out, outStride, rowOff);
    }

    /** {@link #multiply} with the Vector API kernels only (the reference the emitted kernels are tested against). */
    public final void multiplyVectorApi(MemorySegment w, long groupOff, int cols, ActivationRows a, int[] actRows,
                                        int[] outRows, int tokens, float[] out, int outStride, int rowOff) {
        int t = 0;
        for (; t + 3 <= tokens; t += 3) {
            multiply3(w, groupOff, cols, a, row(actRows, t), row(actRows, t + 1), row(actRows, t + 2), out,
                    row(outRows, t) * outStride + rowOff, row(outRows, t + 1) * outStride + rowOff,
                    row(outRows, t + 2) * outStride + rowOff);
        }
        for (; t < tokens; t++) {
            multiply1(w, groupOff, cols, a, row(actRows, t), out, row(outRows, t) * outStride + rowOff);
        }
    }

    /** Activation row {@code r0}: the group's dots into {@code out[o0..o0 + groupRows())}. */
    abstract void multiply1(MemorySegment w, long groupOff, int cols, ActivationRows a, int r0, float[] out, int o0);

    /** Activation rows {@code r0, r1, r2}: their dots into {@code out} from {@code o0}, {@code o1}, {@code o2}. */
    abstract void multiply3(MemorySegment w, long groupOff, int cols, ActivationRows a, int r0, int r1, int r2,
                            float[] out, int o0, int o1, int o2);
}
