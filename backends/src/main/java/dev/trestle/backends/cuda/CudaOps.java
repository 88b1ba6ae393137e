package dev.trestle.backends.cuda;

import dev.trestle.backends.cpu.Rope;
import dev.trestle.backends.type.GgmlType;
import dev.trestle.nativ.cuda.Cublas;
import dev.trestle.nativ.cuda.KernelArgs;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Launch wrappers of Trestle's CUDA kernels on one context's stream: each method fills the argument list in the
 * order of the kernel's C signature and picks its grid from {@link LaunchConfig}. Offsets are in floats.
 * Work is queued; {@link CudaBuffer#read} or {@link CudaContext#synchronize()} waits for it.
 *
 * <p>Matmuls pick their path per call: up to {@link LaunchConfig#GEMM_MIN_TOKENS} activation rows, or any
 * expert matmul, quantize the activations to the weight's dot format and run the block-reading matvec
 * (decode); larger batches dequantize weight tiles to F16 and multiply on tensor cores (prefill): with
 * Trestle's wmma kernel, or with cuBLAS ({@code cublasGemmEx}, F16 inputs, F32 accumulation) when the library is
 * installed and {@link GemmPath} picks it for the size.
 */
public final class CudaOps implements AutoCloseable {
    /** F16 weight-tile scratch of the GEMM path. */
    private static final long TILE_BYTES = 64L << 20;

    private final CudaContext ctx;
    private CudaBuffer actQs;      // (rows, cols) int8 quants
    private CudaBuffer actD;       // (rows, cols / 32) scales
    private CudaBuffer actS;       // (rows, cols / 32) Q8_1 sums
    private CudaBuffer actBsums;   // (rows, cols / 16) Q8_K partial sums
    private CudaBuffer xHalf;      // (rows padded to 16, cols) F16 activations
    private CudaBuffer tile;       // (tile rows, cols) F16 weights
    private long scratchGeneration;   // bumped whenever a scratch buffer moves (captured graphs hold addresses)
    private final Cublas cublas;      // null when absent or turned off
    private MemorySegment cublasHandle;
    private final Arena hostScalars = Arena.ofShared();
    private final MemorySegment one;
    private final MemorySegment zero;
    private long cublasCalls;
    private long wmmaCalls;

    public CudaOps(CudaContext ctx) {
        this.ctx = ctx;
        this.cublas = GemmPath.cublasWanted() ? Cublas.loadOptional() : null;
        this.one = hostScalars.allocate(ValueLayout.JAVA_FLOAT);
        this.zero = hostScalars.allocate(ValueLayout.JAVA_FLOAT);
        one.set(ValueLayout.JAVA_FLOAT, 0, 1f);
        zero.set(ValueLayout.JAVA_FLOAT, 0, 0f);
    }

    /** Changes whenever a scratch buffer is reallocated (graphs captured before then are stale). */
    public long scratchGeneration() {
        return scratchGeneration;
    }

    /** True when cuBLAS is loaded for the large GEMMs. */
    public boolean hasCublas() {
        return cublas != null;
    }

    /** Tiles multiplied by cuBLAS and by Trestle's wmma kernel so far (what the GPU check reports). */
    public long[] gemmCalls() {
        return new long[] {cublasCalls, wmmaCalls};
    }

    public CudaContext context() {
        return ctx;
    }

    // ---------------------------------------------------------------- matmul

    /**
     * {@code out[t * outStride + r] = W row r . x row t} for {@code n} rows of {@code x} (contiguous, W.cols()
     * floats each, from float offset {@code xOff}). For the GEMM path, {@code out} must hold
     * {@code roundUp(n, 16)} rows of {@code outStride}.
     */
    public void matmul(CudaMatrix w, CudaBuffer x, long xOff, int n, CudaBuffer out, long outOff, int outStride) {
        // wmma stores need 32-byte aligned output tiles: offsets and strides in multiples of 8 floats
        if (n >= LaunchConfig.GEMM_MIN_TOKENS && w.rows() % 16 == 0 && w.cols() % 16 == 0 && outStride % 8 == 0
                && outOff % 8 == 0) {
            gemm(w, x, xOff, n, out, outOff, outStride);
        } else {
            matvec(w, x, xOff, n, out, outOff, outStride, null, 0, 1);
        }
    }

    /**
     * mul_mat_id: for each of {@code pairs} (token, slot) pairs p, {@code out[p * outStride + r] = W[ids[p]] row r .
     * x row (p / actDiv)}; {@code actDiv} = slots per token when the slots share their token's activations
     * (gate/up), 1 when each pair has its own row (down).
     */
    public void matmulId(CudaMatrix w, CudaBuffer x, long xOff, int xRows, CudaBuffer ids, int pairs, int actDiv,
                         CudaBuffer out, long outOff, int outStride) {
        matvec(w, x, xOff, xRows, out, outOff, outStride, ids, pairs, actDiv);
    }

    private void matvec(CudaMatrix w, CudaBuffer x, long xOff, int xRows, CudaBuffer out, long outOff, int outStride,
                        CudaBuffer ids, int pairs, int actDiv) {
        int cols = w.cols();
        int gridRows = ids != null ? pairs : xRows;
        GgmlType dot = w.dotType();
        long idsPtr = ids != null ? ids.ptr() : 0L;
        if (dot == GgmlType.F32 || dot == GgmlType.F16 || dot == GgmlType.BF16) {
            ctx.args().ptr(w.data().ptr()).i64(w.rowBytes()).i64(w.expertBytes()).ptr(x.at(4 * xOff))
                    .ptr(out.at(4 * outOff)).i32(w.rows()).i32(cols).i32(outStride).ptr(idsPtr).i32(actDiv);
        } else {
            quantizeActivations(dot, x, xOff, xRows, cols);
            boolean k = dot == GgmlType.Q8_K;
            ctx.args().ptr(w.data().ptr()).i64(w.rowBytes()).i64(w.expertBytes()).ptr(actQs.ptr()).ptr(actD.ptr())
                    .ptr(dot == GgmlType.Q8_1 ? actS.ptr() : 0L).ptr(k ? actBsums.ptr() : 0L)
                    .ptr(out.at(4 * outOff)).i32(w.rows()).i32(cols).i32(outStride).ptr(idsPtr).i32(actDiv);
        }
        ctx.launch(w.matvecKernel(), LaunchConfig.matvec(w.rows(), gridRows), LaunchConfig.MMV_BLOCK, 0);
    }

    /** Quantizes {@code rows} activation rows to Q8_0, Q8_1 or Q8_K into the scratch buffers. */
    void quantizeActivations(GgmlType format, CudaBuffer x, long xOff, int rows, int cols) {
        long n = (long) rows * cols;
        actQs = ensure(actQs, n);
        actD = ensure(actD, 4 * (n / 32 + 1));
        if (format == GgmlType.Q8_K) {
            actBsums = ensure(actBsums, 2 * (n / 16 + 1));
            ctx.args().ptr(x.at(4 * xOff)).ptr(actQs.ptr()).ptr(actD.ptr()).ptr(actBsums.ptr());
            ctx.launch("quantize_q8_k", LaunchConfig.quantizeQ8_K(n), 256, 0);
        } else {
            long s = 0L;
            if (format == GgmlType.Q8_1) {
                actS = ensure(actS, 4 * (n / 32 + 1));
                s = actS.ptr();
            }
            ctx.args().ptr(x.at(4 * xOff)).ptr(actQs.ptr()).ptr(actD.ptr()).ptr(s).i64(n / 32);
            ctx.launch("quantize_q8_0", LaunchConfig.quantizeQ8_0(n), LaunchConfig.Q8_BLOCK, 0);
        }
    }

    private void gemm(CudaMatrix w, CudaBuffer x, long xOff, int n, CudaBuffer out, long outOff, int outStride) {
        int cols = w.cols();
        int nPad = LaunchConfig.roundUp(n, 16);
        xHalf = ensure(xHalf, 2L * nPad * cols);
        ctx.args().ptr(x.at(4 * xOff)).ptr(xHalf.ptr()).i64((long) n * cols);
        ctx.launch("convert_f32_f16", LaunchConfig.elementwise((long) n * cols), LaunchConfig.EW_BLOCK, 0);
        int tileRows = LaunchConfig.gemmTileRows(w.rows(), cols, TILE_BYTES);
        tile = ensure(tile, 2L * tileRows * cols);
        boolean viaCublas = GemmPath.choose(n, w.rows(), cols, cublas != null) == GemmPath.CUBLAS;
        for (int r0 = 0; r0 < w.rows(); r0 += tileRows) {
            int tr = Math.min(tileRows, w.rows() - r0);
            ctx.args().ptr(w.data().ptr()).i64(w.rowBytes()).i64(r0).ptr(tile.ptr()).i32(cols);
            ctx.launch(w.dequantKernel(), LaunchConfig.perRow(cols, tr), LaunchConfig.EW_BLOCK, 0);
            if (viaCublas) {
                cublasTile(tile.ptr(), xHalf.ptr(), out.at(4 * (outOff + r0)), tr, n, cols, outStride);
                cublasCalls++;
            } else {
                ctx.args().ptr(xHalf.ptr()).ptr(tile.ptr()).ptr(out.at(4 * (outOff + r0))).i32(cols).i32(tr)
                        .i32(outStride);
                ctx.launch("gemm_f16", LaunchConfig.gemm(tr, nPad), 128, 0);
                wmmaCalls++;
            }
        }
    }

    /**
     * {@code out[t * outStride + r] = tile row r . x row t} for {@code tr} F16 weight rows and {@code n} F16
     * activation rows of {@code cols}. cuBLAS is column-major: the row-major tile is a (cols x tr) matrix, used
     * transposed; the activations are (cols x n); the output is (tr x n) with leading dimension outStride.
     */
    private void cublasTile(long tilePtr, long xPtr, long outPtr, int tr, int n, int cols, int outStride) {
        ctx.makeCurrent();
        if (cublasHandle == null) {
            cublasHandle = cublas.create();
            cublas.setStream(cublasHandle, ctx.stream());
        }
        cublas.check(cublas.cublasGemmEx(cublasHandle, Cublas.CUBLAS_OP_T, Cublas.CUBLAS_OP_N, tr, n, cols, one,
                tilePtr, Cublas.CUDA_R_16F, cols, xPtr, Cublas.CUDA_R_16F, cols, zero, outPtr, Cublas.CUDA_R_32F,
                outStride, Cublas.CUBLAS_COMPUTE_32F, Cublas.CUBLAS_GEMM_DEFAULT), "cublasGemmEx",
                tr + "x" + n + "x" + cols);
    }

    private CudaBuffer ensure(CudaBuffer b, long bytes) {
        if (b != null && b.bytes() >= bytes) {
            return b;
        }
        if (b != null) {
            ctx.synchronize();   // queued kernels may still read the old scratch
            b.close();
        }
        scratchGeneration++;
        return ctx.allocate(Math.max(bytes, 1L << 16));
    }

    // ---------------------------------------------------------------- rows

    /** {@code out[j] = W row ids[j]} as floats (embedding lookup), {@code nRows} rows. */
    public void getRows(CudaMatrix w, CudaBuffer rowIds, int nRows, CudaBuffer out, long outOff) {
        ctx.args().ptr(w.data().ptr()).i64(w.rowBytes()).ptr(rowIds.ptr()).ptr(out.at(4 * outOff)).i32(w.cols());
        ctx.launch(CudaKernelNames.getRows(w.type()), LaunchConfig.perRow(w.cols(), nRows), LaunchConfig.EW_BLOCK, 0);
    }

    /** Stores {@code nRows} rows of {@code n} floats (contiguous) into cache rows {@code cells[j]} of {@code type}. */
    public void setRows(CudaBuffer cache, GgmlType type, long rowBytes, CudaBuffer x, long xOff, int n,
                        CudaBuffer cells, int nRows) {
        ctx.args().ptr(x.at(4 * xOff)).ptr(cache.ptr()).i64(rowBytes).ptr(cells.ptr()).i32(n);
        boolean quant = type.isQuantized();
        ctx.launch(CudaKernelNames.setRows(type), quant ? LaunchConfig.perQuantBlock(n, nRows)
                : LaunchConfig.perRow(n, nRows), quant ? 64 : LaunchConfig.EW_BLOCK, 0);
    }

    // ---------------------------------------------------------------- norms and element-wise

    /** RMSNorm of {@code rows} contiguous rows of {@code n} floats, times {@code w} when given. */
    public void rmsNorm(CudaBuffer x, long xOff, int n, int rows, float eps, CudaBuffer w, CudaBuffer out, long outOff) {
        ctx.args().ptr(x.at(4 * xOff)).ptr(w != null ? w.ptr() : 0L).ptr(out.at(4 * outOff)).i32(n).f32(eps);
        ctx.launch("rms_norm", new LaunchConfig.Grid(rows, 1, 1), LaunchConfig.rowBlock(n), 0);
    }

    /** LayerNorm with optional weight and bias. */
    public void layerNorm(CudaBuffer x, long xOff, int n, int rows, float eps, CudaBuffer w, CudaBuffer b,
                          CudaBuffer out, long outOff) {
        ctx.args().ptr(x.at(4 * xOff)).ptr(w != null ? w.ptr() : 0L).ptr(b != null ? b.ptr() : 0L)
                .ptr(out.at(4 * outOff)).i32(n).f32(eps);
        ctx.launch("layer_norm", new LaunchConfig.Grid(rows, 1, 1), LaunchConfig.rowBlock(n), 0);
    }

    /** {@code out[i] = x[i] + y[i % yn]} over {@code n} elements. */
    public void add(CudaBuffer x, long xOff, CudaBuffer y, long yOff, long yn, CudaBuffer out, long outOff, long n) {
        binary("add_f32", x, xOff, y, yOff, yn, out, outOff, n);
    }

    /** {@code out[i] = x[i] * y[i % yn]}. */
    public void mul(CudaBuffer x, long xOff, CudaBuffer y, long yOff, long yn, CudaBuffer out, long outOff, long n) {
        binary("mul_f32", x, xOff, y, yOff, yn, out, outOff, n);
    }

    private void binary(String k, CudaBuffer x, long xOff, CudaBuffer y, long yOff, long yn, CudaBuffer out,
                        long outOff, long n) {
        ctx.args().ptr(x.at(4 * xOff)).ptr(y.at(4 * yOff)).ptr(out.at(4 * outOff)).i64(n).i64(yn);
        ctx.launch(k, LaunchConfig.elementwise(n), LaunchConfig.EW_BLOCK, 0);
    }

    public void scale(CudaBuffer x, long off, long n, float s) {
        ctx.args().ptr(x.at(4 * off)).ptr(x.at(4 * off)).i64(n).f32(s);
        ctx.launch("scale_f32", LaunchConfig.elementwise(n), LaunchConfig.EW_BLOCK, 0);
    }

    public void softcap(CudaBuffer x, long off, long n, float cap) {
        ctx.args().ptr(x.at(4 * off)).ptr(x.at(4 * off)).i64(n).f32(cap);
        ctx.launch("softcap_f32", LaunchConfig.elementwise(n), LaunchConfig.EW_BLOCK, 0);
    }

    /** Fused gate activation: {@code out = act(gate) * up} over {@code rows} rows of {@code cols}. */
    public void glu(boolean gelu, CudaBuffer gate, long gOff, int gateStride, CudaBuffer up, long uOff, int upStride,
                    CudaBuffer out, long outOff, int rows, int cols) {
        long n = (long) rows * cols;
        ctx.args().ptr(gate.at(4 * gOff)).ptr(up.at(4 * uOff)).ptr(out.at(4 * outOff)).i64(n).i32(cols).i32(gateStride)
                .i32(upStride);
        ctx.launch(gelu ? "geglu_f32" : "swiglu_f32", LaunchConfig.elementwise(n), LaunchConfig.EW_BLOCK, 0);
    }

    /** Row softmax in place over {@code rows} rows of {@code n}. */
    public void softmax(CudaBuffer x, long off, int n, int rows) {
        ctx.args().ptr(x.at(4 * off)).i32(n);
        ctx.launch("softmax_f32", new LaunchConfig.Grid(rows, 1, 1), LaunchConfig.rowBlock(n), 0);
    }

    /** Top-k indices of each row (k largest, largest first, lower index on ties). */
    public void topK(CudaBuffer x, long off, int n, int rows, int k, CudaBuffer idx) {
        if (n > 1024) {
            throw new IllegalArgumentException("top_k over " + n + " > 1024 values");
        }
        ctx.args().ptr(x.at(4 * off)).i32(n).i32(k).ptr(idx.ptr());
        ctx.launch("top_k_f32", new LaunchConfig.Grid(rows, 1, 1), 32, 0);
    }

    /** RoPE in place over {@code tokens} rows of {@code nHead} heads, positions from {@code pos}. */
    public void rope(CudaBuffer x, long off, int rowStride, int tokens, int nHead, int headDim, CudaBuffer pos,
                     Rope r, CudaBuffer freqFactors) {
        KernelArgs a = ctx.args();
        a.ptr(x.at(4 * off)).ptr(pos.ptr()).ptr(freqFactors != null ? freqFactors.ptr() : 0L).i32(nHead).i32(headDim)
                .i32(rowStride).i32(r.nDims()).i32(r.neox() ? 1 : 0).f32(r.freqBase()).f32(r.freqScale())
                .f32(r.extFactor()).f32(r.attnFactor()).f32(r.betaFast()).f32(r.betaSlow()).i32(r.nCtxOrig());
        ctx.launch("rope_f32", LaunchConfig.rope(nHead, r.nDims(), tokens), 128, 0);
    }

    // ---------------------------------------------------------------- MoE routing

    /** {@code x = 1 / (1 + exp(-x))} over {@code n} elements (sigmoid gating). */
    public void sigmoid(CudaBuffer x, long off, long n) {
        ctx.args().ptr(x.at(4 * off)).ptr(x.at(4 * off)).i64(n);
        ctx.launch("sigmoid_f32", LaunchConfig.elementwise(n), LaunchConfig.EW_BLOCK, 0);
    }

    /**
     * Routing weights: for each of {@code tokens} rows of {@code nExp} router probabilities, the probabilities of
     * its {@code k} selected experts, normalized to sum 1 when {@code normalize}, times {@code scale} (0 or 1 = none).
     */
    public void moeWeights(CudaBuffer probs, CudaBuffer selected, CudaBuffer weights, int tokens, int nExp, int k,
                           boolean normalize, float scale) {
        ctx.args().ptr(probs.ptr()).ptr(selected.ptr()).ptr(weights.ptr()).i32(tokens).i32(nExp).i32(k)
                .i32(normalize ? 1 : 0).f32(scale);
        ctx.launch("moe_weights_f32", LaunchConfig.elementwise(tokens), LaunchConfig.EW_BLOCK, 0);
    }

    /** Row r of {@code x} (rows of {@code cols}) times {@code expertScale[ids[r]]}, {@code rows} rows. */
    public void scaleByExpert(CudaBuffer x, CudaBuffer ids, CudaBuffer expertScale, int cols, int rows) {
        long n = (long) rows * cols;
        ctx.args().ptr(x.ptr()).ptr(ids.ptr()).ptr(expertScale.ptr()).i32(cols).i64(n);
        ctx.launch("scale_by_expert_f32", LaunchConfig.elementwise(n), LaunchConfig.EW_BLOCK, 0);
    }

    /** {@code out[t] = sum_s weights[t, s] * y[t * k + s]} for {@code tokens} rows of {@code n}. */
    public void moeCombine(CudaBuffer y, CudaBuffer weights, CudaBuffer out, int n, int k, int tokens) {
        ctx.args().ptr(y.ptr()).ptr(weights.ptr()).ptr(out.ptr()).i32(n).i32(k);
        ctx.launch("moe_combine_f32", LaunchConfig.perRow(n, tokens), LaunchConfig.EW_BLOCK, 0);
    }

    /** {@code shared[t] *= sigmoid(cur[t] . w)} for {@code tokens} rows of {@code n}. */
    public void sharedExpertGate(CudaBuffer cur, CudaBuffer w, CudaBuffer shared, int n, int tokens) {
        ctx.args().ptr(cur.ptr()).ptr(w.ptr()).ptr(shared.ptr()).i32(n);
        ctx.launch("shexp_gate_f32", new LaunchConfig.Grid(tokens, 1, 1), LaunchConfig.rowBlock(n), 0);
    }

    // ---------------------------------------------------------------- attention

    /** The shape of one attention call (see the CPU's {@code Attention.Shape}). */
    public record AttentionShape(int nHead, int nHeadKv, int headDim, float scale, float softcap, boolean flash) {
    }

    /**
     * Attention of {@code tokens} query rows (stride {@code qStride}) over cache rows; token t sees cells
     * {@code cells[offsets[t] .. offsets[t+1])}. Output rows of nHead * headDim floats (stride {@code outStride}).
     */
    public void attention(AttentionShape s, GgmlType kType, CudaBuffer k, long kRowBytes, GgmlType vType, CudaBuffer v,
                          long vRowBytes, CudaBuffer q, long qOff, int qStride, CudaBuffer cells, CudaBuffer offsets,
                          int tokens, CudaBuffer out, long outOff, int outStride) {
        if (s.headDim() > 256 || (kType.isQuantized() || vType.isQuantized()) && s.headDim() % 32 != 0) {
            throw new IllegalArgumentException("CUDA attention supports head sizes up to 256 (multiples of 32 for a "
                    + "quantized cache), got " + s.headDim());
        }
        ctx.args().i32(kType.id()).i32(vType.id()).ptr(q.at(4 * qOff)).i32(qStride).ptr(k.ptr()).i64(kRowBytes)
                .ptr(v.ptr()).i64(vRowBytes).ptr(cells.ptr()).ptr(offsets.ptr()).ptr(out.at(4 * outOff)).i32(outStride)
                .i32(s.nHead()).i32(s.nHeadKv()).i32(s.headDim()).f32(s.scale()).f32(s.softcap());
        ctx.launch(s.flash() ? "flash_attn_ext" : "attn_plain", LaunchConfig.attention(s.nHead(), tokens),
                LaunchConfig.ATTN_HEADS * 32, 0);
    }

    @Override
    public void close() {
        ctx.synchronize();
        for (CudaBuffer b : new CudaBuffer[] {actQs, actD, actS, actBsums, xHalf, tile}) {
            if (b != null) {
                b.close();
            }
        }
        if (cublasHandle != null) {
            ctx.makeCurrent();
            cublas.destroy(cublasHandle);
            cublasHandle = null;
        }
        hostScalars.close();
    }
}
