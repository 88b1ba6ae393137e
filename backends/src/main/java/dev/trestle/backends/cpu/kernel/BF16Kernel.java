package dev.trestle.backends.cpu.kernel;

import dev.trestle.backends.bytes.Le;
import dev.trestle.backends.cpu.ActivationRows;
import dev.trestle.backends.cpu.Half;
import dev.trestle.backends.type.GgmlType;
import java.lang.foreign.MemorySegment;

/** BF16 weights against BF16 activations (ggml_vec_dot_bf16), products summed in F32. */
public final class BF16Kernel implements RowKernel {
    @Override
    public GgmlType weightType() {
        return GgmlType.BF16;
    }

    @Override
    public GgmlType dotType() {
        return GgmlType.BF16;
    }

    @Override
    public float dot(MemorySegment w, long wOff, ActivationRows a, int aOff, int n) {
        short[] x = a.half();
        float s0 = 0f;
        float s1 = 0f;
        int i = 0;
        for (; i + 1 < n; i += 2) {
            s0 += Half.bf16ToFloat(w.get(Le.SHORT, wOff + 2L * i)) * Half.bf16ToFloat(x[aOff + i]);
            s1 += Half.bf16ToFloat(w.get(Le.SHORT, wOff + 2L * i + 2)) * Half.bf16ToFloat(x[aOff + i + 1]);
        }
        for (; i < n; i++) {
            s0 += Half.bf16ToFloat(w.get(Le.SHORT, wOff + 2L * i)) * Half.bf16ToFloat(x[aOff + i]);
        }
        return s0 + s1;
    }

    @Override
    public void dequantize(MemorySegment w, long wOff, float[] dst, int dstOff, int n) {
        for (int i = 0; i < n; i++) {
            dst[dstOff + i] = Half.bf16ToFloat(w.get(Le.SHORT, wOff + 2L * i));
        }
    }
}
