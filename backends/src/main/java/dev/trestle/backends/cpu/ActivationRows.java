package dev.trestle.backends.cpu;

import dev.trestle.backends.cpu.x86.VnniMatmul;
import dev.trestle.backends.type.GgmlType;

/**
 * Activation rows converted to a weight type's vec_dot type (F32, F16, BF16, Q8_0, Q8_1 or Q8_K), as
 * ggml's CPU backend converts src1 before a quantized dot product. Allocated once per shape, reused.
 *
 * <p>Quantized formats are kept unpacked: one signed byte per element in {@link #qs}, the block scale
 * in {@link #d} (already rounded to F16 where ggml stores an F16), the Q8_1 sum term in {@link #s} and
 * the Q8_K 16-element sums in {@link #bsums}. Q8_0 and Q8_K rows also keep {@link #pairs}, the quants two by two as
 * ints, which the repacked kernels broadcast (one 32-bit broadcast feeds two elements).
 */
public final class ActivationRows {
    private final GgmlType format;
    private final int rowCapacity;
    private final int maxCols;
    private int cols;
    final float[] f32;   // (rows, cols) for F32
    final short[] half;  // (rows, cols) F16 or BF16 bits
    final byte[] qs;     // (rows, cols) quants
    final float[] d;     // (rows, cols / block) block scales
    final float[] s;     // (rows, cols / 32) Q8_1: d * sum(qs), F16-rounded
    final short[] bsums; // (rows, cols / 16) Q8_K partial sums
    final int[] pairs;   // (rows, cols / 2) Q8_0 and Q8_K: see pairs()
    final int[] qsums;   // (rows, cols / 32) Q8_0: sum of each block's quants
    final byte[] vnniQs; // (rows, cols) Q8_K, only where the emitted Q4_K kernel runs: see vnniQs()
    final int[] vnniMeta; // (rows, cols / 256, 13) likewise: see vnniMeta()
    /** Where each of eight consecutive quants goes in {@link #vnniQs}: the nibble order of a Q4_K layout word. */
    private static final int[] VNNI_ORDER = {0, 4, 2, 6, 1, 5, 3, 7};
    /** Ints of {@link #vnniMeta} per Q8_K block. */
    public static final int META = 13;

    /** Buffers for up to {@code rows} rows of up to {@code maxCols} elements in {@code format}. */
    public ActivationRows(GgmlType format, int rows, int maxCols) {
        this.format = format;
        this.rowCapacity = rows;
        this.maxCols = maxCols;
        this.cols = maxCols;
        long n = (long) rows * maxCols;
        if (n > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("activation buffer too large: " + rows + " x " + maxCols);
        }
        int total = (int) n;
        f32 = format == GgmlType.F32 ? new float[total] : null;
        half = format == GgmlType.F16 || format == GgmlType.BF16 ? new short[total] : null;
        boolean q = format == GgmlType.Q8_0 || format == GgmlType.Q8_1 || format == GgmlType.Q8_K;
        qs = q ? new byte[total] : null;
        d = q ? new float[total / 32 + rows] : null;
        s = format == GgmlType.Q8_1 ? new float[total / 32 + rows] : null;
        bsums = format == GgmlType.Q8_K ? new short[total / 16 + rows] : null;
        pairs = format == GgmlType.Q8_0 || format == GgmlType.Q8_K ? new int[total / 2] : null;
        qsums = format == GgmlType.Q8_0 ? new int[total / 32 + rows] : null;
        boolean vnni = format == GgmlType.Q8_K && VnniMatmul.forType(GgmlType.Q4_K) != null;
        vnniQs = vnni ? new byte[total] : null;
        vnniMeta = vnni ? new int[(total / 256 + rows) * META] : null;
        if (!(format == GgmlType.F32 || half != null || q)) {
            throw new IllegalArgumentException("not an activation format: " + format);
        }
    }

    /** F32 values (F32 format), row-major. */
    public float[] f32() {
        return f32;
    }

    /** F16 or BF16 bits (F16/BF16 format), row-major. */
    public short[] half() {
        return half;
    }

    /** Quants, one signed byte per element (Q8_0/Q8_1/Q8_K). */
    public byte[] qs() {
        return qs;
    }

    /** Block scales: element i's scale is {@code scales()[i / blockSize]}. */
    public float[] scales() {
        return d;
    }

    /** Q8_1 per-block {@code d * sum(q)}. */
    public float[] sums() {
        return s;
    }

    /**
     * Q8_0 and Q8_K quants paired for 32-bit broadcasts: for element {@code e = 4m + s} ({@code s} 0 or 1),
     * {@code pairs()[2m + s]} holds {@code q[e]} in its low 16 bits and {@code q[e + 2]} in its high 16 bits (each
     * as a 16-bit two's complement), so that a broadcast int read as shorts alternates {@code q[e], q[e + 2]}.
     */
    public int[] pairs() {
        return pairs;
    }

    /**
     * Q8_0 per-block sums of the quants, indexed like {@link #scales()}: kernels that multiply unsigned weight
     * codes {@code c = q + offset} take {@code offset * sum} back out of each block's integer dot.
     */
    public int[] qsums() {
        return qsums;
    }

    /**
     * Q8_K quants for the emitted Q4_K kernel ({@code null} where it does not run): within each eight elements in
     * the order 0, 4, 2, 6, 1, 5, 3, 7, so that the four bytes at {@code 8c} and at {@code 8c + 4} pair with the low
     * and the high nibbles of one Q4_K layout word.
     */
    public byte[] vnniQs() {
        return vnniQs;
    }

    /**
     * Per Q8_K block ({@link #META} ints from {@code META * (element / 256)}), for the emitted K-quant kernels: the
     * scale's float bits; for 32-element sub-block pairs {@code (0, 1) .. (6, 7)} (Q4_K) the sums of their quants as
     * the two 16-bit halves of an int (at most 32 * 127 in magnitude); then likewise for the 16-element pairs
     * {@code (0, 1) .. (14, 15)} (Q6_K).
     */
    public int[] vnniMeta() {
        return vnniMeta;
    }

    /** Q8_K per-16-element sums of the quants. */
    public short[] bsums() {
        return bsums;
    }

    public GgmlType format() {
        return format;
    }

    public int rowCapacity() {
        return rowCapacity;
    }

    public int maxCols() {
        return maxCols;
    }

    /** Current row length (set by {@link #load}). */
    public int cols() {
        return cols;
    }

    /**
     * Converts {@code rows} rows of {@code n} floats (row r at {@code src[srcOff + r * srcStride]}) into this
     * buffer, row-major with row length {@code n}.
     */
    public void load(float[] src, int srcOff, int srcStride, int rows, int n) {
        if (rows > rowCapacity || n > maxCols) {
            throw new IllegalArgumentException("activation buffer holds " + rowCapacity + " x " + maxCols
                    + ", asked " + rows + " x " + n);
        }
        this.cols = n;
        // one row is a decode matvec, which the emitted VNNI kernels never see (they take two or more tokens)
        for (int r = 0; r < rows; r++) {
            convertRow(src, srcOff + r * srcStride, r * n, n, rows > 1);
        }
    }

    /** Converts one row of {@code n} floats to element offset {@code dst} (a multiple of the block size). */
    public void loadRow(float[] src, int srcOff, int dst, int n) {
        convertRow(src, srcOff, dst, n, true);
    }

    private void convertRow(float[] src, int srcOff, int dst, int n, boolean forVnni) {
        switch (format) {
            case F32 -> System.arraycopy(src, srcOff, f32, dst, n);
            case F16 -> {
                for (int i = 0; i < n; i++) {
                    half[dst + i] = Half.fromFloat(src[srcOff + i]);
                }
            }
            case BF16 -> {
                for (int i = 0; i < n; i++) {
                    half[dst + i] = Half.floatToBf16(src[srcOff + i]);
                }
            }
            case Q8_0 -> {
                ActivationQuantizer.q8_0WithSums(src, srcOff, n, qs, dst, d, dst / 32, qsums);
                pair(dst, n);
            }
            case Q8_1 -> ActivationQuantizer.q8_1(src, srcOff, n, qs, dst, d, s, dst / 32);
            case Q8_K -> {
                ActivationQuantizer.q8_K(src, srcOff, n, qs, dst, d, dst / 256, bsums, dst / 16);
                pair(dst, n);
                if (vnniQs != null && forVnni) {
                    vnniLayout(dst, n);
                }
            }
            default -> throw new IllegalStateException(format.name());
        }
    }

    private void vnniLayout(int dst, int n) {
        for (int i = dst; i < dst + n; i += 8) {
            for (int k = 0; k < 8; k++) {
                vnniQs[i + k] = qs[i + VNNI_ORDER[k]];
            }
        }
        for (int b = dst / 256, i = dst; i < dst + n; b++, i += 256) {
            int m = META * b;
            int s = i / 16;
            vnniMeta[m] = Float.floatToRawIntBits(d[b]);
            for (int p = 0; p < 4; p++) {
                int s0 = bsums[s + 4 * p] + bsums[s + 4 * p + 1];
                int s1 = bsums[s + 4 * p + 2] + bsums[s + 4 * p + 3];
                vnniMeta[m + 1 + p] = (s0 & 0xffff) | s1 << 16;
            }
            for (int p = 0; p < 8; p++) {
                vnniMeta[m + 5 + p] = (bsums[s + 2 * p] & 0xffff) | bsums[s + 2 * p + 1] << 16;
            }
        }
    }

    private void pair(int dst, int n) {
        for (int i = dst, p = dst / 2; i < dst + n; i += 4, p += 2) {
            pairs[p] = (qs[i] & 0xffff) | qs[i + 2] << 16;
            pairs[p + 1] = (qs[i + 1] & 0xffff) | qs[i + 3] << 16;
        }
    }

    /** Float view of element {@code i} after conversion (for reference checks). */
    public float value(int i) {
        return switch (format) {
            case F32 -> f32[i];
            case F16 -> Half.toFloat(half[i]);
            case BF16 -> Half.bf16ToFloat(half[i]);
            case Q8_0, Q8_1 -> qs[i] * d[i / 32];
            case Q8_K -> qs[i] * d[i / 256];
            default -> throw new IllegalStateException(format.name());
        };
    }
}
