package dev.trestle.backends.cpu.kernel;

import static dev.trestle.backends.cpu.kernel.RepackedKernel.row;

import dev.trestle.backends.cpu.ActivationRows;
import java.lang.foreign.MemorySegment;

/**
 * A repacked layout whose kernels take activation rows three at a time (prefill: each unpacked weight vector
 * serves all three) and one at a time (decode, the last rows): the Q4_0 and Q8_0 layouts.
 */
abstract class TripledRepackedKernel implements RepackedKernel {
    @Override
    public final void multiply(MemorySegment w, long groupOff, int cols, ActivationRows a, int[] actRows,
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
