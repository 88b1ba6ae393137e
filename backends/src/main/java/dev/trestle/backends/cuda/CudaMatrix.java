package dev.trestle.backends.cuda;

import dev.trestle.backends.type.GgmlType;
import dev.trestle.common.TrestleException;
import java.lang.foreign.MemorySegment;

/**
 * A weight matrix (or expert stack) uploaded to one GPU in its storage type, with its kernels chosen at load:
 * the matvec kernel and the activation format it reads (see {@link CudaKernelNames#dotType}).
 * Shape in ggml order: {@code cols} (row length) x {@code rows} x {@code experts}.
 */
public final class CudaMatrix implements AutoCloseable {
    private final String name;
    private final GgmlType type;
    private final int cols;
    private final int rows;
    private final int experts;
    private final long rowBytes;
    private final CudaBuffer data;
    private final String matvec;
    private final String dequant;
    private final GgmlType dotType;
    private final boolean owner;   // false for a view over a shared buffer (streamed experts)

    /** Uploads {@code host} (e.g. the mapped tensor data) to {@code ctx}. */
    public CudaMatrix(CudaContext ctx, String name, GgmlType type, MemorySegment host, int cols, int rows, int experts) {
        this.name = name;
        this.type = type;
        this.cols = cols;
        this.rows = rows;
        this.experts = experts;
        this.rowBytes = type.bytesFor(cols);
        this.matvec = CudaKernelNames.matvec(type, name);
        this.dequant = CudaKernelNames.dequantF16(type);
        this.dotType = CudaKernelNames.dotType(type);
        long bytes = rowBytes * rows * experts;
        if (rowBytes < 0 || host.byteSize() < bytes) {
            throw new TrestleException("tensor " + name + ": data is shorter than its shape", "the model file is corrupt");
        }
        this.data = ctx.allocate(bytes);
        this.owner = true;
        data.upload(0, host.asSlice(0, bytes));
    }

    private CudaMatrix(String name, GgmlType type, int cols, int rows, int experts, CudaBuffer data) {
        this.name = name;
        this.type = type;
        this.cols = cols;
        this.rows = rows;
        this.experts = experts;
        this.rowBytes = type.bytesFor(cols);
        this.matvec = CudaKernelNames.matvec(type, name);
        this.dequant = CudaKernelNames.dequantF16(type);
        this.dotType = CudaKernelNames.dotType(type);
        this.data = data;
        this.owner = false;
        if (rowBytes * rows * experts > data.bytes()) {
            throw new IllegalArgumentException(name + " needs " + rowBytes * rows * experts + " bytes, the buffer has "
                    + data.bytes());
        }
    }

    /**
     * A matrix whose bytes are whatever was last copied into {@code data} (which it does not own): streamed expert
     * tensors of several layers take turns in one buffer.
     */
    public static CudaMatrix over(CudaBuffer data, String name, GgmlType type, int cols, int rows, int experts) {
        return new CudaMatrix(name, type, cols, rows, experts, data);
    }

    public String name() {
        return name;
    }

    public GgmlType type() {
        return type;
    }

    public int cols() {
        return cols;
    }

    public int rows() {
        return rows;
    }

    public int experts() {
        return experts;
    }

    public long rowBytes() {
        return rowBytes;
    }

    /** Bytes of one expert's matrix. */
    public long expertBytes() {
        return rowBytes * rows;
    }

    public CudaBuffer data() {
        return data;
    }

    String matvecKernel() {
        return matvec;
    }

    String dequantKernel() {
        return dequant;
    }

    /** The activation format of the matvec: Q8_0, Q8_1, Q8_K, F32, F16 or BF16. */
    public GgmlType dotType() {
        return dotType;
    }

    @Override
    public void close() {
        if (owner) {
            data.close();
        }
    }
}
