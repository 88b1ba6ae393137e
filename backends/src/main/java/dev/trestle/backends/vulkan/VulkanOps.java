package dev.trestle.backends.vulkan;

import static org.lwjgl.system.MemoryStack.stackPush;

import dev.trestle.backends.cpu.Rope;
import dev.trestle.backends.type.GgmlType;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.lwjgl.system.MemoryStack;

/**
 * The op set on one Vulkan device, recorded into its command buffer. Activations are F32 device buffers
 * addressed by element offsets; rows are packed at the given strides. Every call only records work; results
 * are visible to the host after a read or {@link VulkanDevice#flush()}.
 */
public final class VulkanOps {
    private static final int TILE = 8;
    private final VulkanDevice dev;
    private final int maxGroups;
    private final boolean subgroups; // matmul reduces with subgroupAdd (else through shared memory only)
    private final boolean integerDot; // matmul_q dots packed bytes with dotPacked4x8EXT
    private final boolean float16;   // kernels load halves through 16-bit storage
    private final int tiledK;        // columns per step of the tiled matmul, sized by the shared memory
    private final int tiledMin;      // -Dtrestle.vulkan.tiledMinRows (measurements): rows from which matmul tiles
    /** Batches of at least this many rows take the shared-memory tiled matmul. */
    public static final int TILED_MIN_ROWS = 16;
    private static final int TILED_BM = 64;
    private static final int TILED_BN = 64;

    /** Ops with the kernel variants the device's features allow ({@code -Dtrestle.vulkan.portable=true}: none). */
    public VulkanOps(VulkanDevice dev) {
        this(dev, Boolean.getBoolean("trestle.vulkan.portable"));
    }

    /** Ops; {@code portable} forces the variants that need no optional feature. */
    public VulkanOps(VulkanDevice dev, boolean portable) {
        this(dev, portable, tiledK(dev.info().maxSharedMemory()));
    }

    /** Ops with the tiled matmul's step forced to {@code tiledK} columns (tests: the small-shared-memory variant). */
    VulkanOps(VulkanDevice dev, boolean portable, int tiledK) {
        this.dev = dev;
        this.maxGroups = Math.min(65535, dev.info().maxWorkgroupCount());
        this.subgroups = !portable && dev.info().subgroupArithmetic();
        this.integerDot = !portable && dev.integerDotEnabled();
        this.float16 = !portable && dev.float16();
        this.tiledK = tiledK;
        this.tiledMin = Integer.getInteger("trestle.vulkan.tiledMinRows", TILED_MIN_ROWS);
    }

    /** The largest step (32 or 16 columns) whose weight and activation tiles, padded, fit in {@code shared} bytes. */
    static int tiledK(int shared) {
        return 4 * (TILED_BM + TILED_BN) * (32 + 1) <= shared ? 32 : 16;
    }

    /** True when the fp16 variants (16-bit storage loads of halves) are in use. */
    public boolean usesFloat16() {
        return float16;
    }

    /** True when the decode matmuls use the integer dot product instruction (else 32-bit integer arithmetic). */
    public boolean usesIntegerDot() {
        return integerDot;
    }

    /** True when the subgroup-reduction variants are in use. */
    public boolean usesSubgroups() {
        return subgroups;
    }

    public VulkanDevice device() {
        return dev;
    }

    private List<String> weightDefine(GgmlType t) {
        return List.of("WTYPE_" + t.name());
    }

    private List<String> matmulDefines(GgmlType t) {
        return subgroups ? List.of("WTYPE_" + t.name(), "USE_SUBGROUP") : List.of("WTYPE_" + t.name());
    }

    /**
     * {@code out[oOff + t * oStride + r] = W[expert] row r . x[xOff + t * xStride ..]} for {@code nTok} tokens.
     */
    public void matmul(GpuMatrix w, int expert, GpuBuffer x, int xOff, int xStride, int nTok, GpuBuffer out,
                       int oOff, int oStride) {
        matmul(w, expert, x, xOff, xStride, nTok, out, oOff, oStride, null);
    }

    /**
     * Gathered form: slot {@code s < nSlots} reads activation row {@code rows[2s]} and writes output row
     * {@code rows[2s + 1]} ({@code rows} is a device buffer of uints); the tokens routed to one expert.
     */
    public void matmul(GpuMatrix w, int expert, GpuBuffer x, int xOff, int xStride, int nSlots, GpuBuffer out,
                       int oOff, int oStride, GpuBuffer rows) {
        matmul(w, expert, x, xOff, xStride, nSlots, out, oOff, oStride, rows, 0);
    }

    /** Gathered form reading slot pairs from index {@code rowsBase} of {@code rows} on. */
    public void matmul(GpuMatrix w, int expert, GpuBuffer x, int xOff, int xStride, int nSlots, GpuBuffer out,
                       int oOff, int oStride, GpuBuffer rows, int rowsBase) {
        if (nSlots >= tiledMin) {
            matmulTiled(w, expert, x, xOff, xStride, nSlots, out, oOff, oStride, rows, rowsBase);
            return;
        }
        VulkanDevice.Pipeline p = dev.pipeline("matmul.comp", matmulDefines(w.type), 4);
        int gx = Math.min(w.rows, maxGroups);
        int gy = (w.rows + gx - 1) / gx;
        try (MemoryStack stack = stackPush()) {
            ByteBuffer pc = VulkanDevice.push(stack, 12);
            pc.putInt(w.cols).putInt(w.rows).putInt(nSlots).putInt(Math.toIntExact(expert * w.rowBytes * w.rows))
                    .putInt((int) w.rowBytes).putInt(xOff).putInt(xStride).putInt(oOff).putInt(oStride).putInt(gx)
                    .putInt(rows != null ? 1 : 0).putInt(rowsBase).flip();
            dev.dispatch(p, new GpuBuffer[] {w.buffer, x, out, rows}, pc, gx, gy, (nSlots + TILE - 1) / TILE);
        }
    }

    /** Activation rows up to this count take the quantized decode path ({@link #matmulDot}), as on the CPU side. */
    public static final int DOT_MAX_ROWS = 15;

    /**
     * The format activations are converted to before a dot with weights of type {@code w}, as ggml's CPU
     * backend converts them (its vec_dot type): Q8_0, Q8_1, Q8_K, F16 or BF16; null for F32 weights, which
     * use F32 activations as they are.
     */
    public static GgmlType dotFormat(GgmlType w) {
        return switch (w) {
            case F16 -> GgmlType.F16;
            case BF16 -> GgmlType.BF16;
            case Q8_0, Q4_0, Q5_0 -> GgmlType.Q8_0;
            case Q4_1, Q5_1 -> GgmlType.Q8_1;
            case Q4_K, Q5_K, Q6_K -> GgmlType.Q8_K;
            default -> null;
        };
    }

    /**
     * 32-bit words per converted activation row of {@code cols} elements: per 32-element block 9 (Q8_0: quants,
     * scale) or 10 (Q8_1: plus d * sum) or 16 (F16/BF16, the row zero-padded to 32); per 256-element Q8_K block 81
     * (quants, scale, sixteen 16-element sums).
     */
    public static int dotRowWords(GgmlType format, int cols) {
        return switch (format) {
            case Q8_0 -> 9 * ceilDiv(cols, 32);
            case Q8_1 -> 10 * ceilDiv(cols, 32);
            case Q8_K -> 81 * ceilDiv(cols, 256);
            case F16, BF16 -> 16 * ceilDiv(cols, 32);
            default -> throw new IllegalArgumentException("not a dot format: " + format);
        };
    }

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }

    /**
     * Converts {@code nRows} rows of {@code cols} floats (row r at xOff + r * xStride) into {@code out} in
     * {@code format} ({@link #dotRowWords} words per row), bit-equal to the CPU backend's ActivationRows.
     */
    public void quantize(GgmlType format, GpuBuffer x, int xOff, int xStride, int cols, int nRows, GpuBuffer out) {
        int block = format == GgmlType.Q8_K ? 256 : 32;
        if (format != GgmlType.F16 && format != GgmlType.BF16 && cols % block != 0) {
            throw new IllegalArgumentException(format + " rows of " + cols + " are not whole blocks");
        }
        VulkanDevice.Pipeline p = dev.pipeline("quantize.comp", List.of("QTYPE_" + format.name()), 2);
        long invocations = (long) nRows * ceilDiv(cols, block);
        long groups = (invocations + 63) / 64;
        int gx = (int) Math.min(groups, maxGroups);
        int gy = (int) ((groups + gx - 1) / gx);
        try (MemoryStack stack = stackPush()) {
            ByteBuffer pc = VulkanDevice.push(stack, 6);
            pc.putInt(cols).putInt(nRows).putInt(xOff).putInt(xStride).putInt(dotRowWords(format, cols)).putInt(gx)
                    .flip();
            dev.dispatch(p, new GpuBuffer[] {x, out}, pc, gx, gy, 1);
        }
    }

    /**
     * Decode matmul over activations converted by {@link #quantize} to {@code dotFormat(w.type())}: out row
     * {@code t} (or {@code rows[2s + 1]} when gathered) = W[expert] . converted row {@code t} (or {@code rows[2s]}),
     * dotting whole blocks in integers and scaling in float as the CPU kernels do.
     */
    public void matmulDot(GpuMatrix w, int expert, GpuBuffer xq, int nSlots, GpuBuffer out, int oOff, int oStride,
                          GpuBuffer rows, int rowsBase) {
        GgmlType format = dotFormat(w.type);
        if (format == null) {
            throw new IllegalArgumentException("F32 weights take matmul, not matmulDot");
        }
        List<String> defines = new ArrayList<>(List.of("WTYPE_" + w.type.name()));
        if (subgroups) {
            defines.add("USE_SUBGROUP");
        }
        if (integerDot) {
            defines.add("USE_DOT4");
        }
        VulkanDevice.Pipeline p = dev.pipeline("matmul_q.comp", defines, 4);
        int gx = Math.min(w.rows, maxGroups);
        int gy = (w.rows + gx - 1) / gx;
        try (MemoryStack stack = stackPush()) {
            ByteBuffer pc = VulkanDevice.push(stack, 11);
            pc.putInt(w.cols).putInt(w.rows).putInt(nSlots).putInt(Math.toIntExact(expert * w.rowBytes * w.rows))
                    .putInt((int) w.rowBytes).putInt(dotRowWords(format, w.cols)).putInt(oOff).putInt(oStride)
                    .putInt(gx).putInt(rows != null ? 1 : 0).putInt(rowsBase).flip();
            dev.dispatch(p, new GpuBuffer[] {w.buffer, xq, out, rows}, pc, gx, gy, (nSlots + TILE - 1) / TILE);
        }
    }

    /**
     * The batch matmul ({@link #matmul} takes it from {@link #TILED_MIN_ROWS} rows on): 64 x 64 output tiles, weight
     * and activation tiles staged in shared memory, 8 x 8 outputs per invocation. Same arguments as {@link #matmul}.
     */
    public void matmulTiled(GpuMatrix w, int expert, GpuBuffer x, int xOff, int xStride, int nSlots, GpuBuffer out,
                            int oOff, int oStride, GpuBuffer rows, int rowsBase) {
        List<String> defines = float16 ? List.of("WTYPE_" + w.type.name(), "BK=" + tiledK, "USE_FP16")
                : List.of("WTYPE_" + w.type.name(), "BK=" + tiledK);
        VulkanDevice.Pipeline p = dev.pipeline("matmul_tiled.comp", defines, 4);
        int tiles = (w.rows + TILED_BM - 1) / TILED_BM;
        int gx = Math.min(tiles, maxGroups);
        int gy = (tiles + gx - 1) / gx;
        try (MemoryStack stack = stackPush()) {
            ByteBuffer pc = VulkanDevice.push(stack, 12);
            pc.putInt(w.cols).putInt(w.rows).putInt(nSlots).putInt(Math.toIntExact(expert * w.rowBytes * w.rows))
                    .putInt((int) w.rowBytes).putInt(xOff).putInt(xStride).putInt(oOff).putInt(oStride).putInt(gx)
                    .putInt(rows != null ? 1 : 0).putInt(rowsBase).flip();
            dev.dispatch(p, new GpuBuffer[] {w.buffer, x, out, rows}, pc, gx, gy, (nSlots + TILED_BN - 1) / TILED_BN);
        }
    }

    /** {@code out[oOff + t * oStride ..] = W row ids[t]} for {@code n} ids (a uint device buffer). */
    public void getRows(GpuMatrix w, GpuBuffer ids, int n, GpuBuffer out, int oOff, int oStride) {
        VulkanDevice.Pipeline p = dev.pipeline("get_rows.comp", weightDefine(w.type), 3);
        try (MemoryStack stack = stackPush()) {
            ByteBuffer pc = VulkanDevice.push(stack, 4);
            pc.putInt(w.cols).putInt((int) w.rowBytes).putInt(oOff).putInt(oStride).flip();
            dev.dispatch(p, new GpuBuffer[] {w.buffer, ids, out}, pc, n, 1, 1);
        }
    }

    /** RMS norm in place of {@code rows} rows of {@code n} (row r at off + r * stride), times weight if given. */
    public void rmsNorm(GpuBuffer x, int off, int stride, int n, int rows, float eps, GpuBuffer weight, int wOff) {
        VulkanDevice.Pipeline p = dev.pipeline("rms_norm.comp", List.of(), 2);
        try (MemoryStack stack = stackPush()) {
            ByteBuffer pc = VulkanDevice.push(stack, 6);
            pc.putInt(n).putInt(off).putInt(stride).putFloat(eps).putInt(weight != null ? 1 : 0).putInt(wOff).flip();
            dev.dispatch(p, new GpuBuffer[] {x, weight}, pc, rows, 1, 1);
        }
    }

    /** Softmax in place over {@code rows} rows of {@code n}. */
    public void softmax(GpuBuffer x, int off, int stride, int n, int rows) {
        VulkanDevice.Pipeline p = dev.pipeline("softmax.comp", List.of(), 1);
        try (MemoryStack stack = stackPush()) {
            ByteBuffer pc = VulkanDevice.push(stack, 3);
            pc.putInt(n).putInt(off).putInt(stride).flip();
            dev.dispatch(p, new GpuBuffer[] {x}, pc, rows, 1, 1);
        }
    }

    /**
     * Rotates {@code nHead} heads of {@code headDim} per token in place (token t at off + t * rowStride) at the
     * positions {@code pos} (an int device buffer), with {@code rope}'s parameters and optional factors.
     */
    public void rope(GpuBuffer x, int off, int rowStride, int nTok, int nHead, int headDim, GpuBuffer pos, Rope rope,
                     GpuBuffer factors) {
        VulkanDevice.Pipeline p = dev.pipeline("rope.comp", List.of(), 3);
        float thetaScale = (float) Math.pow(rope.freqBase(), -2.0f / rope.nDims());
        float low = 0f;
        float high = 0f;
        if (rope.extFactor() != 0f) {
            low = Math.max(0f, (float) Math.floor(corrDim(rope, rope.betaFast())));
            high = Math.min(rope.nDims() - 1, (float) Math.ceil(corrDim(rope, rope.betaSlow())));
        }
        float mscaleYarn = 1.0f + 0.1f * (float) Math.log(1.0f / rope.freqScale());
        try (MemoryStack stack = stackPush()) {
            ByteBuffer pc = VulkanDevice.push(stack, 14);
            pc.putInt(rope.nDims()).putInt(rope.neox() ? 1 : 0).putInt(headDim).putInt(nHead).putInt(off)
                    .putInt(rowStride).putFloat(thetaScale).putFloat(rope.freqScale()).putFloat(rope.extFactor())
                    .putFloat(rope.attnFactor()).putFloat(low).putFloat(high).putInt(factors != null ? 1 : 0)
                    .putFloat(mscaleYarn).flip();
            dev.dispatch(p, new GpuBuffer[] {x, pos, factors}, pc, nTok * nHead, 1, 1);
        }
    }

    private static float corrDim(Rope r, float nRot) {
        return r.nDims() * (float) Math.log(r.nCtxOrig() / (nRot * 2 * (float) Math.PI))
                / (2 * (float) Math.log(r.freqBase()));
    }

    /** The element-wise op family. */
    public enum Elementwise { ADD, MUL, SCALE, SOFTCAP, SWIGLU, GEGLU, COPY }

    /**
     * {@code x = op(x, y)} over {@code rows} rows of {@code n} (row r of x at xOff + r * xStride, of y at
     * yOff + r * yStride); {@code s} is the scale or soft-cap.
     */
    public void elementwise(Elementwise op, GpuBuffer x, int xOff, int xStride, GpuBuffer y, int yOff, int yStride,
                            int n, int rows, float s) {
        VulkanDevice.Pipeline p = dev.pipeline("elementwise.comp", List.of("OP_" + op.name()), 2);
        long total = (long) n * rows;
        long groups = (total + 63) / 64;
        int gx = (int) Math.min(groups, maxGroups);
        int gy = (int) ((groups + gx - 1) / gx);
        try (MemoryStack stack = stackPush()) {
            ByteBuffer pc = VulkanDevice.push(stack, 8);
            pc.putInt(n).putInt(rows).putInt(xOff).putInt(xStride).putInt(yOff).putInt(yStride).putFloat(s).putInt(gx)
                    .flip();
            dev.dispatch(p, new GpuBuffer[] {x, y}, pc, gx, gy, 1);
        }
    }

    /** x += y over n contiguous elements. */
    public void add(GpuBuffer x, int xOff, GpuBuffer y, int yOff, int n) {
        elementwise(Elementwise.ADD, x, xOff, n, y, yOff, n, n, 1, 0f);
    }

    /** x *= s over n contiguous elements. */
    public void scale(GpuBuffer x, int xOff, int n, float s) {
        elementwise(Elementwise.SCALE, x, xOff, n, null, 0, n, n, 1, s);
    }

    /** {@code out[t] = sum_j weights[t * k + j] * slots[t * k + j]} for rows of {@code n}, in slot order. */
    public void moeCombine(GpuBuffer out, GpuBuffer slots, GpuBuffer weights, int n, int k, int nTok) {
        VulkanDevice.Pipeline p = dev.pipeline("moe_combine.comp", List.of(), 3);
        long groups = ((long) n * nTok + 63) / 64;
        int gx = (int) Math.min(groups, maxGroups);
        int gy = (int) ((groups + gx - 1) / gx);
        try (MemoryStack stack = stackPush()) {
            ByteBuffer pc = VulkanDevice.push(stack, 4);
            pc.putInt(n).putInt(k).putInt(nTok).putInt(gx).flip();
            dev.dispatch(p, new GpuBuffer[] {out, slots, weights}, pc, gx, gy, 1);
        }
    }

    /** True when {@link #moeRoute} handles {@code nExp} experts with {@code k} used (its shared-memory bounds). */
    public static boolean routeSupported(int nExp, int k) {
        return nExp <= 512 && k <= 32 && k <= nExp;
    }

    /**
     * MoE routing of {@code nTok} rows of {@code nExp} router logits (replaced by their probabilities): softmax or
     * sigmoid gating, the top {@code k} experts (largest first, ties to the lower id) into {@code ids} (uints) and
     * their weights into {@code weights}, normalized to sum 1 if {@code normalize}, times {@code scale} unless it is
     * 0 or 1. The CPU path's routing, step for step.
     */
    public void moeRoute(GpuBuffer logits, int nExp, int k, int nTok, boolean sigmoid, boolean normalize, float scale,
                         GpuBuffer ids, GpuBuffer weights) {
        if (!routeSupported(nExp, k)) {
            throw new IllegalArgumentException("routing of " + nExp + " experts, " + k + " used, is not supported");
        }
        VulkanDevice.Pipeline p = dev.pipeline("moe_route.comp", List.of(), 3);
        try (MemoryStack stack = stackPush()) {
            ByteBuffer pc = VulkanDevice.push(stack, 5);
            pc.putInt(nExp).putInt(k).putInt(sigmoid ? 1 : 0).putInt(normalize ? 1 : 0).putFloat(scale).flip();
            dev.dispatch(p, new GpuBuffer[] {logits, ids, weights}, pc, nTok, 1, 1);
        }
    }

    /** Cache types the set_rows and attention shaders store and read (llama.cpp's -ctk/-ctv set). */
    public static final java.util.Set<GgmlType> CACHE_TYPES = java.util.EnumSet.of(GgmlType.F32, GgmlType.F16,
            GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q5_1);
    private static final int MAX_ROW_WORDS = 2048; // set_rows assembles a row in shared memory

    /** True when rows of {@code n} elements of {@code t} can live in a Vulkan cache. */
    public static boolean cacheTypeSupported(GgmlType t, int n) {
        return CACHE_TYPES.contains(t) && n % t.blockSize() == 0 && rowWords(t, n) <= MAX_ROW_WORDS;
    }

    /**
     * Stores {@code nTok} rows of {@code n} floats (row t at sOff + t * sStride) into cache rows
     * {@code cells[t]} of {@code cache} in {@code type}, quantized as the CPU backend quantizes.
     */
    public void setRows(GpuBuffer cache, GgmlType type, int n, GpuBuffer src, int sOff, int sStride, GpuBuffer cells,
                        int nTok) {
        VulkanDevice.Pipeline p = dev.pipeline("set_rows.comp", List.of(), 3);
        try (MemoryStack stack = stackPush()) {
            ByteBuffer pc = VulkanDevice.push(stack, 5);
            pc.putInt(n).putInt(sOff).putInt(sStride).putInt(rowWords(type, n)).putInt(type.id()).flip();
            dev.dispatch(p, new GpuBuffer[] {cache, src, cells}, pc, nTok, 1, 1);
        }
    }

    /** 32-bit words per cache row of {@code n} elements (rows are padded to whole words). */
    public static int rowWords(GgmlType type, int n) {
        return Math.toIntExact((type.bytesFor(n) + 3) / 4);
    }

    /** Shape and scaling of one attention call. */
    public record AttentionShape(int nHead, int nHeadKv, int headDim, float scale, float softcap, int nSwa) {
    }

    /**
     * Attention for {@code nTok} query rows of {@code q} (row stride nHead * headDim) over {@code nCells} cache
     * cells. {@code meta} holds ints: cellSeq[nCells], cellPos[nCells], tokSeq[nTok], tokPos[nTok]. {@code scratch}
     * needs nTok * nHead * nCells floats (callers may split tokens into chunks with {@code tokBase}).
     */
    public void attention(AttentionShape s, GgmlType kType, GgmlType vType, GpuBuffer q, GpuBuffer k, GpuBuffer v,
                          GpuBuffer meta, int nCells, int nTok, int tokBase, int chunk, GpuBuffer scratch,
                          GpuBuffer out) {
        VulkanDevice.Pipeline p = dev.pipeline("attention.comp", List.of(), 6);
        int qd = s.nHead() * s.headDim();
        int kvd = s.nHeadKv() * s.headDim();
        try (MemoryStack stack = stackPush()) {
            ByteBuffer pc = VulkanDevice.push(stack, 14);
            pc.putInt(nCells).putInt(nTok).putInt(s.nHead()).putInt(s.nHead() / s.nHeadKv()).putInt(s.headDim())
                    .putInt(rowWords(kType, kvd)).putInt(rowWords(vType, kvd)).putInt(qd)
                    .putFloat(s.scale()).putFloat(s.softcap()).putInt(s.nSwa()).putInt(tokBase).putInt(kType.id())
                    .putInt(vType.id()).flip();
            dev.dispatch(p, new GpuBuffer[] {q, k, v, meta, scratch, out}, pc, chunk * s.nHead(), 1, 1);
        }
    }
}
