package dev.trestle.backends.cpu.kernel;

import static dev.trestle.backends.cpu.kernel.RepackedKernel.row;

import dev.trestle.backends.cpu.ActivationRows;
import dev.trestle.backends.cpu.x86.VnniMatmul;
import dev.trestle.backends.type.GgmlType;
import java.lang.foreign.MemorySegment;

/**
 * A repacked layout whose kernels take activation rows two at a time (prefill: each unpacked weight vector serves
 * both) and one at a time (decode, an odd last row): the K-quant layouts. A layout with a three-row kernel
 * ({@link #hasThree()}) takes rows three at a time first.
 */
public abstract class PairedRepackedKernel implements RepackedKernel {
    /** The emitted AVX-512 VNNI kernels for this layout, or null (none for the type, no VNNI, or turned off). */
    private final VnniMatmul vnni;

    PairedRepackedKernel(VnniMatmul vnni) {
        // the emitted kernels hard-code 32-row groups
        this.vnni = VectorShapes.LANES == 16 ? vnni : null;
    }

    PairedRepackedKernel() {
        this(null);
    }

    /** The activations' format: Q8_K rows, as ggml's vec_dot for the K-quants. */
    @Override
    public final GgmlType dotType() {
        return GgmlType.Q8_K;
    }

    /** Two or more tokens go to the emitted VNNI kernels where this layout has them (as TripledRepackedKernel). */
    @Override
    public final void multiply(MemorySegment w, long groupOff, int cols, ActivationRows a, int[] actRows,
                               int[] outRows, int tokens, float[] out, int outStride, int rowOff) {
        if (vnni != null && tokens >= 2 && w.isNative() && a.vnniQs() != null) {
            MemorySegment v = vnniWeights(w, groupOff, cols);
            vnni.multiply(v, v == w ? groupOff : 0, cols, a, actRows, outRows, tokens, out, outStride, rowOff);
            return;
        }
        multiplyVectorApi(w, groupOff, cols, a, actRows, outRows, tokens, out, outStride, rowOff);
    }

    /**
     * The weights the emitted kernel reads for the group at {@code groupOff}: {@code w} itself where it reads this
     * layout, else a per-thread copy of the group in the kernel's own layout (offset 0).
     */
    MemorySegment vnniWeights(MemorySegment w, long groupOff, int cols) {
        return w;
    }

    /** {@link #multiply} with the Vector API kernels only (the reference the emitted kernels are tested against). */
    public final void multiplyVectorApi(MemorySegment w, long groupOff, int cols, ActivationRows a, int[] actRows,
                                        int[] outRows, int tokens, float[] out, int outStride, int rowOff) {
        int t = 0;
        for (; hasThree() && t + 3 <= tokens; t += 3) {
            three(w, groupOff, cols, a, row(actRows, t) * cols, row(actRows, t + 1) * cols,
                    row(actRows, t + 2) * cols, out, row(outRows, t) * outStride + rowOff,
                    row(outRows, t + 1) * outStride + rowOff, row(outRows, t + 2) * outStride + rowOff);
        }
        for (; t + 2 <= tokens; t += 2) {
            int a0 = row(actRows, t);
            int a1 = row(actRows, t + 1);
            int o0 = row(outRows, t) * outStride + rowOff;
            int o1 = row(outRows, t + 1) * outStride + rowOff;
            two(w, groupOff, cols, a, a0 * cols, a1 * cols, out, o0, o1);
        }
        if (t < tokens) {
            int a0 = row(actRows, t);
            int o0 = row(outRows, t) * outStride + rowOff;
            one(w, groupOff, cols, a, a0 * cols, out, o0);
        }
    }

    /** One activation row (elements from {@code ao}): the group's dots into {@code out[o..o + groupRows())}. */
    abstract void one(MemorySegment w, long groupOff, int cols, ActivationRows a, int ao, float[] out, int o);

    /** Two activation rows (from {@code ao} and {@code ap}): their dots into {@code out} from {@code o} and {@code p}.
     */
    abstract void two(MemorySegment w, long groupOff, int cols, ActivationRows a, int ao, int ap, float[] out, int o,
                      int p);

    /** Whether this layout has a {@link #three} kernel (prefill steps of three rows). */
    boolean hasThree() {
        return false;
    }

    /** Three activation rows: their dots into {@code out} from {@code o}, {@code p} and {@code q}. */
    void three(MemorySegment w, long groupOff, int cols, ActivationRows a, int ao, int ap, int aq, float[] out, int o,
               int p, int q) {
        throw new UnsupportedOperationException("no three-row kernel in " + getClass().getSimpleName());
    }
}
