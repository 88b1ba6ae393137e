package dev.trestle.backends.cpu;

import dev.trestle.backends.cpu.kernel.RowKernel;
import dev.trestle.backends.cpu.kernel.RowKernels;
import dev.trestle.backends.type.GgmlType;
import dev.trestle.common.TrestleException;
import java.lang.foreign.MemorySegment;

/**
 * Attention of query rows over cached K/V rows with GQA, in ggml's two CPU variants.
 *
 * <p>Flash path (ggml's flash_attn_ext one-chunk kernel): Q is converted to K's dot format, scores are dotted
 * against the stored K, an online softmax runs in F32 and, when V is F16, the weighted V sum is accumulated in
 * F16 (each update rounded), rescaled on every new maximum. Other V types accumulate in F32.
 *
 * <p>Plain path (mul_mat + soft_max + mul_mat): scores, a softmax over all visible cells, weights rounded to
 * F16 when V is F16, then the weighted sum.
 */
public final class Attention {
    /** One layer's cache: rows of {@code nHeadKv * headDim} elements per cell, in the cache types. */
    public record KvView(GgmlType kType, MemorySegment k, long kRowBytes, GgmlType vType, MemorySegment v,
                         long vRowBytes) {
    }

    /**
     * The shape of one attention call.
     *
     * @param nHead    query heads
     * @param nHeadKv  key/value heads (GQA group = nHead / nHeadKv)
     * @param headDim  head size (K and V)
     * @param scale    score scale (1/sqrt(headDim) unless the model pre-scales Q)
     * @param softcap  attention logit soft-capping (0 = off)
     * @param flash    flash path (true) or plain path
     */
    public record Shape(int nHead, int nHeadKv, int headDim, float scale, float softcap, boolean flash) {
    }

    private final RowKernel kKernel;
    private final RowKernel vKernel;
    private final Shape shape;
    private final ActivationRows[] q;   // per worker: one Q head in K's dot format
    private final float[][] acc;        // per worker: (headDim) V accumulator
    private final float[][] vrow;       // per worker: (headDim) dequantized V row
    private final float[][] scores;     // per worker: (maxCells) plain-path scores

    /** Scratch for {@code workers} threads, up to {@code maxCells} visible cells. */
    public Attention(Shape shape, GgmlType kType, GgmlType vType, int workers, int maxCells) {
        this.shape = shape;
        this.kKernel = RowKernels.forType(kType, "K cache");
        this.vKernel = RowKernels.forType(vType, "V cache");
        if (shape.headDim % kType.blockSize() != 0 || shape.headDim % vType.blockSize() != 0) {
            throw new TrestleException("KV cache types " + kType.llamaName() + "/" + vType.llamaName()
                    + " need a head size that is a multiple of their block size; this model's is " + shape.headDim,
                    "use -ctk f16 -ctv f16");
        }
        if (!shape.flash && vType.isQuantized()) {
            throw new TrestleException("a quantized V cache (" + vType.llamaName() + ") needs flash attention",
                    "use -fa on (or auto), or -ctv f16");
        }
        q = new ActivationRows[workers];
        acc = new float[workers][shape.headDim];
        vrow = new float[workers][shape.headDim];
        scores = new float[workers][maxCells];
        for (int i = 0; i < workers; i++) {
            q[i] = new ActivationRows(kKernel.dotType(), 1, shape.headDim);
        }
    }

    /**
     * Attends one query head: {@code out[outOff..+headDim) = attention(Q head, visible cells)}.
     *
     * @param worker scratch slot of the calling thread
     * @param cells  visible cache cells in order, {@code nCells} of them
     */
    public void attendHead(int worker, float[] qf, int qOff, int head, KvView kv, int[] cells, int nCells,
                           float[] out, int outOff) {
        int hd = shape.headDim;
        int kvHead = head / (shape.nHead / shape.nHeadKv);
        long kHeadOff = kv.kType().bytesFor((long) kvHead * hd);
        long vHeadOff = kv.vType().bytesFor((long) kvHead * hd);
        ActivationRows qa = q[worker];
        qa.load(qf, qOff, hd, 1, hd);
        float scale = shape.scale;
        float cap = shape.softcap;
        if (cap != 0f) {
            scale /= cap;
        }
        float[] a = acc[worker];
        java.util.Arrays.fill(a, 0f);
        if (nCells == 0) {
            System.arraycopy(a, 0, out, outOff, hd);
            return;
        }
        boolean f16v = kv.vType() == GgmlType.F16;
        if (shape.flash) {
            float m = Float.NEGATIVE_INFINITY;
            float sum = 0f;
            float[] vr = vrow[worker];
            for (int i = 0; i < nCells; i++) {
                int c = cells[i];
                float s = kKernel.vecDot(kv.k(), c * kv.kRowBytes() + kHeadOff, qa, 0, hd) * scale;
                if (cap != 0f) {
                    s = cap * (float) Math.tanh(s);
                }
                float ms = 1f;
                float vs = 1f;
                if (s > m) {
                    float mOld = m;
                    m = s;
                    ms = LibmFloat.expf(mOld - m);
                    if (f16v) {
                        for (int d = 0; d < hd; d++) {
                            a[d] = Half.round(a[d] * ms);
                        }
                    } else {
                        for (int d = 0; d < hd; d++) {
                            a[d] *= ms;
                        }
                    }
                } else {
                    vs = LibmFloat.expf(s - m);
                }
                vKernel.dequantize(kv.v(), c * kv.vRowBytes() + vHeadOff, vr, 0, hd);
                if (f16v) {
                    for (int d = 0; d < hd; d++) {
                        a[d] = Half.round(Math.fma(vr[d], vs, a[d]));
                    }
                } else {
                    for (int d = 0; d < hd; d++) {
                        a[d] += vr[d] * vs;
                    }
                }
                sum = sum * ms + vs;
            }
            float inv = sum == 0f ? 0f : 1f / sum;
            for (int d = 0; d < hd; d++) {
                out[outOff + d] = a[d] * inv;
            }
        } else {
            float[] sc = scores[worker];
            float max = Float.NEGATIVE_INFINITY;
            for (int i = 0; i < nCells; i++) {
                float s = kKernel.dot(kv.k(), cells[i] * kv.kRowBytes() + kHeadOff, qa, 0, hd);
                if (cap != 0f) {
                    s = cap * (float) Math.tanh(s / cap);
                    s *= shape.scale;
                } else {
                    s *= scale;
                }
                sc[i] = s;
                max = Math.max(max, s);
            }
            double total = 0;
            for (int i = 0; i < nCells; i++) {
                float e = LibmFloat.expf(sc[i] - max);
                sc[i] = e;
                total += e;
            }
            float inv = (float) (1.0 / total);
            float[] vr = vrow[worker];
            for (int i = 0; i < nCells; i++) {
                float w = sc[i] * inv;
                if (f16v) {
                    w = Half.round(w);
                }
                vKernel.dequantize(kv.v(), cells[i] * kv.vRowBytes() + vHeadOff, vr, 0, hd);
                for (int d = 0; d < hd; d++) {
                    a[d] += w * vr[d];
                }
            }
            System.arraycopy(a, 0, out, outOff, hd);
        }
    }
}
