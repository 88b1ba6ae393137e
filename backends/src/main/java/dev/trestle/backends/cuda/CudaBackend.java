package dev.trestle.backends.cuda;

import dev.trestle.backends.spi.Backend;
import dev.trestle.backends.spi.Device;
import dev.trestle.backends.spi.DeviceType;
import dev.trestle.backends.spi.OpKind;
import dev.trestle.backends.type.GgmlType;

/**
 * The CUDA backend on one GPU: a {@link CudaContext} (primary context, stream, kernel modules) and the
 * {@link CudaOps} that launch Trestle's kernels on it. Opening it needs the NVIDIA driver; without one
 * {@link dev.trestle.nativ.cuda.CudaDriver#load()} explains what is missing.
 */
public final class CudaBackend implements Backend {
    private final CudaContext ctx;
    private final CudaOps ops;
    private final Device device;

    private CudaBackend(CudaContext ctx) {
        this.ctx = ctx;
        this.ops = new CudaOps(ctx);
        this.device = new CudaDevice(ctx);
    }

    /** Opens CUDA device {@code ordinal}. */
    public static CudaBackend open(int ordinal) {
        return new CudaBackend(CudaContext.open(ordinal));
    }

    public CudaContext context() {
        return ctx;
    }

    public CudaOps ops() {
        return ops;
    }

    @Override
    public Device device() {
        return device;
    }

    @Override
    public int parallelism() {
        return 1;
    }

    @Override
    public void close() {
        ops.close();
        ctx.close();
    }

    /** Which ops and types the CUDA kernels cover; the planner routes the rest to the CPU. */
    public static boolean supports(OpKind op, GgmlType type) {
        return switch (op) {
            case GET_ROWS, MUL_MAT, MUL_MAT_ID -> CudaKernelNames.WEIGHT_TYPES.contains(type);
            case FLASH_ATTN_EXT, SET_ROWS, CPY -> CudaKernelNames.CACHE_TYPES.contains(type);
            case ATTN_PLAIN -> type == GgmlType.F32 || type == GgmlType.F16 || type == GgmlType.BF16;
            case ADD, MUL, SCALE, RMS_NORM, NORM, ROPE, SOFT_MAX, SOFTCAP, SILU, GELU, SWIGLU, GEGLU, TOP_K ->
                    type == GgmlType.F32;
        };
    }

    /** One GPU as an SPI device. */
    private record CudaDevice(CudaContext ctx) implements Device {
        @Override
        public String name() {
            return ctx.name();
        }

        @Override
        public DeviceType type() {
            return DeviceType.GPU;
        }

        @Override
        public Memory memory() {
            long[] m = ctx.memory();
            return new Memory(m[0], m[1]);
        }

        @Override
        public boolean supportsOp(OpKind op, GgmlType type) {
            return supports(op, type);
        }
    }
}
