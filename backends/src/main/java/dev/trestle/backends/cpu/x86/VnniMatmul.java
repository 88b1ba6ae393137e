package dev.trestle.backends.cpu.x86;

import static dev.trestle.backends.cpu.x86.X86Assembler.R10;
import static dev.trestle.backends.cpu.x86.X86Assembler.R11;
import static dev.trestle.backends.cpu.x86.X86Assembler.R12;
import static dev.trestle.backends.cpu.x86.X86Assembler.R13;
import static dev.trestle.backends.cpu.x86.X86Assembler.R14;
import static dev.trestle.backends.cpu.x86.X86Assembler.R15;
import static dev.trestle.backends.cpu.x86.X86Assembler.R8;
import static dev.trestle.backends.cpu.x86.X86Assembler.R9;
import static dev.trestle.backends.cpu.x86.X86Assembler.RAX;
import static dev.trestle.backends.cpu.x86.X86Assembler.RBP;
import static dev.trestle.backends.cpu.x86.X86Assembler.RBX;
import static dev.trestle.backends.cpu.x86.X86Assembler.RCX;
import static dev.trestle.backends.cpu.x86.X86Assembler.RDI;
import static dev.trestle.backends.cpu.x86.X86Assembler.RDX;
import static dev.trestle.backends.cpu.x86.X86Assembler.RSI;
import static dev.trestle.backends.cpu.x86.X86Assembler.RSP;
import static dev.trestle.backends.cpu.x86.X86Assembler.mem;

import dev.trestle.backends.cpu.ActivationRows;
import dev.trestle.backends.type.GgmlType;
import dev.trestle.nativ.exec.ExecutableMemory;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.function.IntBinaryOperator;

/**
 * Prefill kernels for the repacked Q4_0, Q8_0, Q4_K, Q5_K and Q6_K layouts (32-row groups), emitted as AVX-512 VNNI
 * machine code. The Vector API has no widening byte dot product, so its kernels multiply in 16-bit lanes (one
 * multiply and one add per 32 products, plus unpacking); {@code vpdpbusd} multiplies 64 unsigned-by-signed byte
 * pairs and adds them in fours into 16 int lanes in one instruction, which is what llama.cpp's x86 kernels use.
 *
 * <p>One call multiplies a group by {@code n * T} activation rows, {@code T} (1 to 4) at a time: 16 rows of a half
 * group per int lane vector, one accumulator per token and half, each 64-byte weight chunk unpacked once for all
 * {@code T} tokens, the activation bytes broadcast from memory four at a time. Weights are taken unsigned (the
 * Q4_0 code {@code q} = weight + 8; a Q8_0 byte with its sign bit flipped = weight + 128; likewise the K-quants,
 * see their block methods), so each block's dot is {@code sum(u * x) - offset * sum(x)} with activation block sums
 * prepared once per row ({@code ActivationRows.qsums()}, {@code vnniMeta()}): the same exact integers as the Java
 * kernels. Each row then adds {@code float(dot) * (d_w * d_x)} with one fused multiply-add per block in block
 * order, as the Java kernels do, so results are bit-identical to theirs (F16 scales are widened by
 * {@code vcvtph2ps}, exact).
 *
 * <p>Only where {@link CpuFeatures#host()} reports AVX-512 VNNI and executable pages can be mapped (Linux x86-64);
 * {@code -Dtrestle.cpu.vnni=false} turns it off. The code follows the System V calling convention.
 */
public final class VnniMatmul {
    /** Tokens per pass over a group's weights: four accumulator pairs and four float pairs fit in the zmm file. */
    public static final int MAX_TOKENS = 4;
    private static final int GROUP = 32;
    private static final int HALF = 16;
    private static final int CHUNK = 64;
    private static final int SCALES = 2 * GROUP;
    // Q4_KRepacked: d and -dmin (F16), then eight sub-blocks of scales, mins and quants; Q5_KRepacked: d and -dmin
    // as floats, then eight sub-blocks with a byte per quant
    private static final int K_SUBS = 4 * GROUP;
    private static final int K_SUB = 18 * GROUP;
    private static final int K_SUPER = K_SUBS + 8 * K_SUB;
    private static final int K5_SUBS = 8 * GROUP;
    private static final int K5_SUB = 34 * GROUP;
    /**
     * Q6_K, unpacked per call by {@code Q6_KDenseRepacked.vnniWeights}: per super-block of a group, d as floats
     * (row order), the int8 scales of the 16 sub-blocks (32 bytes each, row order), their pairs {@code (2p, 2p + 1)}
     * as the 16-bit halves of one int per row (64 bytes per pair and half group), then per sub-block, half group
     * and word {@code m} 64 bytes: the codes {@code q6} (0..63) of elements {@code 4m .. 4m + 3} of each row.
     */
    public static final int Q6_K_SCALES = 4 * GROUP;
    public static final int Q6_K_PAIRS = Q6_K_SCALES + 16 * GROUP;
    public static final int Q6_K_QUANTS = Q6_K_PAIRS + 16 * CHUNK;
    public static final int Q6_K_SUPER = Q6_K_QUANTS + 16 * 2 * 4 * CHUNK;
    /** Bytes of {@code ActivationRows.vnniMeta()} per Q8_K block. */
    private static final int META_BYTES = 4 * ActivationRows.META;
    // frame ints: blocks, token groups, rowOff, first token; then per token (activation element offset, out offset)
    private static final int F_BLOCKS = 0;
    private static final int F_GROUPS = 4;
    private static final int F_ROW_OFF = 8;
    private static final int F_FIRST = 12;
    private static final int F_TOKENS = 16;
    // stack slots below the saved registers
    private static final int S_QS = 0;
    private static final int S_DS = 8;
    private static final int S_OUT = 16;
    private static final int S_GROUPS = 24;
    private static final int S_BLOCKS = 32;
    private static final int S_W = 40;
    private static final int STACK = 48;
    // vector registers: the unpack mask, a chunk, its low nibbles, the scales, a temporary; then accumulators
    private static final int V_MASK = 0;
    private static final int V_CHUNK = 1;
    private static final int V_LOW = 2;
    private static final int V_SCALE = 3;
    private static final int V_TMP = 4;
    private static final int V_MIN = 5;
    private static final int V_DOT = 8;
    private static final int V_INT = 16;
    private static final int V_FLOAT = 24;
    private static final int[] X_REG = {R10, R11, R12, R13};
    private static final int[] M_REG = {R14, R15, RSI, RDI};

    private static final VnniMatmul Q4_0 = create(GgmlType.Q4_0);
    private static final VnniMatmul Q8_0 = create(GgmlType.Q8_0);
    private static final VnniMatmul Q4_K = create(GgmlType.Q4_K);
    private static final VnniMatmul Q5_K = create(GgmlType.Q5_K);
    private static final VnniMatmul Q6_K = create(GgmlType.Q6_K);

    private final GgmlType type;
    private final MethodHandle[] byTokens; // index T - 1

    private VnniMatmul(GgmlType type, MethodHandle[] byTokens) {
        this.type = type;
        this.byTokens = byTokens;
    }

    /** The kernels for a repacked {@code type} (Q4_0, Q8_0, Q4_K, Q5_K, Q6_K), or null where the host lacks them. */
    public static VnniMatmul forType(GgmlType type) {
        return switch (type) {
            case Q4_0 -> Q4_0;
            case Q8_0 -> Q8_0;
            case Q4_K -> Q4_K;
            case Q5_K -> Q5_K;
            case Q6_K -> Q6_K;
            default -> null;
        };
    }

    private static VnniMatmul create(GgmlType type) {
        if (!Boolean.parseBoolean(System.getProperty("trestle.cpu.vnni", "true"))) {
            return null;
        }
        CpuFeatures cpu = CpuFeatures.host();
        if (cpu == null || !cpu.avx512Vnni()) {
            return null;
        }
        Linker linker = Linker.nativeLinker();
        FunctionDescriptor fd = FunctionDescriptor.ofVoid(ValueLayout.JAVA_LONG, ValueLayout.ADDRESS,
                ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.ADDRESS);
        MethodHandle[] handles = new MethodHandle[MAX_TOKENS];
        try {
            for (int t = 1; t <= MAX_TOKENS; t++) {
                MemorySegment code = ExecutableMemory.install(emit(type, t));
                // critical: no thread-state transition for a call of microseconds, and heap arrays passed in place
                handles[t - 1] = linker.downcallHandle(code, fd, Linker.Option.critical(true));
            }
        } catch (RuntimeException e) {
            // e.g. a kernel policy that forbids executable mappings: the Vector API kernels still work
            System.getLogger(VnniMatmul.class.getName()).log(System.Logger.Level.WARNING,
                    "AVX-512 VNNI kernels unavailable, using the Vector API kernels: " + e.getMessage());
            return null;
        }
        return new VnniMatmul(type, handles);
    }

    /**
     * The repacked group at {@code groupOff} of {@code w} (a native segment) times {@code tokens} activation rows, as
     * {@code RepackedKernel.multiply} specifies: {@code out[outRow(t) * outStride + rowOff + r]} for the group's 32
     * rows. Every index the machine code will touch is checked here first.
     */
    public void multiply(MemorySegment w, long groupOff, int cols, ActivationRows a, int[] actRows, int[] outRows,
                         int tokens, float[] out, int outStride, int rowOff) {
        boolean k = type.blockSize() == 256;
        int blockElems = k ? 256 : 32;
        int blocks = cols / blockElems;
        long groupBytes = (long) blocks * switch (type) {
            case Q4_K -> K_SUPER;
            case Q5_K -> K5_SUBS + 8 * K5_SUB;
            case Q6_K -> Q6_K_SUPER;
            default -> SCALES + 2 * (type == GgmlType.Q4_0 ? 4 : 8) * CHUNK;
        };
        if (!w.isNative() || cols % blockElems != 0 || blocks == 0 || groupOff < 0
                || groupOff + groupBytes > w.byteSize()) {
            throw new IndexOutOfBoundsException("group at " + groupOff + " of " + cols + " columns outside "
                    + w.byteSize() + " bytes of repacked " + type);
        }
        byte[] qs = type == GgmlType.Q4_K ? a.vnniQs() : a.qs();
        // per block: Q4_0/Q8_0 a scale and a sum in two arrays, the K-quants META ints in one
        int metaLength = k ? a.vnniMeta().length / ActivationRows.META
                : Math.min(a.scales().length, a.qsums().length);
        Scratch s = SCRATCH.get();
        int[] frame = s.frame(tokens);
        for (int t = 0; t < tokens; t++) {
            int r = actRows == null ? t : actRows[t];
            long o = (long) (outRows == null ? t : outRows[t]) * outStride;
            long x = (long) r * cols;
            if (r < 0 || x + cols > qs.length || (x + cols) / blockElems > metaLength
                    || o < 0 || o + rowOff + GROUP > out.length || rowOff < 0) {
                throw new IndexOutOfBoundsException("token " + t + ": activation row " + r + " or output offset "
                        + o + " + " + rowOff + " outside the buffers");
            }
            frame[F_TOKENS / 4 + 2 * t] = (int) x;
            frame[F_TOKENS / 4 + 2 * t + 1] = (int) o;
        }
        frame[F_BLOCKS / 4] = blocks;
        frame[F_ROW_OFF / 4] = rowOff;
        long wAddr = w.address() + groupOff;
        MemorySegment qsSeg = s.qs.of(qs);
        MemorySegment dsSeg = k ? s.ds.of(a.vnniMeta()) : s.ds.of(a.scales());
        MemorySegment sumSeg = k ? dsSeg : s.sums.of(a.qsums());
        MemorySegment outSeg = s.out.of(out);
        int full = tokens / MAX_TOKENS;
        if (full > 0) {
            frame[F_GROUPS / 4] = full;
            frame[F_FIRST / 4] = 0;
            invoke(MAX_TOKENS, wAddr, qsSeg, dsSeg, sumSeg, outSeg, s.frameSeg);
        }
        int rest = tokens - full * MAX_TOKENS;
        if (rest > 0) {
            frame[F_GROUPS / 4] = 1;
            frame[F_FIRST / 4] = full * MAX_TOKENS;
            invoke(rest, wAddr, qsSeg, dsSeg, sumSeg, outSeg, s.frameSeg);
        }
    }

    /** A heap segment over the array last passed, remade only when the array changes (no allocation per call). */
    private static final class ArrayView {
        private Object array;
        private MemorySegment segment;

        MemorySegment of(byte[] a) {
            if (a != array) {
                array = a;
                segment = MemorySegment.ofArray(a);
            }
            return segment;
        }

        MemorySegment of(float[] a) {
            if (a != array) {
                array = a;
                segment = MemorySegment.ofArray(a);
            }
            return segment;
        }

        MemorySegment of(int[] a) {
            if (a != array) {
                array = a;
                segment = MemorySegment.ofArray(a);
            }
            return segment;
        }
    }

    /** Per-thread call frame and array views. */
    private static final class Scratch {
        private int[] frame = new int[0];
        private MemorySegment frameSeg;
        private final ArrayView qs = new ArrayView();
        private final ArrayView ds = new ArrayView();
        private final ArrayView sums = new ArrayView();
        private final ArrayView out = new ArrayView();

        private MemorySegment weights = MemorySegment.NULL;

        int[] frame(int tokens) {
            int need = F_TOKENS / 4 + 2 * tokens;
            if (frame.length < need) {
                frame = new int[Math.max(need, F_TOKENS / 4 + 2 * 64)];
                frameSeg = MemorySegment.ofArray(frame);
            }
            return frame;
        }
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    /**
     * This thread's buffer of at least {@code bytes} (64-byte aligned, kept and reused, grown on demand) for weights
     * unpacked into a kernel's layout for one call.
     */
    public static MemorySegment scratch(long bytes) {
        Scratch s = SCRATCH.get();
        if (s.weights.byteSize() < bytes) {
            s.weights = Arena.ofAuto().allocate(Math.max(bytes, 2 * s.weights.byteSize()), 64);
        }
        return s.weights;
    }

    /**
     * Runs the kernel for {@code tokens} tokens ({@code 1..MAX_TOKENS}) on {@code groups} consecutive token groups.
     * Arguments as the emitted function takes them: the group's weights, the activation quants, scales and block
     * sums, the output, and the frame ({@code blocks, groups, rowOff, first, (x_t, o_t)...}).
     */
    private void invoke(int tokens, long w, MemorySegment qs, MemorySegment ds, MemorySegment qsums, MemorySegment out,
                MemorySegment frame) {
        try {
            byTokens[tokens - 1].invokeExact(w, qs, ds, qsums, out, frame);
        } catch (Throwable t) {
            throw new IllegalStateException("VNNI kernel call failed", t);
        }
    }

    /**
     * {@code void kernel(long w, byte[] qs, float[] ds, int[] qsums, float[] out, int[] frame)} for {@code T}
     * tokens per pass. For the K-quants {@code ds} is {@link ActivationRows#vnniMeta()} and the fourth argument is
     * unused; Q4_K's {@code qs} is {@link ActivationRows#vnniQs()}.
     */
    static byte[] emit(GgmlType type, int tokens) {
        X86Assembler a = new X86Assembler();
        int[] saved = {RBX, RBP, R12, R13, R14, R15};
        for (int r : saved) {
            a.push(r);
        }
        a.subImm(RSP, STACK);
        // constants: the unpack mask, the block count, the output base moved to the group's first row
        a.movImm32(RAX, type == GgmlType.Q8_0 || type == GgmlType.Q5_K ? 0x80808080 : 0x0f0f0f0f);
        a.vpbroadcastdFromGpr(V_MASK, RAX);
        a.store(mem(RSP, S_W), RDI);
        a.store(mem(RSP, S_QS), RSI);
        a.store(mem(RSP, S_DS), RDX);
        a.sub(RCX, RDX);                       // Q4_0/Q8_0 rcx: qsums - ds, one pointer per token reaches both
        a.loadInt(RAX, mem(R9, F_ROW_OFF));
        a.lea(R8, mem(R8, RAX, 4, 0));
        a.store(mem(RSP, S_OUT), R8);
        a.loadInt(RAX, mem(R9, F_BLOCKS));
        a.store(mem(RSP, S_BLOCKS), RAX);
        a.loadInt(RAX, mem(R9, F_GROUPS));
        a.store(mem(RSP, S_GROUPS), RAX);
        a.loadInt(RAX, mem(R9, F_FIRST));
        a.lea(RBP, mem(R9, RAX, 8, F_TOKENS)); // rbp: the first token's (x, o) pair

        X86Assembler.Label groupLoop = new X86Assembler.Label();
        X86Assembler.Label blockLoop = new X86Assembler.Label();
        a.bind(groupLoop);
        for (int t = 0; t < tokens; t++) {
            a.loadInt(RDX, mem(RBP, 8 * t));
            a.load(X_REG[t], mem(RSP, S_QS));
            a.add(X_REG[t], RDX);
            if (type.blockSize() == 256) {
                a.shr(RDX, 8);                 // element offset / 256 blocks * 13 ints * 4 bytes
                a.lea(RAX, mem(RDX, RDX, 2, 0));
                a.lea(RDX, mem(RDX, RAX, 4, 0));
                a.shl(RDX, 2);
            } else {
                a.shr(RDX, 3);                 // element offset / 32 blocks * 4 bytes
            }
            a.load(M_REG[t], mem(RSP, S_DS));
            a.add(M_REG[t], RDX);
            a.vpxord(vFloat(t, 0), vFloat(t, 0), vFloat(t, 0));
            a.vpxord(vFloat(t, 1), vFloat(t, 1), vFloat(t, 1));
        }
        a.load(RAX, mem(RSP, S_W));
        a.load(RBX, mem(RSP, S_BLOCKS));

        a.bind(blockLoop);
        if (type == GgmlType.Q4_K || type == GgmlType.Q5_K) {
            kQuantSuperBlock(a, tokens, type == GgmlType.Q5_K);
        } else if (type == GgmlType.Q6_K) {
            q6KSuperBlock(a, tokens);
        } else {
            legacyQuantBlock(a, tokens, type == GgmlType.Q4_0);
        }
        a.dec(RBX);
        a.jnz(blockLoop);

        a.load(R8, mem(RSP, S_OUT));
        for (int t = 0; t < tokens; t++) {
            a.loadInt(RDX, mem(RBP, 8 * t + 4));
            a.vmovups(mem(R8, RDX, 4, 0), vFloat(t, 0));
            a.vmovups(mem(R8, RDX, 4, 4 * HALF), vFloat(t, 1));
        }
        a.addImm(RBP, 8 * tokens);
        a.load(RDX, mem(RSP, S_GROUPS));
        a.dec(RDX);
        a.store(mem(RSP, S_GROUPS), RDX);
        a.jnz(groupLoop);

        a.addImm(RSP, STACK);
        for (int i = saved.length - 1; i >= 0; i--) {
            a.pop(saved[i]);
        }
        a.vzeroupper();
        a.ret();
        return a.toByteArray();
    }

    /** One 32-element Q4_0 or Q8_0 block of the group at rax, then every pointer advanced to the next. */
    private static void legacyQuantBlock(X86Assembler a, int tokens, boolean q4) {
        int words = q4 ? 4 : 8;
        zero(a, tokens, VnniMatmul::vInt);
        for (int k = 0; k < words; k++) {
            for (int h = 0; h < 2; h++) {
                a.vmovdqu32(V_CHUNK, mem(RAX, SCALES + (2 * k + h) * CHUNK));
                if (q4) {
                    // word k of a row: low nibbles are elements 4k..4k+3, high nibbles 4k+16..4k+19
                    a.vpandd(V_LOW, V_CHUNK, V_MASK);
                    a.vpsrld(V_CHUNK, V_CHUNK, 4);
                    a.vpandd(V_CHUNK, V_CHUNK, V_MASK);
                    for (int t = 0; t < tokens; t++) {
                        a.vpdpbusdBroadcast(vInt(t, h), V_LOW, mem(X_REG[t], 4 * k));
                        a.vpdpbusdBroadcast(vInt(t, h), V_CHUNK, mem(X_REG[t], 16 + 4 * k));
                    }
                } else {
                    a.vpxord(V_CHUNK, V_CHUNK, V_MASK);
                    for (int t = 0; t < tokens; t++) {
                        a.vpdpbusdBroadcast(vInt(t, h), V_CHUNK, mem(X_REG[t], 4 * k));
                    }
                }
            }
        }
        for (int t = 0; t < tokens; t++) {
            a.vpbroadcastd(V_TMP, mem(M_REG[t], RCX, 1, 0));
            a.vpslld(V_TMP, V_TMP, q4 ? 3 : 7);
            a.vpsubd(vInt(t, 0), vInt(t, 0), V_TMP);
            a.vpsubd(vInt(t, 1), vInt(t, 1), V_TMP);
        }
        for (int h = 0; h < 2; h++) {
            a.vcvtph2ps(V_SCALE, mem(RAX, 2 * HALF * h));
            for (int t = 0; t < tokens; t++) {
                a.vcvtdq2ps(vInt(t, h), vInt(t, h));
                a.vmulpsBroadcast(V_TMP, V_SCALE, mem(M_REG[t], 0));
                a.vfmadd231ps(vFloat(t, h), vInt(t, h), V_TMP);
            }
        }
        a.addImm(RAX, SCALES + 2 * words * CHUNK);
        for (int t = 0; t < tokens; t++) {
            a.addImm(X_REG[t], 32);
            a.addImm(M_REG[t], 4);
        }
    }

    /**
     * One 256-element Q4_K or Q5_K super-block of the group at rax ({@code Q4_KRepacked}, {@code Q5_KRepacked}: d
     * and -dmin (F16 for Q4_K, floats for Q5_K), then per sub-block the scales, the mins and the quants by word
     * and half group), then every pointer advanced. Each sub-block's dot goes into {@code isum} times its scale ({@code vpmulld}); the
     * mins term {@code sum_j min_j * bsum_j} is formed after the eight sub-blocks in the dot registers, two
     * sub-blocks per {@code vpdpwssd} (mins and sums both fit 16 bits). Q5_K bytes are {@code q5 - 16}, taken as
     * {@code q5 + 112} (sign bit flipped), so its {@code isum} loses {@code 112 * sum_j scale_j * bsum_j}, formed the
     * same way. Then, as the Java kernels: {@code fma(isum, d * dy, acc)}, {@code fma(msum, -dmin * dy, acc)}.
     */
    private static void kQuantSuperBlock(X86Assembler a, int tokens, boolean q5) {
        int sub = q5 ? K5_SUB : K_SUB;
        int subs = q5 ? K5_SUBS : K_SUBS;
        zero(a, tokens, VnniMatmul::vSum);
        for (int j = 0; j < 8; j++) {
            int sb = subs + j * sub;
            zero(a, tokens, VnniMatmul::vDot);
            for (int c = 0; c < (q5 ? 8 : 4); c++) {
                for (int h = 0; h < 2; h++) {
                    a.vmovdqu32(V_CHUNK, mem(RAX, sb + 2 * GROUP + (2 * c + h) * CHUNK));
                    if (q5) {
                        // word c of a row: elements 4c..4c+3
                        a.vpxord(V_CHUNK, V_CHUNK, V_MASK);
                        for (int t = 0; t < tokens; t++) {
                            a.vpdpbusdBroadcast(vDot(t, h), V_CHUNK, mem(X_REG[t], 32 * j + 4 * c));
                        }
                    } else {
                        // word c: low nibbles pair with vnniQs at 8c, high nibbles at 8c + 4
                        a.vpandd(V_LOW, V_CHUNK, V_MASK);
                        a.vpsrld(V_CHUNK, V_CHUNK, 4);
                        a.vpandd(V_CHUNK, V_CHUNK, V_MASK);
                        for (int t = 0; t < tokens; t++) {
                            a.vpdpbusdBroadcast(vDot(t, h), V_LOW, mem(X_REG[t], 32 * j + 8 * c));
                            a.vpdpbusdBroadcast(vDot(t, h), V_CHUNK, mem(X_REG[t], 32 * j + 8 * c + 4));
                        }
                    }
                }
            }
            for (int h = 0; h < 2; h++) {
                a.vpmovzxbd(V_SCALE, mem(RAX, sb + HALF * h));
                for (int t = 0; t < tokens; t++) {
                    a.vpmulld(vDot(t, h), vDot(t, h), V_SCALE);
                    a.vpaddd(vSum(t, h), vSum(t, h), vDot(t, h));
                }
            }
        }
        if (q5) {
            pairSums(a, tokens, subs, sub, 0);
            for (int t = 0; t < tokens; t++) {
                for (int h = 0; h < 2; h++) {
                    a.vpslld(V_TMP, vDot(t, h), 4);
                    a.vpslld(vDot(t, h), vDot(t, h), 7);
                    a.vpsubd(vSum(t, h), vSum(t, h), vDot(t, h));
                    a.vpaddd(vSum(t, h), vSum(t, h), V_TMP);
                }
            }
        }
        pairSums(a, tokens, subs, sub, GROUP);
        for (int h = 0; h < 2; h++) {
            if (q5) {
                a.vmovupsLoad(V_SCALE, mem(RAX, 4 * HALF * h));
                a.vmovupsLoad(V_MIN, mem(RAX, 4 * GROUP + 4 * HALF * h));
            } else {
                a.vcvtph2ps(V_SCALE, mem(RAX, 2 * HALF * h));
                a.vcvtph2ps(V_MIN, mem(RAX, 2 * GROUP + 2 * HALF * h));
            }
            for (int t = 0; t < tokens; t++) {
                a.vcvtdq2ps(vSum(t, h), vSum(t, h));
                a.vmulpsBroadcast(V_TMP, V_SCALE, mem(M_REG[t], 0));
                a.vfmadd231ps(vFloat(t, h), vSum(t, h), V_TMP);
                a.vcvtdq2ps(vDot(t, h), vDot(t, h));
                a.vmulpsBroadcast(V_TMP, V_MIN, mem(M_REG[t], 0));
                a.vfmadd231ps(vFloat(t, h), vDot(t, h), V_TMP);
            }
        }
        a.addImm(RAX, subs + 8 * sub);
        for (int t = 0; t < tokens; t++) {
            a.addImm(X_REG[t], 256);
            a.addImm(M_REG[t], META_BYTES);
        }
    }

    /**
     * Into the dot registers: {@code sum_j v_j * bsum_j} over the eight 32-element sub-blocks, {@code v_j} the byte
     * per row at {@code field} of each sub-block (0: the scales, {@code GROUP}: the mins), two sub-blocks per
     * {@code vpdpwssd} against the activation's sum pairs.
     */
    private static void pairSums(X86Assembler a, int tokens, int subs, int sub, int field) {
        zero(a, tokens, VnniMatmul::vDot);
        for (int p = 0; p < 4; p++) {
            for (int h = 0; h < 2; h++) {
                // sub-blocks 2p and 2p + 1 as the two 16-bit halves of each row's lane
                a.vpmovzxbd(V_LOW, mem(RAX, subs + 2 * p * sub + field + HALF * h));
                a.vpmovzxbd(V_CHUNK, mem(RAX, subs + (2 * p + 1) * sub + field + HALF * h));
                a.vpslld(V_CHUNK, V_CHUNK, 16);
                a.vpord(V_LOW, V_LOW, V_CHUNK);
                for (int t = 0; t < tokens; t++) {
                    a.vpdpwssdBroadcast(vDot(t, h), V_LOW, mem(M_REG[t], 4 + 4 * p));
                }
            }
        }
    }

    /** Zeroes register {@code reg(t, h)} for every token and half. */
    private static void zero(X86Assembler a, int tokens, IntBinaryOperator reg) {
        for (int t = 0; t < tokens; t++) {
            for (int h = 0; h < 2; h++) {
                int r = reg.applyAsInt(t, h);
                a.vpxord(r, r, r);
            }
        }
    }

    /**
     * One 256-element Q6_K super-block of the unpacked group at rax ({@link #Q6_K_SUPER}), then every pointer
     * advanced. The codes are {@code q6 = weight + 32}, so {@code isum = sum_i scale_i * dot_i - 32 * sum_i scale_i *
     * bsum_i} over the 16-element sub-blocks: the first term with {@code vpmulld} per sub-block, the second two
     * sub-blocks per {@code vpdpwssd} (scales and sums fit 16 bits); then {@code fma(isum, d * dy, acc)} as
     * {@code Q6_KDenseRepacked}.
     */
    private static void q6KSuperBlock(X86Assembler a, int tokens) {
        zero(a, tokens, VnniMatmul::vSum);
        for (int i = 0; i < 16; i++) {
            zero(a, tokens, VnniMatmul::vDot);
            for (int h = 0; h < 2; h++) {
                for (int m = 0; m < 4; m++) {
                    a.vmovdqu32(V_CHUNK, mem(RAX, Q6_K_QUANTS + ((2 * i + h) * 4 + m) * CHUNK));
                    for (int t = 0; t < tokens; t++) {
                        a.vpdpbusdBroadcast(vDot(t, h), V_CHUNK, mem(X_REG[t], 16 * i + 4 * m));
                    }
                }
            }
            for (int h = 0; h < 2; h++) {
                a.vpmovsxbd(V_SCALE, mem(RAX, Q6_K_SCALES + 32 * i + HALF * h));
                for (int t = 0; t < tokens; t++) {
                    a.vpmulld(vDot(t, h), vDot(t, h), V_SCALE);
                    a.vpaddd(vSum(t, h), vSum(t, h), vDot(t, h));
                }
            }
        }
        zero(a, tokens, VnniMatmul::vDot);
        for (int p = 0; p < 8; p++) {
            for (int h = 0; h < 2; h++) {
                a.vmovdqu32(V_LOW, mem(RAX, Q6_K_PAIRS + (2 * p + h) * CHUNK));
                for (int t = 0; t < tokens; t++) {
                    a.vpdpwssdBroadcast(vDot(t, h), V_LOW, mem(M_REG[t], 20 + 4 * p));
                }
            }
        }
        for (int h = 0; h < 2; h++) {
            a.vmovupsLoad(V_SCALE, mem(RAX, 4 * HALF * h));
            for (int t = 0; t < tokens; t++) {
                a.vpslld(vDot(t, h), vDot(t, h), 5);
                a.vpsubd(vSum(t, h), vSum(t, h), vDot(t, h));
                a.vcvtdq2ps(vSum(t, h), vSum(t, h));
                a.vmulpsBroadcast(V_TMP, V_SCALE, mem(M_REG[t], 0));
                a.vfmadd231ps(vFloat(t, h), vSum(t, h), V_TMP);
            }
        }
        a.addImm(RAX, Q6_K_SUPER);
        for (int t = 0; t < tokens; t++) {
            a.addImm(X_REG[t], 256);
            a.addImm(M_REG[t], META_BYTES);
        }
    }

    /** Q4_K: a sub-block's dot, then the mins term. */
    private static int vDot(int t, int h) {
        return V_DOT + 2 * t + h;
    }

    /** Q4_K: the super-block's scaled sum. */
    private static int vSum(int t, int h) {
        return V_INT + 2 * t + h;
    }

    private static int vInt(int t, int h) {
        return V_INT + 2 * t + h;
    }

    private static int vFloat(int t, int h) {
        return V_FLOAT + 2 * t + h;
    }
}
