package dev.trestle.backends.cpu;

import dev.trestle.backends.cpu.kernel.RowKernels;
import dev.trestle.backends.spi.Backend;
import dev.trestle.backends.spi.Device;
import dev.trestle.backends.spi.DeviceType;
import dev.trestle.backends.spi.OpKind;
import dev.trestle.backends.type.GgmlType;
import java.util.Arrays;

/** The CPU backend: Vector API kernels over mapped weights and a fixed pool of {@code -t} threads. */
public final class CpuBackend implements Backend {
    private final CpuThreadPool pool;
    private final Device device = new CpuDevice();

    public CpuBackend(int threads) {
        this.pool = new CpuThreadPool(threads);
    }

    public CpuThreadPool pool() {
        return pool;
    }

    @Override
    public Device device() {
        return device;
    }

    @Override
    public int parallelism() {
        return pool.threads();
    }

    @Override
    public void close() {
        pool.close();
    }

    /** The host as a device. */
    private static final class CpuDevice implements Device {
        @Override
        public String name() {
            return "CPU";
        }

        @Override
        public DeviceType type() {
            return DeviceType.CPU;
        }

        @Override
        public Memory memory() {
            Runtime rt = Runtime.getRuntime();
            return new Memory(rt.maxMemory() - rt.totalMemory() + rt.freeMemory(), rt.maxMemory());
        }

        @Override
        public boolean supportsOp(OpKind op, GgmlType type) {
            return switch (op) {
                case GET_ROWS, MUL_MAT, MUL_MAT_ID -> RowKernels.supports(type);
                case FLASH_ATTN_EXT, SET_ROWS, CPY -> Arrays.asList(RowQuantizer.CACHE_TYPES).contains(type);
                case ATTN_PLAIN -> type == GgmlType.F32 || type == GgmlType.F16 || type == GgmlType.BF16;
                case ADD, MUL, SCALE, RMS_NORM, NORM, ROPE, SOFT_MAX, SOFTCAP, SILU, GELU, SWIGLU, GEGLU, TOP_K ->
                        type == GgmlType.F32;
            };
        }
    }
}
