package dev.trestle.backends.cpu.kernel;

import dev.trestle.backends.bytes.Le;
import dev.trestle.backends.cpu.ActivationRows;
import dev.trestle.backends.type.GgmlType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Q8_0 repacked into groups of {@link #G} rows (one short lane per row: 32 on AVX-512). Per 32-element block the
 * group stores its {@code G} weight scales as floats, then 16 chunks of {@code 2G} bytes: chunk {@code c} holds,
 * for every row, quants {@code 2c} and {@code 2c + 1} of that row as one little-endian short.
 *
 * <p>Numerics: one product is at most 128 * 127 = 16256 in magnitude, so the sum of the two products of a chunk
 * fits a short exactly; those pair sums are widened to int lanes and summed into the block's exact integer dot,
 * then each row adds {@code float(isum) * (d_w * d_x)} with one fma per block in block order
 * ({@link #dotScalar}), the same for every token count and JIT tier.
 */
public final class Q8_0Repacked implements RepackedKernel {
    private static final VectorSpecies<Short> S = ShortVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    /** Rows per group: one per short lane. */
    static final int G = S.length();
    private static final int HALF = F.length();
    private static final int SRC_BLOCK = 34;
    private static final int CHUNK = 2 * G;
    private static final int SCALES = 4 * G;
    private static final int BLOCK = SCALES + 16 * CHUNK;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(LE);

    @Override
    public GgmlType weightType() {
        return GgmlType.Q8_0;
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
                for (int c = 0; c < 16; c++) {
                    // stored bytes 2c and 2c + 1 of the row stay one little-endian short
                    short v = src.get(Le.SHORT, so + 2 + 2L * c);
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
            IntVector il = IntVector.zero(I);
            IntVector ih = IntVector.zero(I);
            for (int j = 0; j < 32; j += 2) {
                ShortVector v = ShortVector.fromMemorySegment(S, w, bo + SCALES + (long) j * G, LE);
                ShortVector even = v.lanewise(VectorOperators.LSHL, 8).lanewise(VectorOperators.ASHR, 8);
                ShortVector odd = v.lanewise(VectorOperators.ASHR, 8);
                ShortVector p = even.mul((short) qs[xo + j]).add(odd.mul((short) qs[xo + j + 1]));
                il = il.add((IntVector) p.convertShape(VectorOperators.S2I, I, 0));
                ih = ih.add((IntVector) p.convertShape(VectorOperators.S2I, I, 1));
            }
            float dx = ds[x0 / 32 + b];
            FloatVector dl = FloatVector.fromMemorySegment(F, w, bo, LE);
            FloatVector dh = FloatVector.fromMemorySegment(F, w, bo + 4L * HALF, LE);
            lo = ((FloatVector) il.convert(VectorOperators.I2F, 0)).fma(dl.mul(dx), lo);
            hi = ((FloatVector) ih.convert(VectorOperators.I2F, 0)).fma(dh.mul(dx), hi);
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
            IntVector il0 = IntVector.zero(I);
            IntVector ih0 = IntVector.zero(I);
            IntVector il1 = IntVector.zero(I);
            IntVector ih1 = IntVector.zero(I);
            IntVector il2 = IntVector.zero(I);
            IntVector ih2 = IntVector.zero(I);
            IntVector il3 = IntVector.zero(I);
            IntVector ih3 = IntVector.zero(I);
            for (int j = 0; j < 32; j += 2) {
                ShortVector v = ShortVector.fromMemorySegment(S, w, bo + SCALES + (long) j * G, LE);
                ShortVector even = v.lanewise(VectorOperators.LSHL, 8).lanewise(VectorOperators.ASHR, 8);
                ShortVector odd = v.lanewise(VectorOperators.ASHR, 8);
                int i = x0 + xb + j;
                ShortVector p = even.mul((short) qs[i]).add(odd.mul((short) qs[i + 1]));
                il0 = il0.add((IntVector) p.convertShape(VectorOperators.S2I, I, 0));
                ih0 = ih0.add((IntVector) p.convertShape(VectorOperators.S2I, I, 1));
                i = x1 + xb + j;
                p = even.mul((short) qs[i]).add(odd.mul((short) qs[i + 1]));
                il1 = il1.add((IntVector) p.convertShape(VectorOperators.S2I, I, 0));
                ih1 = ih1.add((IntVector) p.convertShape(VectorOperators.S2I, I, 1));
                i = x2 + xb + j;
                p = even.mul((short) qs[i]).add(odd.mul((short) qs[i + 1]));
                il2 = il2.add((IntVector) p.convertShape(VectorOperators.S2I, I, 0));
                ih2 = ih2.add((IntVector) p.convertShape(VectorOperators.S2I, I, 1));
                i = x3 + xb + j;
                p = even.mul((short) qs[i]).add(odd.mul((short) qs[i + 1]));
                il3 = il3.add((IntVector) p.convertShape(VectorOperators.S2I, I, 0));
                ih3 = ih3.add((IntVector) p.convertShape(VectorOperators.S2I, I, 1));
            }
            FloatVector dl = FloatVector.fromMemorySegment(F, w, bo, LE);
            FloatVector dh = FloatVector.fromMemorySegment(F, w, bo + 4L * HALF, LE);
            float d0 = ds[x0 / 32 + b];
            lo0 = ((FloatVector) il0.convert(VectorOperators.I2F, 0)).fma(dl.mul(d0), lo0);
            hi0 = ((FloatVector) ih0.convert(VectorOperators.I2F, 0)).fma(dh.mul(d0), hi0);
            float d1 = ds[x1 / 32 + b];
            lo1 = ((FloatVector) il1.convert(VectorOperators.I2F, 0)).fma(dl.mul(d1), lo1);
            hi1 = ((FloatVector) ih1.convert(VectorOperators.I2F, 0)).fma(dh.mul(d1), hi1);
            float d2 = ds[x2 / 32 + b];
            lo2 = ((FloatVector) il2.convert(VectorOperators.I2F, 0)).fma(dl.mul(d2), lo2);
            hi2 = ((FloatVector) ih2.convert(VectorOperators.I2F, 0)).fma(dh.mul(d2), hi2);
            float d3 = ds[x3 / 32 + b];
            lo3 = ((FloatVector) il3.convert(VectorOperators.I2F, 0)).fma(dl.mul(d3), lo3);
            hi3 = ((FloatVector) ih3.convert(VectorOperators.I2F, 0)).fma(dh.mul(d3), hi3);
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
            for (int j = 0; j < 32; j++) {
                isum += Le.i8(w, bo + 2 + j) * qs[ao + j];
            }
            acc = Math.fma((float) isum, Le.f16(w, bo) * ds[ao / 32], acc);
        }
        return acc;
    }
}
