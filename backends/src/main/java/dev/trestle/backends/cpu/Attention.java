package dev.trestle.backends.cpu;

import static jdk.incubator.vector.VectorOperators.EQ;
import static jdk.incubator.vector.VectorOperators.GE;
import static jdk.incubator.vector.VectorOperators.LSHL;
import static jdk.incubator.vector.VectorOperators.S2I;

import dev.trestle.backends.cpu.kernel.RowKernel;
import dev.trestle.backends.cpu.kernel.RowKernels;
import dev.trestle.backends.type.GgmlType;
import dev.trestle.common.TrestleException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

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

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED.length() <= 16
            ? FloatVector.SPECIES_PREFERRED : FloatVector.SPECIES_512;
    private static final int L = F.length();
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_64.withShape(VectorShape.forBitSize(L * 32));
    private static final VectorSpecies<Short> S = ShortVector.SPECIES_64.withShape(VectorShape.forBitSize(L * 16));
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final int INF_BITS = 0x7f800000;
    private static final int SIGN = 0x80000000;
    /** F16 bits sign-extended and shifted left by 13: the sign bit, exponent and mantissa in a float's place. */
    private static final int HALF_IN_FLOAT = 0x8fffe000;
    /** F16's exponent 31 (infinity, NaN) in those bits. */
    private static final int HALF_EXP_MAX = 0x0f800000;
    /**
     * {@link #foldCells}' permutes, per level (segments of {@code 2h} lanes, h = L/2, L/4, ..., 1): lane j takes
     * the first (LO) or second (HI) half of segment {@code j / h} of the two vectors' segments in order (the first
     * vector's, then the second's; indexes from L pick from the second vector).
     */
    private static final float[][] FOLD_LO = foldIndexes(0);
    private static final float[][] FOLD_HI = foldIndexes(1);

    private final RowKernel kKernel;
    private final RowKernel vKernel;
    private final Shape shape;
    private final ActivationRows[] q;   // per worker: one Q head in K's dot format
    private final float[][] acc;        // per worker: (headDim) V accumulator
    private final float[][] vrow;       // per worker: (headDim) dequantized V row
    private final float[][] scores;     // per worker: (maxCells) scores, then (flash, F16 V) V weights
    private final float[][] rescale;    // per worker: (maxCells) flash, F16 V: accumulator rescale at each cell
    private final ActivationRows[] q2;  // per worker: the second head of a pair (attendHeadPair)
    private final float[][] scores2;    // per worker: its V weights (a single head's duplicate scores)
    private final float[][] rescale2;   // per worker: its rescales
    private final float[][] vrow2;      // per worker: its V accumulator
    private final float[][] qPair;      // per worker: (2 * headDim) the pair's Q heads widened from F16
    private final float[][] fold;       // per worker: (2 * L * L) the pair's last L cells' score vectors

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
        rescale = shape.flash && vType == GgmlType.F16 && shape.headDim % L == 0 ? new float[workers][maxCells] : null;
        // flash, F16 K and V, whole Q.K steps of four vectors: scoresPairF16 (a single head as a pair with itself)
        boolean qk4 = rescale != null && kType == GgmlType.F16 && shape.headDim % (4 * L) == 0;
        for (int i = 0; i < workers; i++) {
            q[i] = new ActivationRows(kKernel.dotType(), 1, shape.headDim);
        }
        boolean pairs = rescale != null && shape.nHead / shape.nHeadKv >= 2;
        q2 = pairs ? new ActivationRows[workers] : null;
        scores2 = pairs || qk4 ? new float[workers][maxCells] : null;
        rescale2 = pairs ? new float[workers][maxCells] : null;
        vrow2 = pairs ? new float[workers][shape.headDim] : null;
        qPair = qk4 ? new float[workers][2 * shape.headDim] : null;
        fold = qk4 ? new float[workers][2 * L * L] : null;
        for (int i = 0; pairs && i < workers; i++) {
            q2[i] = new ActivationRows(kKernel.dotType(), 1, shape.headDim);
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
        if (shape.flash && f16v && rescale != null) {
            flashF16(worker, qa, kv, kHeadOff, vHeadOff, cells, nCells, scale, cap, out, outOff);
        } else if (shape.flash) {
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

    /**
     * The flash path for an F16 V cache in three passes with the one-pass loop's exact arithmetic: all scores,
     * then the online-softmax factors in cell order (the same expf calls on the same values), then the weighted V
     * sum, whose head dimensions are independent, a vector of them at a time kept in registers over all cells
     * (each update fma-rounded to F16 as before).
     */
    private void flashF16(int worker, ActivationRows qa, KvView kv, long kHeadOff, long vHeadOff, int[] cells,
                          int nCells, float scale, float cap, float[] out, int outOff) {
        int hd = shape.headDim;
        float[] sc = scores[worker];
        float[] rs = rescale[worker];
        float inv = flashFactors(worker, qa, kv, kHeadOff, cells, nCells, scale, cap, sc, rs);
        MemorySegment v = kv.v();
        long vStride = kv.vRowBytes();
        for (int d0 = 0; d0 < hd; ) {
            int width = d0 + 4 * L <= hd ? 4 * L : L;
            weightedV(sc, rs, cells, nCells, v, vStride, vHeadOff + 2L * d0, width, inv, out, outOff + d0,
                    vrow[worker]);
            d0 += width;
        }
    }

    /**
     * The scores and online-softmax factors of {@link #flashF16}: {@code sc[i]} becomes cell i's V weight,
     * {@code rs[i]} the accumulator's rescale before it; returns 1 / (the softmax sum).
     */
    private float flashFactors(int worker, ActivationRows qa, KvView kv, long kHeadOff, int[] cells, int nCells,
                               float scale, float cap, float[] sc, float[] rs) {
        int hd = shape.headDim;
        MemorySegment k = kv.k();
        long kStride = kv.kRowBytes();
        if (qPair != null && kv.kType() == GgmlType.F16) {
            // the pair kernel with the head twice: the duplicate's fmas cost less than a second copy of the loop
            scoresPairF16(qa, qa, k, kStride, kHeadOff, hd, cells, nCells, sc, scores2[worker], qPair[worker],
                    fold[worker]);
        } else {
            for (int i = 0; i < nCells; i++) {
                sc[i] = kKernel.vecDot(k, cells[i] * kStride + kHeadOff, qa, 0, hd);
            }
        }
        return softmaxFactors(sc, rs, nCells, scale, cap);
    }

    /**
     * From raw scores {@code sc}: the online-softmax factors of {@link #flashFactors}, in cell order; returns
     * 1 / (the softmax sum).
     */
    private static float softmaxFactors(float[] sc, float[] rs, int nCells, float scale, float cap) {
        for (int i = 0; i < nCells; i++) {
            float s = sc[i] * scale;
            if (cap != 0f) {
                s = cap * (float) Math.tanh(s);
            }
            sc[i] = s;
        }
        float m = Float.NEGATIVE_INFINITY;
        float sum = 0f;
        for (int i = 0; i < nCells; i++) {
            float s = sc[i];
            float ms = 1f;
            float vs = 1f;
            if (s > m) {
                float mOld = m;
                m = s;
                ms = LibmFloat.expf(mOld - m);
            } else {
                vs = LibmFloat.expf(s - m);
            }
            rs[i] = ms;
            sc[i] = vs;
            sum = sum * ms + vs;
        }
        return sum == 0f ? 0f : 1f / sum;
    }

    /**
     * Attends two query heads of the same KV head, as two {@link #attendHead} calls would, bit for bit: on the
     * flash path with an F16 V, their weighted V sums run in one pass over the cells, each V row widened once for
     * both and the two accumulators' F16 updates independent of each other (one head's chain of dependent
     * operations per cell left the core idle between cells). Otherwise the two calls.
     */
    public void attendHeadPair(int worker, float[] qf, int qOffA, int headA, int qOffB, int headB, KvView kv,
                               int[] cells, int nCells, float[] out, int outOffA, int outOffB) {
        int group = shape.nHead / shape.nHeadKv;
        boolean pair = q2 != null && shape.flash && kv.vType() == GgmlType.F16 && headA / group == headB / group
                && nCells > 0;
        if (!pair) {
            attendHead(worker, qf, qOffA, headA, kv, cells, nCells, out, outOffA);
            attendHead(worker, qf, qOffB, headB, kv, cells, nCells, out, outOffB);
            return;
        }
        int hd = shape.headDim;
        int kvHead = headA / group;
        long kHeadOff = kv.kType().bytesFor((long) kvHead * hd);
        long vHeadOff = kv.vType().bytesFor((long) kvHead * hd);
        float scale = shape.scale;
        float cap = shape.softcap;
        if (cap != 0f) {
            scale /= cap;
        }
        ActivationRows qa = q[worker];
        ActivationRows qb = q2[worker];
        qa.load(qf, qOffA, hd, 1, hd);
        qb.load(qf, qOffB, hd, 1, hd);
        float[] scA = scores[worker];
        float[] rsA = rescale[worker];
        float[] scB = scores2[worker];
        float[] rsB = rescale2[worker];
        float invA;
        float invB;
        if (qPair != null && kv.kType() == GgmlType.F16) {
            scoresPairF16(qa, qb, kv.k(), kv.kRowBytes(), kHeadOff, hd, cells, nCells, scA, scB, qPair[worker],
                    fold[worker]);
            invA = softmaxFactors(scA, rsA, nCells, scale, cap);
            invB = softmaxFactors(scB, rsB, nCells, scale, cap);
        } else {
            invA = flashFactors(worker, qa, kv, kHeadOff, cells, nCells, scale, cap, scA, rsA);
            invB = flashFactors(worker, qb, kv, kHeadOff, cells, nCells, scale, cap, scB, rsB);
        }
        MemorySegment v = kv.v();
        long vStride = kv.vRowBytes();
        float[] accA = vrow[worker];
        float[] accB = vrow2[worker];
        for (int d0 = 0; d0 < hd; ) {
            int width = d0 + 2 * L <= hd ? 2 * L : L;
            java.util.Arrays.fill(accA, 0, width, 0f);
            java.util.Arrays.fill(accB, 0, width, 0f);
            int i = 0;
            while (i < nCells) {
                rescaleHalf(accA, width, rsA[i]);
                rescaleHalf(accB, width, rsB[i]);
                int end = i + 1;
                while (end < nCells && rsA[end] == 1f && rsB[end] == 1f) {
                    end++;
                }
                if (width == 2 * L) {
                    accumulateVPairWide(scA, scB, cells, i, end, v, vStride, vHeadOff + 2L * d0, accA, accB);
                } else {
                    accumulateVPair(scA, scB, cells, i, end, v, vStride, vHeadOff + 2L * d0, accA, accB);
                }
                i = end;
            }
            for (int j = 0; j < width; j++) {
                out[outOffA + d0 + j] = accA[j] * invA;
                out[outOffB + d0 + j] = accB[j] * invB;
            }
            d0 += width;
        }
    }

    /** {@code acc[0..n) = round16(acc * ms)}, nothing when {@code ms} is 1 (an F16-exact accumulator). */
    private static void rescaleHalf(float[] acc, int n, float ms) {
        if (ms != 1f) {
            for (int j = 0; j < n; j++) {
                acc[j] = Half.round(acc[j] * ms);
            }
        }
    }

    /**
     * {@link #accumulateVPair} over two vectors of head dimensions: four independent F16 chains per cell, so the
     * core overlaps the latency of one cell's update (fma, then the rounding's dependent adds) with the others.
     * The widening and rounding are written out rather than called: with four chains the loop is over C2's
     * inlining budget, and a helper left as a call gets its vectors boxed (3-4x slower, as seen under JFR).
     */
    private static void accumulateVPairWide(float[] vs, float[] ws, int[] cells, int from, int to, MemorySegment v,
                                            long vStride, long off, float[] acc, float[] bcc) {
        FloatVector a0 = FloatVector.fromArray(F, acc, 0);
        FloatVector a1 = FloatVector.fromArray(F, acc, L);
        FloatVector b0 = FloatVector.fromArray(F, bcc, 0);
        FloatVector b1 = FloatVector.fromArray(F, bcc, L);
        for (int i = from; i < to; i++) {
            long o = cells[i] * vStride + off;
            FloatVector wa = FloatVector.broadcast(F, vs[i]);
            FloatVector wb = FloatVector.broadcast(F, ws[i]);
            // F16 to float as widenHalf, from the sign-extended bits
            IntVector h0 = (IntVector) ShortVector.fromMemorySegment(S, v, o, LE).convertShape(S2I, I, 0);
            IntVector t0 = h0.lanewise(LSHL, 13).and(HALF_IN_FLOAT);
            FloatVector x0 = t0.reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts()
                    .blend(t0.or(INF_BITS), t0.and(HALF_EXP_MAX).compare(EQ, HALF_EXP_MAX)).reinterpretAsFloats();
            IntVector h1 = (IntVector) ShortVector.fromMemorySegment(S, v, o + 2L * L, LE).convertShape(S2I, I, 0);
            IntVector t1 = h1.lanewise(LSHL, 13).and(HALF_IN_FLOAT);
            FloatVector x1 = t1.reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts()
                    .blend(t1.or(INF_BITS), t1.and(HALF_EXP_MAX).compare(EQ, HALF_EXP_MAX)).reinterpretAsFloats();
            // each update rounded to F16 as roundToHalf
            FloatVector y = x0.fma(wa, a0);
            IntVector u = y.reinterpretAsInts();
            FloatVector c = u.and(INF_BITS).add(0x06c00000).max(0x3f400000).reinterpretAsFloats();
            a0 = y.add(c).sub(c).blend(Float.POSITIVE_INFINITY, y.abs().compare(GE, 65520f))
                    .reinterpretAsInts().or(u.and(SIGN)).reinterpretAsFloats();
            y = x0.fma(wb, b0);
            u = y.reinterpretAsInts();
            c = u.and(INF_BITS).add(0x06c00000).max(0x3f400000).reinterpretAsFloats();
            b0 = y.add(c).sub(c).blend(Float.POSITIVE_INFINITY, y.abs().compare(GE, 65520f))
                    .reinterpretAsInts().or(u.and(SIGN)).reinterpretAsFloats();
            y = x1.fma(wa, a1);
            u = y.reinterpretAsInts();
            c = u.and(INF_BITS).add(0x06c00000).max(0x3f400000).reinterpretAsFloats();
            a1 = y.add(c).sub(c).blend(Float.POSITIVE_INFINITY, y.abs().compare(GE, 65520f))
                    .reinterpretAsInts().or(u.and(SIGN)).reinterpretAsFloats();
            y = x1.fma(wb, b1);
            u = y.reinterpretAsInts();
            c = u.and(INF_BITS).add(0x06c00000).max(0x3f400000).reinterpretAsFloats();
            b1 = y.add(c).sub(c).blend(Float.POSITIVE_INFINITY, y.abs().compare(GE, 65520f))
                    .reinterpretAsInts().or(u.and(SIGN)).reinterpretAsFloats();
        }
        a0.intoArray(acc, 0);
        a1.intoArray(acc, L);
        b0.intoArray(bcc, 0);
        b1.intoArray(bcc, L);
    }

    /** {@link #accumulateV} for two heads of one KV head: one V row widened once, two independent chains. */
    private static void accumulateVPair(float[] vs, float[] ws, int[] cells, int from, int to, MemorySegment v,
                                        long vStride, long off, float[] acc, float[] bcc) {
        FloatVector a = FloatVector.fromArray(F, acc, 0);
        FloatVector b = FloatVector.fromArray(F, bcc, 0);
        for (int i = from; i < to; i++) {
            FloatVector x = widenHalf(ShortVector.fromMemorySegment(S, v, cells[i] * vStride + off, LE));
            a = roundToHalf(x.fma(FloatVector.broadcast(F, vs[i]), a));
            b = roundToHalf(x.fma(FloatVector.broadcast(F, ws[i]), b));
        }
        a.intoArray(acc, 0);
        b.intoArray(bcc, 0);
    }

    /**
     * {@code width} head dimensions (4 L or L) of the weighted V sum over all cells. The rare rescales (a new
     * maximum) run in scalar code on {@code acc} between runs of cells without one, so the vector loop stays small
     * enough for C2 to compile without boxing; the accumulator is F16-exact, so a factor of 1 would have changed
     * nothing.
     */
    private static void weightedV(float[] vs, float[] rs, int[] cells, int nCells, MemorySegment v, long vStride,
                                  long off, int width, float inv, float[] out, int outOff, float[] acc) {
        java.util.Arrays.fill(acc, 0, width, 0f);
        int i = 0;
        while (i < nCells) {
            rescaleHalf(acc, width, rs[i]);
            int end = i + 1;
            while (end < nCells && rs[end] == 1f) {
                end++;
            }
            if (width == 4 * L) {
                accumulateVWide(vs, cells, i, end, v, vStride, off, acc);
            } else {
                accumulateV(vs, cells, i, end, v, vStride, off, acc);
            }
            i = end;
        }
        for (int j = 0; j < width; j++) {
            out[outOff + j] = acc[j] * inv;
        }
    }

    /**
     * {@link #accumulateV} over four vectors of head dimensions: four independent F16 chains per cell (one chain
     * leaves the core waiting on each update's latency), written out as in {@link #accumulateVPairWide}.
     */
    private static void accumulateVWide(float[] vs, int[] cells, int from, int to, MemorySegment v, long vStride,
                                        long off, float[] acc) {
        FloatVector a0 = FloatVector.fromArray(F, acc, 0);
        FloatVector a1 = FloatVector.fromArray(F, acc, L);
        FloatVector a2 = FloatVector.fromArray(F, acc, 2 * L);
        FloatVector a3 = FloatVector.fromArray(F, acc, 3 * L);
        for (int i = from; i < to; i++) {
            long o = cells[i] * vStride + off;
            FloatVector wa = FloatVector.broadcast(F, vs[i]);
            // F16 to float as widenHalf, from the sign-extended bits
            IntVector h0 = (IntVector) ShortVector.fromMemorySegment(S, v, o, LE).convertShape(S2I, I, 0);
            IntVector t0 = h0.lanewise(LSHL, 13).and(HALF_IN_FLOAT);
            FloatVector x0 = t0.reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts()
                    .blend(t0.or(INF_BITS), t0.and(HALF_EXP_MAX).compare(EQ, HALF_EXP_MAX)).reinterpretAsFloats();
            IntVector h1 = (IntVector) ShortVector.fromMemorySegment(S, v, o + 2L * L, LE).convertShape(S2I, I, 0);
            IntVector t1 = h1.lanewise(LSHL, 13).and(HALF_IN_FLOAT);
            FloatVector x1 = t1.reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts()
                    .blend(t1.or(INF_BITS), t1.and(HALF_EXP_MAX).compare(EQ, HALF_EXP_MAX)).reinterpretAsFloats();
            IntVector h2 = (IntVector) ShortVector.fromMemorySegment(S, v, o + 4L * L, LE).convertShape(S2I, I, 0);
            IntVector t2 = h2.lanewise(LSHL, 13).and(HALF_IN_FLOAT);
            FloatVector x2 = t2.reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts()
                    .blend(t2.or(INF_BITS), t2.and(HALF_EXP_MAX).compare(EQ, HALF_EXP_MAX)).reinterpretAsFloats();
            IntVector h3 = (IntVector) ShortVector.fromMemorySegment(S, v, o + 6L * L, LE).convertShape(S2I, I, 0);
            IntVector t3 = h3.lanewise(LSHL, 13).and(HALF_IN_FLOAT);
            FloatVector x3 = t3.reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts()
                    .blend(t3.or(INF_BITS), t3.and(HALF_EXP_MAX).compare(EQ, HALF_EXP_MAX)).reinterpretAsFloats();
            // each update rounded to F16 as roundToHalf
            FloatVector y = x0.fma(wa, a0);
            IntVector u = y.reinterpretAsInts();
            FloatVector c = u.and(INF_BITS).add(0x06c00000).max(0x3f400000).reinterpretAsFloats();
            a0 = y.add(c).sub(c).blend(Float.POSITIVE_INFINITY, y.abs().compare(GE, 65520f))
                    .reinterpretAsInts().or(u.and(SIGN)).reinterpretAsFloats();
            y = x1.fma(wa, a1);
            u = y.reinterpretAsInts();
            c = u.and(INF_BITS).add(0x06c00000).max(0x3f400000).reinterpretAsFloats();
            a1 = y.add(c).sub(c).blend(Float.POSITIVE_INFINITY, y.abs().compare(GE, 65520f))
                    .reinterpretAsInts().or(u.and(SIGN)).reinterpretAsFloats();
            y = x2.fma(wa, a2);
            u = y.reinterpretAsInts();
            c = u.and(INF_BITS).add(0x06c00000).max(0x3f400000).reinterpretAsFloats();
            a2 = y.add(c).sub(c).blend(Float.POSITIVE_INFINITY, y.abs().compare(GE, 65520f))
                    .reinterpretAsInts().or(u.and(SIGN)).reinterpretAsFloats();
            y = x3.fma(wa, a3);
            u = y.reinterpretAsInts();
            c = u.and(INF_BITS).add(0x06c00000).max(0x3f400000).reinterpretAsFloats();
            a3 = y.add(c).sub(c).blend(Float.POSITIVE_INFINITY, y.abs().compare(GE, 65520f))
                    .reinterpretAsInts().or(u.and(SIGN)).reinterpretAsFloats();
        }
        a0.intoArray(acc, 0);
        a1.intoArray(acc, L);
        a2.intoArray(acc, 2 * L);
        a3.intoArray(acc, 3 * L);
    }

    /** {@code acc = round16(V[cells[i]] * vs[i] + acc)} for cells {@code [from, to)}, in order. */
    private static void accumulateV(float[] vs, int[] cells, int from, int to, MemorySegment v, long vStride,
                                    long off, float[] acc) {
        FloatVector a = FloatVector.fromArray(F, acc, 0);
        for (int i = from; i < to; i++) {
            FloatVector x = widenHalf(ShortVector.fromMemorySegment(S, v, cells[i] * vStride + off, LE));
            a = roundToHalf(x.fma(FloatVector.broadcast(F, vs[i]), a));
        }
        a.intoArray(acc, 0);
    }

    /**
     * Q.K of two query heads of one KV head (F16 K, head size a multiple of 4 L) for every cell, in
     * F16Kernel.vecDot's order: four accumulator vectors, accumulator {@code j} the fma chain over vectors
     * {@code j, j + 4, ...}, then {@code (s0 + s2) + (s1 + s3)}, lanes folded in halves ({@link #foldCells}); Q is
     * widened once instead of once per cell (the same widening, so the same scores bit for bit). Each K row is
     * widened once for both heads and dotted whole, its accumulators in registers. A single head passes itself as
     * both. The arithmetic is written out in the loop: with helpers for the widening it outgrows C2's inlining
     * budget and runs with boxed vectors.
     */
    private static void scoresPairF16(ActivationRows qa, ActivationRows qb, MemorySegment k, long kStride,
                                      long kHeadOff, int headDim, int[] cells, int nCells, float[] scA, float[] scB,
                                      float[] qw, float[] fold) {
        short[] ha = qa.half();
        short[] hb = qb.half();
        for (int e = 0; e < headDim; e += L) {
            widenFinite(ShortVector.fromArray(S, ha, e)).intoArray(qw, e);
            widenFinite(ShortVector.fromArray(S, hb, e)).intoArray(qw, headDim + e);
        }
        FloatVector zero = FloatVector.zero(F);
        for (int c0 = 0; c0 < nCells; c0 += L) {
            int cn = Math.min(L, nCells - c0);
            for (int i = 0; i < cn; i++) {
                long o = cells[c0 + i] * kStride + kHeadOff;
                FloatVector a0 = zero;
                FloatVector a1 = zero;
                FloatVector a2 = zero;
                FloatVector a3 = zero;
                FloatVector b0 = zero;
                FloatVector b1 = zero;
                FloatVector b2 = zero;
                FloatVector b3 = zero;
                for (int e = 0; e < headDim; e += 4 * L) {
                    long oe = o + 2L * e;
                    // F16 to float as widenFinite
                    FloatVector k0 = ((IntVector) ShortVector.fromMemorySegment(S, k, oe, LE).convertShape(S2I, I, 0))
                            .lanewise(LSHL, 13).and(HALF_IN_FLOAT).reinterpretAsFloats().mul(0x1p112f);
                    FloatVector k1 = ((IntVector) ShortVector.fromMemorySegment(S, k, oe + 2L * L, LE)
                            .convertShape(S2I, I, 0)).lanewise(LSHL, 13).and(HALF_IN_FLOAT).reinterpretAsFloats()
                            .mul(0x1p112f);
                    FloatVector k2 = ((IntVector) ShortVector.fromMemorySegment(S, k, oe + 4L * L, LE)
                            .convertShape(S2I, I, 0)).lanewise(LSHL, 13).and(HALF_IN_FLOAT).reinterpretAsFloats()
                            .mul(0x1p112f);
                    FloatVector k3 = ((IntVector) ShortVector.fromMemorySegment(S, k, oe + 6L * L, LE)
                            .convertShape(S2I, I, 0)).lanewise(LSHL, 13).and(HALF_IN_FLOAT).reinterpretAsFloats()
                            .mul(0x1p112f);
                    a0 = k0.fma(FloatVector.fromArray(F, qw, e), a0);
                    a1 = k1.fma(FloatVector.fromArray(F, qw, e + L), a1);
                    a2 = k2.fma(FloatVector.fromArray(F, qw, e + 2 * L), a2);
                    a3 = k3.fma(FloatVector.fromArray(F, qw, e + 3 * L), a3);
                    b0 = k0.fma(FloatVector.fromArray(F, qw, headDim + e), b0);
                    b1 = k1.fma(FloatVector.fromArray(F, qw, headDim + e + L), b1);
                    b2 = k2.fma(FloatVector.fromArray(F, qw, headDim + e + 2 * L), b2);
                    b3 = k3.fma(FloatVector.fromArray(F, qw, headDim + e + 3 * L), b3);
                }
                a0.add(a2).add(a1.add(a3)).intoArray(fold, i * L);
                b0.add(b2).add(b1.add(b3)).intoArray(fold, (L + i) * L);
            }
            for (int i = cn; i < L; i++) {
                zero.intoArray(fold, i * L);
                zero.intoArray(fold, (L + i) * L);
            }
            foldCells(fold, 0);
            foldCells(fold, L * L);
            System.arraycopy(fold, 0, scA, c0, cn);
            System.arraycopy(fold, L * L, scB, c0, cn);
        }
    }

    /**
     * Folds the lanes of L cells' vectors ({@code buf[at + i * L ..]}, cell i) into their L sums, left in
     * {@code buf[at ..]} in cell order, each summed as F16Kernel.vecDot folds one: lane j plus lane j + L/2,
     * then j + L/4, ..., then lanes 0 and 1. Each step adds two cells' vectors at once: one two-vector permute gathers
     * the lower halves of their segments, another the upper halves (a + b is b + a, so the pairs add as before).
     */
    private static void foldCells(float[] buf, int at) {
        int level = 0;
        for (int n = L; n > 1; n /= 2, level++) {
            FloatVector lo = FloatVector.fromArray(F, FOLD_LO[level], 0);
            FloatVector hi = FloatVector.fromArray(F, FOLD_HI[level], 0);
            for (int m = 0; m < n / 2; m++) {
                FloatVector x = FloatVector.fromArray(F, buf, at + 2 * m * L);
                FloatVector y = FloatVector.fromArray(F, buf, at + (2 * m + 1) * L);
                lo.selectFrom(x, y).add(hi.selectFrom(x, y)).intoArray(buf, at + m * L);
            }
        }
    }

    /**
     * F16 bits to floats as F16Kernel widens them (exact for finite values; infinities and NaNs come out as
     * finite values, as in that kernel, whose Q.K this path reproduces).
     */
    static FloatVector widenFinite(ShortVector h) {
        IntVector i = (IntVector) h.convertShape(VectorOperators.S2I, I, 0);
        // the sign-extended bits shifted: sign, exponent and mantissa in place; the float's sign makes the product's
        return i.lanewise(VectorOperators.LSHL, 13).and(HALF_IN_FLOAT).reinterpretAsFloats().mul(0x1p112f);
    }

    private static float[][] foldIndexes(int upper) {
        int levels = Integer.numberOfTrailingZeros(L);
        float[][] idx = new float[levels][L];
        for (int level = 0, h = L / 2; level < levels; level++, h /= 2) {
            int segments = L / (2 * h); // per input vector
            for (int j = 0; j < L; j++) {
                int g = j / h;
                int r = j % h + upper * h;
                idx[level][j] = g < segments ? g * 2 * h + r : L + (g - segments) * 2 * h + r;
            }
        }
        return idx;
    }

    /**
     * F16 bits to floats, exactly as {@link Half#toFloat}: {@link #widenFinite}'s rescaled bits, except that
     * exponent 31 (inf, NaN) stays special rather than scaling to a finite value. The V passes
     * ({@code accumulateV*Wide}) write out this same sequence.
     */
    static FloatVector widenHalf(ShortVector h) {
        IntVector t = ((IntVector) h.convertShape(S2I, I, 0)).lanewise(LSHL, 13).and(HALF_IN_FLOAT);
        return t.reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts()
                .blend(t.or(INF_BITS), t.and(HALF_EXP_MAX).compare(EQ, HALF_EXP_MAX)).reinterpretAsFloats();
    }

    /**
     * Rounds each lane to the nearest F16 value (ties to even), exactly as {@link Half#round}. Adding and
     * subtracting {@code c = 1.5 * 2^(e + 13)}, e the lane's exponent, rounds to F16's step 2^(e - 10) in the
     * float unit (c is an even multiple of that step); below 2^-14 the step stays 2^-24 (c = 0.75). Magnitudes
     * from 65520 up overflow to infinity; NaN stays NaN; the sign bit is kept (so -0 and tiny negatives give -0).
     */
    static FloatVector roundToHalf(FloatVector x) {
        IntVector u = x.reinterpretAsInts();
        FloatVector c = u.and(0x7f800000).add(0x06c00000).max(0x3f400000).reinterpretAsFloats();
        FloatVector r = x.add(c).sub(c);
        r = r.blend(Float.POSITIVE_INFINITY, x.abs().compare(VectorOperators.GE, 65520f));
        return r.reinterpretAsInts().or(u.and(0x80000000)).reinterpretAsFloats();
    }
}
