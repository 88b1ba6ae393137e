package dev.trestle.backends.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import dev.trestle.backends.type.GgmlType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Our quantizers and dequantizers against llama.cpp's: the SHA-256 of the bytes ggml's
 * {@code quantize_row_*_ref} wrote for {@link Signals#mixed}(20261129, 4096, zero first block), and of
 * the floats its {@code dequantize_row_*} decoded from those bytes (ggml d99724f2, x86-64, gcc -O2).
 * Any deviation in rounding, search order or bit packing changes a hash.
 */
class LlamaReferenceBytesTest {
    private static final int N = 4096;

    /** type -> {sha256(quantized bytes), sha256(dequantized floats, little-endian)} */
    private static final Map<GgmlType, String[]> REFERENCE = Map.ofEntries(
            Map.entry(GgmlType.F16, new String[] {"949ec941d8a712684c469b88ec0e41847a4070804001d58b43f4183d672693e6",
                    "b3c3bb319e55dc5a2db08c68501ed0b0a2c9c61503c1b2d74a8fd0eb73bd32a0"}),
            Map.entry(GgmlType.BF16, new String[] {"3a165545c497b54384c775ff01d827f5c9bb41aed547cdddc42ba60901070411",
                    "f4003a699ef8686edf90b2fa1796976696db7aa89df65133aab1b502d119e390"}),
            Map.entry(GgmlType.Q4_0, new String[] {"e7dd5dedff208e46681fb532bfe7954ff584e00fc411de91327c30f63ebec6c3",
                    "3c57ecca354c9081aa7b7fba5c4eefa9c507d561c433f85e92e0c8850d350931"}),
            Map.entry(GgmlType.Q4_1, new String[] {"f7a39806f53a110f048a764724463bdb5dda53afd36714771425dcb536399152",
                    "3dae0a590717924a580180296c50f50b3715c6e71bdf5aa10fa540b5d2f6a21b"}),
            Map.entry(GgmlType.Q5_0, new String[] {"54510820caaa2acfc782140b5211414913aa268b733146f0b1512ba5733b7c49",
                    "a95fe60e36972af4d5ed53649fedfbd3a34851adf309a52d4a8b732bd20f1d5c"}),
            Map.entry(GgmlType.Q5_1, new String[] {"57150f22e88f98fdbb5195262bfc95f2014f489608f0bc1d81648bdaf1df9f44",
                    "73b3c2044241455026d55d1d41ab7a8c853178c94f8c2a82a38c21e877e37099"}),
            Map.entry(GgmlType.Q8_0, new String[] {"b3712af943b3920fb0d0e41de4258cd7f622597c2969cc3a047d09cb938957a7",
                    "b656173ba25e182378ecdfeb41b934ab3d16f1d527ac2d49a433cf8cbb1592f7"}),
            Map.entry(GgmlType.Q8_1, new String[] {"4008541f07558bd39d141f8eb73617645f13792bca382b9533ddf188f2473a4b",
                    "b656173ba25e182378ecdfeb41b934ab3d16f1d527ac2d49a433cf8cbb1592f7"}),
            Map.entry(GgmlType.Q2_K, new String[] {"7a403abbef61e0db2cf98ff20bb326478f29decb325574f90789532063e889be",
                    "04be3cbd77639bfe4344acbdedb373ff2043f193316b819bd2dc8dff1903cdb4"}),
            Map.entry(GgmlType.Q3_K, new String[] {"54f5a1a3574e4be1705fdfc6dadf745c374259d3cbf1743d9ceb8a5d5af4283c",
                    "b91ff11fc4d6b7e8c884f3501201b6bf284b50b13f0d1823ee5c414b1c6fbabc"}),
            Map.entry(GgmlType.Q4_K, new String[] {"59cce7c4f8ca89c4cbf44daa9e63674658d87647799a2b9f101513e8b47f3bc9",
                    "e2d6cfd23b86c3c462120cf8901b869a491ce742635a68b5b20b67b0163e4c88"}),
            Map.entry(GgmlType.Q5_K, new String[] {"8b812a65b960f60d77ca601336bfd22250aec6a5e91e0d8322b237d8e9134364",
                    "583b9412f88db2e4eb2b023c673d5eb538bdb2260d10a2811aa8d9a3d7f28497"}),
            Map.entry(GgmlType.Q6_K, new String[] {"9e26b253d91742859e545062a1fd93df8b2133c4d1ff919fa594a557093240a0",
                    "2a9a9ffc583e813785588f1a032b913a981962c7485775a66a574cd0bbb7c550"}),
            Map.entry(GgmlType.Q8_K, new String[] {"cb4fa98d5b3e72b97a8409245290ce0ca518ee3091997fb2d99f6d2bab38ac68",
                    "3395d22e55faf71725fc84776ea11193597acf0a733f906a7eaea7e8cc973aa3"}),
            Map.entry(GgmlType.IQ4_NL, new String[] {"0a37a671a0da558ccd9684fc45b7b1927e76e7eed2d156cb311344e1e5778a10",
                    "17c37e4696b49ce227fac56f0b2adb51ff30fb807738c6eb9c07a543a948aa87"}),
            Map.entry(GgmlType.IQ4_XS, new String[] {"d006f15fa65faa65f7efed7a0520056c6978527ac0db0414951e399ccc47b007",
                    "fc7113719ca600fd655f088e5445701cfc7ff88e72bf9a6ad166027c58d970d2"}),
            Map.entry(GgmlType.MXFP4, new String[] {"379351e84edb13ac87d4e7ed0e81542099ccf1646f8cf054573442a45e91096a",
                    "cc755cdec3b100cdf7a389d30cefe22ecaa956c4d85d997e3987096ea0fd8373"})
    );

    /**
     * type -> sha256 of the floats ggml's dequantize_row_* decodes from {@link Signals#randomBlocks}
     * (type, 777, 64 blocks): arbitrary bit patterns (every scale, high-bit and sign combination),
     * not only those our quantizer happens to write. Q8_1 has no ggml dequantizer; its hash is of
     * qs * d.
     */
    private static final Map<GgmlType, String> RANDOM_BLOCKS = Map.ofEntries(
            Map.entry(GgmlType.Q4_0, "12ae9e3b30c1b71ec4b57be8802b775d5d47c6ad90f587c7c439e55ef62a0924"),
            Map.entry(GgmlType.Q4_1, "eb184530d7ab6f69548c361c333956e147dac4d510aff60e132901e0c4786350"),
            Map.entry(GgmlType.Q5_0, "ff3a141712ef0ce9e4fa25280b2b365aa42e49d6b3e90a8d7065f991a6735683"),
            Map.entry(GgmlType.Q5_1, "7879b97e23e282c71a6ffb12e6fcd0b7215c065b1d142e028d996b0475497027"),
            Map.entry(GgmlType.Q8_0, "23f8d915ff138bfba7abf10af1a668e4bb85ad0a3f0d8d94e504caaf0435ec64"),
            Map.entry(GgmlType.Q8_1, "d78c0323b576c78883c8cb6e7fc870ec0b107f159873c52b4ef7d21fe99706b3"),
            Map.entry(GgmlType.Q2_K, "0bd24889849f806c202dda2537fd3584718bf348c63386e4db255d2ae4cab78a"),
            Map.entry(GgmlType.Q3_K, "7f05619f59c989a4abf49322c539e612bb3e08da18c21829f804602c02cdc729"),
            Map.entry(GgmlType.Q4_K, "270c60581d99852ebe40eeb8a5df00776ae572517bc6e0f3036a46b058d7bd81"),
            Map.entry(GgmlType.Q5_K, "dfd94e2099c7d654cbc396e2edb40685555573efe3e3ab5e3816802add697994"),
            Map.entry(GgmlType.Q6_K, "17bcf5fad0f90a57b43718bd22124ca9dd14e223b9ab14ebb8b6c4b81d31622f"),
            Map.entry(GgmlType.Q8_K, "2525b8e3a5aedb774e3647fff82dfbd62e9bc1019ed951d40e6e7b2b40714ba6"),
            Map.entry(GgmlType.IQ4_NL, "263d2463c9831ab904690d020d78dad14c75a3b7dc9f26d1d339bb6bd9243b74"),
            Map.entry(GgmlType.IQ4_XS, "97d9bc97631f29dc84e02d3dd898c387c72eac0a819960d625fcde4e3a4f4773"),
            Map.entry(GgmlType.MXFP4, "e2dd383841a9e3711c2b17d6f04b1fbd44d7509c5755e85b785eb4c4f5d30dd9")
    );

    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q8_1",
            "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "Q8_K", "IQ4_NL", "IQ4_XS", "MXFP4"})
    void randomBlocksDecodeLikeLlamaCpp(GgmlType type) throws Exception {
        byte[] blocks = Signals.randomBlocks(type, 777, 64);
        int n = 64 * type.blockSize();
        float[] y = new float[n];
        Codecs.of(type).dequantize(MemorySegment.ofArray(blocks), 0, y, 0, n);
        ByteBuffer bb = ByteBuffer.allocate(4 * n).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : y) {
            bb.putFloat(v);
        }
        assertEquals(RANDOM_BLOCKS.get(type), sha256(bb.array()), type + " dequantized floats");
    }

    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"F16", "BF16", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q8_1",
            "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "Q8_K", "IQ4_NL", "IQ4_XS", "MXFP4"})
    void quantizedBytesAndDecodedFloatsEqualLlamaCpp(GgmlType type) throws Exception {
        float[] x = Signals.mixed(20261129L, N, true);
        QuantCodec codec = Codecs.of(type);
        MemorySegment q = Arena.ofAuto().allocate(type.bytesFor(N));
        codec.quantize(x, 0, q, 0, N);
        assertEquals(REFERENCE.get(type)[0], sha256(q.toArray(ValueLayout.JAVA_BYTE)), type + " quantized bytes");

        float[] y = new float[N];
        codec.dequantize(q, 0, y, 0, N);
        ByteBuffer bb = ByteBuffer.allocate(4 * N).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : y) {
            bb.putFloat(v);
        }
        assertEquals(REFERENCE.get(type)[1], sha256(bb.array()), type + " dequantized floats");
    }

    /**
     * x86 ggml-cpu's activation quantizers (AVX2 quantize_row_q8_0/q8_1) on {@link Signals#halfSteps}
     * (31, 131072): sha256 of their bytes. The values hit rounding ties, where they and the reference
     * quantizers disagree (16 and 31 bytes here), so this pins the rounding rule.
     */
    @Test
    void activationQuantizationEqualsX86GgmlCpu() throws Exception {
        int n = 131072;
        float[] x = Signals.halfSteps(31, n);
        MemorySegment q80 = Arena.ofAuto().allocate(GgmlType.Q8_0.bytesFor(n));
        ActivationQuant.q8_0(x, 0, q80, 0, n);
        assertEquals("95c4bf9d2f17fe1264d27435e12f85b782a2180acdb4909c02b58de9d4cc67fb",
                sha256(q80.toArray(ValueLayout.JAVA_BYTE)));
        MemorySegment q81 = Arena.ofAuto().allocate(GgmlType.Q8_1.bytesFor(n));
        ActivationQuant.q8_1(x, 0, q81, 0, n);
        assertEquals("a7657d9bd184477cadadb4112ea0bc5105436e36310557fd424de700abdcab62",
                sha256(q81.toArray(ValueLayout.JAVA_BYTE)));

        MemorySegment ref = Arena.ofAuto().allocate(GgmlType.Q8_0.bytesFor(n));
        Codecs.of(GgmlType.Q8_0).quantize(x, 0, ref, 0, n);
        assertNotEquals(-1L, ref.mismatch(q80), "reference and CPU-backend rounding differ on ties");
    }

    private static String sha256(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }
}
