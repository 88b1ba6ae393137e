package dev.trestle.backends.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.trestle.backends.bytes.Le;
import dev.trestle.backends.type.GgmlType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

/** Blocks worked out by hand from the format definitions: exact bytes in, exact floats out. */
class KnownBlocksTest {

    private static byte[] quantize(GgmlType type, float[] x) {
        MemorySegment m = Arena.ofAuto().allocate(type.bytesFor(x.length));
        Codecs.of(type).quantize(x, 0, m, 0, x.length);
        return m.toArray(ValueLayout.JAVA_BYTE);
    }

    private static float[] dequantize(GgmlType type, byte[] block) {
        int n = (int) (block.length / type.bytesPerBlock() * type.blockSize());
        float[] y = new float[n];
        Codecs.of(type).dequantize(MemorySegment.ofArray(block), 0, y, 0, n);
        return y;
    }

    private static byte[] bytes(int... v) {
        byte[] b = new byte[v.length];
        for (int i = 0; i < v.length; i++) {
            b[i] = (byte) v[i];
        }
        return b;
    }

    /** 16 bytes 0x00, 0x11, ..., 0xFF: element j and j+16 both at level j. */
    private static int[] diagonalNibbles() {
        int[] v = new int[16];
        for (int j = 0; j < 16; j++) {
            v[j] = 0x11 * j;
        }
        return v;
    }

    private static byte[] concat(byte[] a, int[] b) {
        byte[] r = new byte[a.length + b.length];
        System.arraycopy(a, 0, r, 0, a.length);
        for (int i = 0; i < b.length; i++) {
            r[a.length + i] = (byte) b[i];
        }
        return r;
    }

    @Test
    void q8_0RoundsHalfAwayFromZeroLikeRoundf() {
        float[] x = new float[32];
        float[] in = {127, 2.5f, -2.5f, 3.5f, 0.5f, -0.5f, -127, 1.49f};
        System.arraycopy(in, 0, x, 0, in.length);
        // amax 127 -> d = 1.0 (fp16 0x3C00); 2.5 -> 3 (round-half-even would give 2)
        byte[] expected = new byte[34];
        byte[] head = bytes(0x00, 0x3C, 127, 3, -3, 4, 1, -1, -127, 1);
        System.arraycopy(head, 0, expected, 0, head.length);
        assertArrayEquals(expected, quantize(GgmlType.Q8_0, x));
        float[] y = dequantize(GgmlType.Q8_0, expected);
        assertEquals(3f, y[1]);
        assertEquals(-127f, y[6]);
    }

    @Test
    void cpuActivationQuantRoundsHalfToEven() {
        float[] x = new float[32];
        float[] in = {127, 2.5f, -2.5f, 3.5f, 0.5f, -0.5f, -127, 1.49f};
        System.arraycopy(in, 0, x, 0, in.length);
        // same block as above, but x86 ggml-cpu rounds half to even: 2.5 -> 2, 0.5 -> 0
        byte[] expected = new byte[34];
        byte[] head = bytes(0x00, 0x3C, 127, 2, -2, 4, 0, 0, -127, 1);
        System.arraycopy(head, 0, expected, 0, head.length);
        MemorySegment m = Arena.ofAuto().allocate(34);
        ActivationQuant.q8_0(x, 0, m, 0, 32);
        assertArrayEquals(expected, m.toArray(ValueLayout.JAVA_BYTE));
        MemorySegment m1 = Arena.ofAuto().allocate(36);
        ActivationQuant.q8_1(x, 0, m1, 0, 32);
        // sum 127+2-2+4+0+0-127+1 = 5 -> s = 5.0 (fp16 0x4500)
        assertEquals((short) 0x4500, m1.get(Le.SHORT, 2));
        assertEquals(2, m1.get(ValueLayout.JAVA_BYTE, 5));
    }

    @Test
    void q8_1AlsoStoresScaledSum() {
        float[] x = new float[32];
        float[] in = {127, 2.5f, -2.5f, 3.5f, 0.5f, -0.5f, -127, 1.49f};
        System.arraycopy(in, 0, x, 0, in.length);
        // sum of quants 127+3-3+4+1-1-127+1 = 5 -> s = 5.0 = fp16 0x4500
        byte[] expected = new byte[36];
        byte[] head = bytes(0x00, 0x3C, 0x00, 0x45, 127, 3, -3, 4, 1, -1, -127, 1);
        System.arraycopy(head, 0, expected, 0, head.length);
        assertArrayEquals(expected, quantize(GgmlType.Q8_1, x));
    }

    @Test
    void q4_0MapsTheSignedMaximumToLevelZero() {
        float[] x = new float[32];
        x[0] = -8;     // d = -8 / -8 = 1 -> level 0
        x[1] = 7;      // (int)(7 + 8.5) = 15
        x[2] = 7.9f;   // 16 clamps to 15
        x[3] = 0.5f;   // 9
        x[4] = -0.5f;  // 8
        x[5] = 0.49f;  // 8
        x[6] = -3;     // 5
        x[16] = 1;     // 9
        x[17] = -1;    // 7
        int[] qs = {0x90, 0x7F, 0x8F, 0x89, 0x88, 0x88, 0x85, 0x88, 0x88, 0x88, 0x88, 0x88, 0x88, 0x88, 0x88, 0x88};
        byte[] expected = concat(bytes(0x00, 0x3C), qs);
        assertArrayEquals(expected, quantize(GgmlType.Q4_0, x));
        float[] y = dequantize(GgmlType.Q4_0, expected);
        assertEquals(-8f, y[0]);
        assertEquals(7f, y[2]);
        assertEquals(1f, y[3]);
        assertEquals(-1f, y[17]);
        assertEquals(0f, y[31]);
    }

    @Test
    void q4_1StoresMinimumAndStep() {
        float[] x = new float[32];
        for (int j = 0; j < 32; j++) {
            x[j] = (j % 16) + 1;  // min 1, max 16 -> d = 1, m = 1
        }
        byte[] expected = concat(bytes(0x00, 0x3C, 0x00, 0x3C), diagonalNibbles());
        assertArrayEquals(expected, quantize(GgmlType.Q4_1, x));
        assertArrayEquals(x, dequantize(GgmlType.Q4_1, expected));
    }

    @Test
    void q5_0PutsTheFifthBitInQh() {
        float[] x = new float[32];
        for (int j = 0; j < 32; j++) {
            x[j] = j - 16;  // max magnitude -16 -> d = 1, level j; levels 16..31 set qh bits 16..31
        }
        byte[] expected = concat(bytes(0x00, 0x3C, 0x00, 0x00, 0xFF, 0xFF), diagonalNibbles());
        assertArrayEquals(expected, quantize(GgmlType.Q5_0, x));
        assertArrayEquals(x, dequantize(GgmlType.Q5_0, expected));
    }

    @Test
    void q5_1StoresMinimumStepAndFifthBit() {
        float[] x = new float[32];
        for (int j = 0; j < 32; j++) {
            x[j] = j + 2;  // min 2 (fp16 0x4000), max 33 -> d = 1
        }
        byte[] expected = concat(bytes(0x00, 0x3C, 0x00, 0x40, 0x00, 0x00, 0xFF, 0xFF), diagonalNibbles());
        assertArrayEquals(expected, quantize(GgmlType.Q5_1, x));
        assertArrayEquals(x, dequantize(GgmlType.Q5_1, expected));
    }

    @Test
    void iq4_nlHitsItsOwnGridExactly() {
        float[] x = new float[32];
        for (int j = 0; j < 32; j++) {
            x[j] = Iq4Quantizer.VALUES[j % 16] * 0.5f;  // d = 0.5 (fp16 0x3800), level j % 16
        }
        byte[] expected = concat(bytes(0x00, 0x38), diagonalNibbles());
        assertArrayEquals(expected, quantize(GgmlType.IQ4_NL, x));
        assertArrayEquals(x, dequantize(GgmlType.IQ4_NL, expected));
    }

    @Test
    void mxfp4UsesThePowerOfTwoBelowTheMaximum() {
        float[] x = new float[32];
        for (int j = 0; j < 32; j++) {
            x[j] = MXFP4Codec.VALUES[j % 16] * 0.25f;  // amax 3 -> e = floor(log2 3) - 2 + 127 = 126, scale 0.25
        }
        int[] qs = diagonalNibbles();
        qs[8] = 0x00;  // -0 encodes as +0: the first of two equal candidates wins
        byte[] expected = concat(bytes(126), qs);
        assertArrayEquals(expected, quantize(GgmlType.MXFP4, x));
        assertArrayEquals(x, dequantize(GgmlType.MXFP4, expected));
    }

    @Test
    void q8_kScalesByTheSignedMaximumAndStoresBlockSums() {
        float[] x = new float[256];
        for (int j = 0; j < 256; j++) {
            x[j] = j - 128;  // max -128 -> iscale = -127 / -128, q = round-half-even(k * 127 / 128)
        }
        byte[] got = quantize(GgmlType.Q8_K, x);
        MemorySegment s = MemorySegment.ofArray(got);
        assertEquals(128f / 127f, s.get(Le.FLOAT, 0));
        int[] bsum = new int[16];
        for (int j = 0; j < 256; j++) {
            int q = (int) Math.min(127, Math.rint((j - 128) * 127.0 / 128.0));
            assertEquals(q, got[4 + j], "q[" + j + "]");
            bsum[j / 16] += q;
        }
        assertEquals(-127, got[4]);
        assertEquals(64, got[4 + 192]);   // 63.5 rounds to even
        assertEquals(-64, got[4 + 64]);   // -63.5 rounds to even
        for (int j = 0; j < 16; j++) {
            assertEquals(bsum[j], s.get(Le.SHORT, 260 + 2L * j), "bsums[" + j + "]");
        }
    }

    @Test
    void q4_kUnpacksSixBitScalesAndMins() {
        byte[] b = new byte[144];
        b[0] = 0x00;
        b[1] = 0x3C;             // d = 1
        b[2] = 0x00;
        b[3] = 0x38;             // dmin = 0.5
        b[4] = 2;                // scale 0
        b[4 + 4] = 3;            // min 0
        // group 5: scale 42 = 0b10_1010, min 21 = 0b01_0101
        b[4 + 9] = (byte) (0xA | (0x5 << 4));
        b[4 + 1] = (byte) (2 << 6);
        b[4 + 5] = (byte) (1 << 6);
        for (int l = 0; l < 32; l++) {
            b[16 + l] = (byte) (l & 0xF);        // group 0: low nibbles of bytes 0..31
            b[16 + 64 + l] = (byte) (1 << 4);    // group 5: high nibbles of bytes 64..95
        }
        float[] y = dequantize(GgmlType.Q4_K, b);
        for (int l = 0; l < 32; l++) {
            assertEquals(2f * (l & 0xF) - 1.5f, y[l], "y[" + l + "]");
            assertEquals(0f, y[32 + l]);
            assertEquals(42f * 1 - 0.5f * 21, y[160 + l], "y[" + (160 + l) + "]");
        }
    }

    @Test
    void q6_kCombinesLowNibblesHighBitsAndSignedScales() {
        byte[] b = new byte[210];
        b[208] = 0x00;
        b[209] = 0x3C;           // d = 1
        b[192] = 3;              // scale of y[0..15]
        b[192 + 2] = -2;         // scale of y[32..47]
        b[0] = 0x05;             // y[0]: low nibble 5
        b[32] = 0x0F;            // y[32]: low nibble 15
        b[128] = (byte) (2 | (1 << 2));  // y[0] high bits 2, y[32] high bits 1
        float[] y = dequantize(GgmlType.Q6_K, b);
        assertEquals(3f * (5 + 32 - 32), y[0]);
        assertEquals(3f * -32, y[1]);
        assertEquals(-2f * (15 + 16 - 32), y[32]);
        assertEquals(-2f * -32, y[33]);
        assertEquals(-0f, y[16]);  // 1 * 0 * (0 - 32)
    }
}
