package dev.trestle.backends.cpu;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.trestle.backends.cpu.kernel.RowKernel;
import dev.trestle.backends.cpu.kernel.RowKernels;
import dev.trestle.backends.type.GgmlType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Random;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.ShortVector;
import org.junit.jupiter.api.Test;

/**
 * The vectorized flash path over an F16 V cache against the one-pass scalar loop it replaces (ggml's
 * flash_attn_ext order: per cell an online-softmax update and an F16-rounded fma), bit for bit.
 */
class AttentionTest {
    private static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** The one-pass flash loop for F16 V, as Attention computed it before the vector path. */
    private static void reference(Attention.Shape shape, float[] qf, int qOff, int head, Attention.KvView kv,
                                  int[] cells, int nCells, float[] out, int outOff) {
        int hd = shape.headDim();
        RowKernel kk = RowKernels.forType(kv.kType(), "K");
        int kvHead = head / (shape.nHead() / shape.nHeadKv());
        long kHeadOff = kv.kType().bytesFor((long) kvHead * hd);
        long vHeadOff = kv.vType().bytesFor((long) kvHead * hd);
        ActivationRows qa = new ActivationRows(kk.dotType(), 1, hd);
        qa.load(qf, qOff, hd, 1, hd);
        float scale = shape.scale();
        float cap = shape.softcap();
        if (cap != 0f) {
            scale /= cap;
        }
        float[] a = new float[hd];
        float m = Float.NEGATIVE_INFINITY;
        float sum = 0f;
        for (int i = 0; i < nCells; i++) {
            int c = cells[i];
            float s = kk.vecDot(kv.k(), c * kv.kRowBytes() + kHeadOff, qa, 0, hd) * scale;
            if (cap != 0f) {
                s = cap * (float) Math.tanh(s);
            }
            float ms = 1f;
            float vs = 1f;
            if (s > m) {
                float mOld = m;
                m = s;
                ms = LibmFloat.expf(mOld - m);
                for (int d = 0; d < hd; d++) {
                    a[d] = Half.round(a[d] * ms);
                }
            } else {
                vs = LibmFloat.expf(s - m);
            }
            for (int d = 0; d < hd; d++) {
                float vr = Half.toFloat(kv.v().get(SHORT, c * kv.vRowBytes() + vHeadOff + 2L * d));
                a[d] = Half.round(Math.fma(vr, vs, a[d]));
            }
            sum = sum * ms + vs;
        }
        float inv = sum == 0f ? 0f : 1f / sum;
        for (int d = 0; d < hd; d++) {
            out[outOff + d] = a[d] * inv;
        }
    }

    @Test
    void flashF16MatchesTheOnePassLoopBitForBit() {
        Random rnd = new Random(11);
        try (Arena arena = Arena.ofConfined()) {
            // head sizes: four vectors per pass, two blocks, and single-vector tails
            for (int hd : new int[] {64, 128, 80, 16}) {
                for (float softcap : new float[] {0f, 20f}) {
                    for (GgmlType kType : new GgmlType[] {GgmlType.F16, GgmlType.Q8_0}) {
                        if (hd % kType.blockSize() != 0) {
                            continue;
                        }
                        int nHead = 8;
                        int nHeadKv = 2;
                        int cellsTotal = 300;
                        int kvd = nHeadKv * hd;
                        Attention.Shape shape = new Attention.Shape(nHead, nHeadKv, hd, (float) (1 / Math.sqrt(hd)),
                                softcap, true);
                        Attention att = new Attention(shape, kType, GgmlType.F16, 2, cellsTotal);
                        long kRow = kType.bytesFor(kvd);
                        long vRow = GgmlType.F16.bytesFor(kvd);
                        MemorySegment k = arena.allocate(kRow * cellsTotal, 16);
                        MemorySegment v = arena.allocate(vRow * cellsTotal, 16);
                        float[] row = new float[kvd];
                        for (int c = 0; c < cellsTotal; c++) {
                            // a drift in the keys makes later cells raise the maximum now and then
                            for (int i = 0; i < kvd; i++) {
                                row[i] = (float) (rnd.nextGaussian() * (1 + c / 100.0));
                            }
                            RowQuantizer.store(kType, row, 0, kvd, k, c * kRow);
                            for (int i = 0; i < kvd; i++) {
                                row[i] = (float) (rnd.nextGaussian() * 3);
                            }
                            RowQuantizer.store(GgmlType.F16, row, 0, kvd, v, c * vRow);
                            // V values the widening and rounding must keep exact: subnormals anywhere, values that
                            // push the F16 accumulator past 65504 in a few dimensions, infinities and a NaN in others
                            for (int i = 0; i < kvd; i++) {
                                long at = c * vRow + 2L * i;
                                if (rnd.nextInt(20) == 0) {
                                    v.set(SHORT, at, (short) (rnd.nextInt(0x3ff) + 1 | (rnd.nextBoolean() ? 0x8000 : 0)));
                                } else if (i % 23 == 5) {
                                    v.set(SHORT, at, Half.fromFloat(rnd.nextInt(2) * 65504f));
                                } else if (i % 29 == 7 && rnd.nextInt(100) == 0) {
                                    v.set(SHORT, at, (short) (rnd.nextBoolean() ? 0x7c00 : rnd.nextBoolean() ? 0xfc00 : 0x7e01));
                                }
                            }
                        }
                        Attention.KvView kv = new Attention.KvView(kType, k, kRow, GgmlType.F16, v, vRow);
                        float[] q = new float[nHead * hd];
                        for (int i = 0; i < q.length; i++) {
                            q[i] = (float) (rnd.nextGaussian() * 2);
                        }
                        int[] cells = new int[cellsTotal];
                        for (int nCells : new int[] {0, 1, 7, 150, 300}) {
                            for (int i = 0; i < nCells; i++) {
                                cells[i] = (i * 7) % cellsTotal; // visited out of storage order
                            }
                            for (int h = 0; h < nHead; h++) {
                                float[] got = new float[hd];
                                float[] want = new float[hd];
                                att.attendHead(h % 2, q, h * hd, h, kv, cells, nCells, got, 0);
                                reference(shape, q, h * hd, h, kv, cells, nCells, want, 0);
                                for (int d = 0; d < hd; d++) {
                                    assertSame(want[d], got[d], "hd " + hd + " cap " + softcap + " K " + kType
                                            + " cells " + nCells + " head " + h + " dim " + d);
                                }
                            }
                            // heads two by two (one pass over V for both), as the engine calls them
                            for (int h = 0; h + 1 < nHead; h += 2) {
                                float[] got = new float[2 * hd];
                                float[] want = new float[2 * hd];
                                att.attendHeadPair(h / 2 % 2, q, h * hd, h, (h + 1) * hd, h + 1, kv, cells, nCells,
                                        got, 0, hd);
                                reference(shape, q, h * hd, h, kv, cells, nCells, want, 0);
                                reference(shape, q, (h + 1) * hd, h + 1, kv, cells, nCells, want, hd);
                                for (int d = 0; d < 2 * hd; d++) {
                                    assertSame(want[d], got[d], "pair hd " + hd + " cap " + softcap + " K " + kType
                                            + " cells " + nCells + " heads " + h + "+" + (h + 1) + " dim " + d);
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /** The same bits, or both NaN (a NaN's payload depends on operand order in the fma). */
    private static void assertSame(float want, float got, String what) {
        assertTrue(Float.isNaN(want) ? Float.isNaN(got) : Float.floatToIntBits(want) == Float.floatToIntBits(got),
                what + ": " + want + " vs " + got);
    }

    @Test
    void vectorHalfConversionsMatchTheScalarOnes() {
        int l = FloatVector.SPECIES_PREFERRED.length() <= 16 ? FloatVector.SPECIES_PREFERRED.length() : 16;
        // every F16 bit pattern widens exactly
        short[] h = new short[l];
        float[] f = new float[l];
        var shortSpecies = ShortVector.SPECIES_64.withShape(jdk.incubator.vector.VectorShape.forBitSize(l * 16));
        var floatSpecies = FloatVector.SPECIES_64.withShape(jdk.incubator.vector.VectorShape.forBitSize(l * 32));
        for (int base = 0; base < 65536; base += l) {
            for (int i = 0; i < l; i++) {
                h[i] = (short) (base + i);
            }
            Attention.widenHalf(ShortVector.fromArray(shortSpecies, h, 0)).intoArray(f, 0);
            for (int i = 0; i < l; i++) {
                float want = Half.toFloat(h[i]);
                assertTrue(Float.isNaN(want) ? Float.isNaN(f[i])
                        : Float.floatToIntBits(want) == Float.floatToIntBits(f[i]), "F16 0x" + Integer.toHexString(base + i));
            }
        }
        // rounding: edges (ties, subnormals, overflow, specials) and a sweep of float bit patterns
        Random rnd = new Random(3);
        float[] x = new float[l];
        float[] got = new float[l];
        int[] edges = {0, 0x80000000, 0x7f800000, 0xff800000, 0x7fc00000, 0x477fe000, 0x477fefff, 0x477ff000,
            0x477ff001, 0x38800000, 0x387fffff, 0x33000000, 0x33000001, 0x32ffffff, 0x33800000, 0x33c00000, 1,
            0x3f801000, 0x3f803000, 0x3f800fff, 0x7f7fffff, 0x0080_0000};
        int n = 0;
        for (int it = 0; it < 400_000; it++) {
            int bits;
            if (it < edges.length) {
                bits = edges[it];
            } else if (it % 3 == 0) {
                bits = rnd.nextInt();
            } else {
                // mostly the F16 range, where the interesting rounding happens
                bits = (rnd.nextInt(0x48000000 - 0x32000000) + 0x32000000) | (rnd.nextBoolean() ? 0x80000000 : 0);
            }
            x[n++] = Float.intBitsToFloat(bits);
            if (n == l) {
                Attention.roundToHalf(FloatVector.fromArray(floatSpecies, x, 0)).intoArray(got, 0);
                for (int i = 0; i < l; i++) {
                    float want = Half.round(x[i]);
                    assertTrue(Float.isNaN(want) ? Float.isNaN(got[i])
                            : Float.floatToIntBits(want) == Float.floatToIntBits(got[i]),
                            "round 0x" + Integer.toHexString(Float.floatToRawIntBits(x[i])) + ": " + want + " vs " + got[i]);
                }
                n = 0;
            }
        }
    }
}
