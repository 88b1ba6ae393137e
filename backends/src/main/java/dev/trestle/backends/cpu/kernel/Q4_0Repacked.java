package dev.trestle.backends.cpu.kernel;

import dev.trestle.backends.bytes.Le;
import dev.trestle.backends.cpu.ActivationRows;
import dev.trestle.backends.type.GgmlType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Q4_0 repacked into groups of {@link #G} rows (one short lane per row: 32 on AVX-512). Per 32-element block the
 * group stores its {@code G} weight scales as floats, then 8 chunks of {@code 2G} bytes: chunk {@code c} holds,
 * for every row {@code r}, the stored nibble bytes {@code 2c} and {@code 2c + 1} of that row as one little-endian
 * short, each nibble xor 8 so that it reads as the signed 4-bit value {@code q - 8}. One 16-bit shift pair
 * yields a whole vector of row weights for one element, multiplied by the activation element broadcast.
 *
 * <p>Numerics: a block's dot {@code sum((q - 8) * x)} is at most 32 * 8 * 127 = 32512 in magnitude, so the short
 * lanes hold it exactly in any order; each row then adds {@code float(isum) * (d_w * d_x)} with one fma per
 * block in block order ({@link #dotScalar}), the same for every token count and JIT tier.
 */
public final class Q4_0Repacked implements RepackedKernel {
    private static final VectorSpecies<Short> S = ShortVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    /** Rows per group: one per short lane. */
    static final int G = S.length();
    private static final int HALF = F.length();
    private static final int SRC_BLOCK = 18;
    private static final int CHUNK = 2 * G;
    private static final int SCALES = 4 * G;
    private static final int BLOCK = SCALES + 8 * CHUNK;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(LE);

    @Override
    public GgmlType weightType() {
        return GgmlType.Q4_0;
    }

    @Override
    public GgmlType dotType() {
        return GgmlType.Q8_0;
    }

    @Override
    public int groupRows() {
        return G;
    }

    @Override
    public long groupBytes(int cols) {
        return (long) (cols / 32) * BLOCK;
    }

    @Override
    public void repack(MemorySegment src, long srcOff, long rowBytes, int cols, MemorySegment dst, long dstOff) {
        int blocks = cols / 32;
        for (int b = 0; b < blocks; b++) {
            long bo = dstOff + (long) b * BLOCK;
            for (int r = 0; r < G; r++) {
                long so = srcOff + r * rowBytes + (long) b * SRC_BLOCK;
                dst.set(FLOAT, bo + 4L * r, Le.f16(src, so));
                for (int c = 0; c < 8; c++) {
                    // stored bytes 2c and 2c + 1 of the row stay one little-endian short
                    short v = (short) (src.get(Le.SHORT, so + 2 + 2L * c) ^ 0x8888);
                    dst.set(Le.SHORT, bo + SCALES + (long) c * CHUNK + 2L * r, v);
                }
            }
        }
    }

    @Override
    public void multiply(MemorySegment w, long groupOff, int cols, ActivationRows a, int[] actRows, int[] outRows,
                         int tokens, float[] out, int outStride, int rowOff) {
        int t = 0;
        for (; t + 4 <= tokens; t += 4) {
            multiply4(w, groupOff, cols, a, row(actRows, t), row(actRows, t + 1), row(actRows, t + 2),
                    row(actRows, t + 3), out, row(outRows, t) * outStride + rowOff,
                    row(outRows, t + 1) * outStride + rowOff, row(outRows, t + 2) * outStride + rowOff,
                    row(outRows, t + 3) * outStride + rowOff);
        }
        for (; t < tokens; t++) {
            multiply1(w, groupOff, cols, a, row(actRows, t), out, row(outRows, t) * outStride + rowOff);
        }
    }

    private static int row(int[] rows, int t) {
        return rows == null ? t : rows[t];
    }

    /** One activation row: the decode matvec. */
    private static void multiply1(MemorySegment w, long groupOff, int cols, ActivationRows a, int actRow, float[] out,
                                  int outOff) {
        byte[] qs = a.qs();
        float[] ds = a.scales();
        int x0 = actRow * cols;
        int blocks = cols / 32;
        FloatVector lo = FloatVector.zero(F);
        FloatVector hi = FloatVector.zero(F);
        for (int b = 0; b < blocks; b++) {
            long bo = groupOff + (long) b * BLOCK;
            int xo = x0 + b * 32;
            ShortVector acc = ShortVector.zero(S);
            for (int j = 0; j < 16; j += 2) {
                ShortVector v = ShortVector.fromMemorySegment(S, w, bo + SCALES + (long) j * G, LE);
                ShortVector e0 = v.lanewise(VectorOperators.LSHL, 12).lanewise(VectorOperators.ASHR, 12);
                ShortVector e16 = v.lanewise(VectorOperators.LSHL, 8).lanewise(VectorOperators.ASHR, 12);
                ShortVector e1 = v.lanewise(VectorOperators.LSHL, 4).lanewise(VectorOperators.ASHR, 12);
                ShortVector e17 = v.lanewise(VectorOperators.ASHR, 12);
                int i = xo + j;
                acc = acc.add(e0.mul((short) qs[i]).add(e16.mul((short) qs[i + 16])))
                        .add(e1.mul((short) qs[i + 1]).add(e17.mul((short) qs[i + 17])));
            }
            float dx = ds[x0 / 32 + b];
            FloatVector dl = FloatVector.fromMemorySegment(F, w, bo, LE);
            FloatVector dh = FloatVector.fromMemorySegment(F, w, bo + 4L * HALF, LE);
            lo = ((FloatVector) acc.convertShape(VectorOperators.S2F, F, 0)).fma(dl.mul(dx), lo);
            hi = ((FloatVector) acc.convertShape(VectorOperators.S2F, F, 1)).fma(dh.mul(dx), hi);
        }
        lo.intoArray(out, outOff);
        hi.intoArray(out, outOff + HALF);
    }

    /** Four activation rows: each unpacked weight vector feeds four tokens (prefill, routed expert tokens). */
    private static void multiply4(MemorySegment w, long groupOff, int cols, ActivationRows a, int r0, int r1, int r2,
                                  int r3, float[] out, int o0, int o1, int o2, int o3) {
        byte[] qs = a.qs();
        float[] ds = a.scales();
        int x0 = r0 * cols;
        int x1 = r1 * cols;
        int x2 = r2 * cols;
        int x3 = r3 * cols;
        int blocks = cols / 32;
        FloatVector lo0 = FloatVector.zero(F);
        FloatVector hi0 = FloatVector.zero(F);
        FloatVector lo1 = FloatVector.zero(F);
        FloatVector hi1 = FloatVector.zero(F);
        FloatVector lo2 = FloatVector.zero(F);
        FloatVector hi2 = FloatVector.zero(F);
        FloatVector lo3 = FloatVector.zero(F);
        FloatVector hi3 = FloatVector.zero(F);
        for (int b = 0; b < blocks; b++) {
            long bo = groupOff + (long) b * BLOCK;
            int xb = b * 32;
            ShortVector s0 = ShortVector.zero(S);
            ShortVector s1 = ShortVector.zero(S);
            ShortVector s2 = ShortVector.zero(S);
            ShortVector s3 = ShortVector.zero(S);
            for (int j = 0; j < 16; j += 2) {
                ShortVector v = ShortVector.fromMemorySegment(S, w, bo + SCALES + (long) j * G, LE);
                ShortVector e0 = v.lanewise(VectorOperators.LSHL, 12).lanewise(VectorOperators.ASHR, 12);
                ShortVector e16 = v.lanewise(VectorOperators.LSHL, 8).lanewise(VectorOperators.ASHR, 12);
                ShortVector e1 = v.lanewise(VectorOperators.LSHL, 4).lanewise(VectorOperators.ASHR, 12);
                ShortVector e17 = v.lanewise(VectorOperators.ASHR, 12);
                int i = x0 + xb + j;
                s0 = s0.add(e0.mul((short) qs[i]).add(e16.mul((short) qs[i + 16])))
                        .add(e1.mul((short) qs[i + 1]).add(e17.mul((short) qs[i + 17])));
                i = x1 + xb + j;
                s1 = s1.add(e0.mul((short) qs[i]).add(e16.mul((short) qs[i + 16])))
                        .add(e1.mul((short) qs[i + 1]).add(e17.mul((short) qs[i + 17])));
                i = x2 + xb + j;
                s2 = s2.add(e0.mul((short) qs[i]).add(e16.mul((short) qs[i + 16])))
                        .add(e1.mul((short) qs[i + 1]).add(e17.mul((short) qs[i + 17])));
                i = x3 + xb + j;
                s3 = s3.add(e0.mul((short) qs[i]).add(e16.mul((short) qs[i + 16])))
                        .add(e1.mul((short) qs[i + 1]).add(e17.mul((short) qs[i + 17])));
            }
            FloatVector dl = FloatVector.fromMemorySegment(F, w, bo, LE);
            FloatVector dh = FloatVector.fromMemorySegment(F, w, bo + 4L * HALF, LE);
            float d0 = ds[x0 / 32 + b];
            lo0 = ((FloatVector) s0.convertShape(VectorOperators.S2F, F, 0)).fma(dl.mul(d0), lo0);
            hi0 = ((FloatVector) s0.convertShape(VectorOperators.S2F, F, 1)).fma(dh.mul(d0), hi0);
            float d1 = ds[x1 / 32 + b];
            lo1 = ((FloatVector) s1.convertShape(VectorOperators.S2F, F, 0)).fma(dl.mul(d1), lo1);
            hi1 = ((FloatVector) s1.convertShape(VectorOperators.S2F, F, 1)).fma(dh.mul(d1), hi1);
            float d2 = ds[x2 / 32 + b];
            lo2 = ((FloatVector) s2.convertShape(VectorOperators.S2F, F, 0)).fma(dl.mul(d2), lo2);
            hi2 = ((FloatVector) s2.convertShape(VectorOperators.S2F, F, 1)).fma(dh.mul(d2), hi2);
            float d3 = ds[x3 / 32 + b];
            lo3 = ((FloatVector) s3.convertShape(VectorOperators.S2F, F, 0)).fma(dl.mul(d3), lo3);
            hi3 = ((FloatVector) s3.convertShape(VectorOperators.S2F, F, 1)).fma(dh.mul(d3), hi3);
        }
        lo0.intoArray(out, o0);
        hi0.intoArray(out, o0 + HALF);
        lo1.intoArray(out, o1);
        hi1.intoArray(out, o1 + HALF);
        lo2.intoArray(out, o2);
        hi2.intoArray(out, o2 + HALF);
        lo3.intoArray(out, o3);
        hi3.intoArray(out, o3 + HALF);
    }

    /**
     * Scalar reference of one row of {@link #multiply}, read from the stored (not repacked) row: exact integer
     * block dots, one fma per block in block order.
     */
    public static float dotScalar(MemorySegment w, long wOff, ActivationRows a, int aOff, int n) {
        byte[] qs = a.qs();
        float[] ds = a.scales();
        float acc = 0f;
        for (int b = 0; b < n / 32; b++) {
            long bo = wOff + (long) b * SRC_BLOCK;
            int ao = aOff + b * 32;
            int isum = 0;
            for (int j = 0; j < 16; j++) {
                int q = Le.u8(w, bo + 2 + j);
                isum += ((q & 0xf) - 8) * qs[ao + j] + ((q >>> 4) - 8) * qs[ao + j + 16];
            }
            acc = Math.fma((float) isum, Le.f16(w, bo) * ds[ao / 32], acc);
        }
        return acc;
    }
}
