// Hand-written in jextract's shape for cublas_api.h (cuBLAS 12/13); optional at run time.
package dev.trestle.nativ.cuda;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.List;

/**
 * Optional bindings to cuBLAS, used for large batched GEMMs on dequantized F16 tiles when the library is
 * installed (it ships with the CUDA toolkit, not with the driver). cuBLAS works on the device's primary
 * context, which is the context {@link CudaDriver} users retain, so both share memory and streams.
 */
public final class Cublas {
    /** {@code CUBLAS_OP_N}, {@code CUBLAS_OP_T}. */
    public static final int CUBLAS_OP_N = 0;
    public static final int CUBLAS_OP_T = 1;
    /** {@code cudaDataType}: {@code CUDA_R_32F}, {@code CUDA_R_16F}, {@code CUDA_R_16BF}. */
    public static final int CUDA_R_32F = 0;
    public static final int CUDA_R_16F = 2;
    public static final int CUDA_R_16BF = 14;
    /** {@code CUBLAS_COMPUTE_32F}: F32 accumulation, as our numerics contract wants. */
    public static final int CUBLAS_COMPUTE_32F = 68;
    /** {@code CUBLAS_GEMM_DEFAULT} (tensor cores are used for F16 inputs on every supported GPU). */
    public static final int CUBLAS_GEMM_DEFAULT = -1;

    /** Where cuBLAS lives, newest first. */
    public static List<String> libraryNames() {
        return NativeLibrary.isWindows() ? List.of("cublas64_13.dll", "cublas64_12.dll")
                : List.of("libcublas.so.13", "libcublas.so.12", "libcublas.so");
    }

    private static final FunctionDescriptor GEMM_EX = FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT,
            JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_INT, ADDRESS,
            JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT);
    private static final FunctionDescriptor GEMM_STRIDED_BATCHED_EX = FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT,
            JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT,
            JAVA_INT, JAVA_LONG, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT);

    /** Typed downcall handles, bound once. */
    static final class Handles {
        final MethodHandle cublasCreate;
        final MethodHandle cublasDestroy;
        final MethodHandle cublasSetStream;
        final MethodHandle cublasGetStatusName;
        final MethodHandle cublasGemmEx;
        final MethodHandle cublasGemmStridedBatchedEx;

        Handles(NativeLibrary lib) {
            cublasCreate = lib.bind("cublasCreate_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS));
            cublasDestroy = lib.bind("cublasDestroy_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS));
            cublasSetStream = lib.bind("cublasSetStream_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
            cublasGetStatusName = lib.bind("cublasGetStatusName", FunctionDescriptor.of(ADDRESS, JAVA_INT));
            cublasGemmEx = lib.bind("cublasGemmEx", GEMM_EX);
            cublasGemmStridedBatchedEx = lib.bind("cublasGemmStridedBatchedEx", GEMM_STRIDED_BATCHED_EX);
        }
    }

    private static volatile Object loaded;   // a Cublas or the reason it is absent (String)

    private final NativeLibrary library;
    private final Handles h;

    private Cublas(NativeLibrary library, Handles h) {
        this.library = library;
        this.h = h;
    }

    /** cuBLAS when installed, else null (callers fall back to our own MMA kernels); {@link #absentReason()} says why. */
    public static Cublas loadOptional() {
        Object l = loaded;
        if (l == null) {
            synchronized (Cublas.class) {
                l = loaded;
                if (l == null) {
                    NativeLibrary lib = NativeLibrary.open(libraryNames());
                    if (lib == null) {
                        l = String.join(" / ", libraryNames()) + " not found (optional: Trestle's own MMA kernels are used)";
                    } else {
                        try {
                            l = new Cublas(lib, new Handles(lib));
                        } catch (NativeLibrary.MissingSymbolException e) {
                            l = e.getMessage() + " (cuBLAS older than 11.4; ignored)";
                        }
                    }
                    loaded = l;
                }
            }
        }
        return l instanceof Cublas c ? c : null;
    }

    /** Why {@link #loadOptional()} returned null, or null when cuBLAS loaded. */
    public static String absentReason() {
        return loadOptional() == null ? (String) loaded : null;
    }

    public String libraryName() {
        return library.name();
    }

    /// cublasStatus_t cublasCreate_v2(cublasHandle_t *handle)
    public int cublasCreate(@NativeType("cublasHandle_t *") MemorySegment handle) {
        try {
            return (int) h.cublasCreate.invokeExact(handle);
        } catch (Throwable t) {
            throw CudaDriver.rethrow(t);
        }
    }

    /// cublasStatus_t cublasDestroy_v2(cublasHandle_t handle)
    public int cublasDestroy(@NativeType("cublasHandle_t") MemorySegment handle) {
        try {
            return (int) h.cublasDestroy.invokeExact(handle);
        } catch (Throwable t) {
            throw CudaDriver.rethrow(t);
        }
    }

    /// cublasStatus_t cublasSetStream_v2(cublasHandle_t handle, cudaStream_t streamId)
    public int cublasSetStream(@NativeType("cublasHandle_t") MemorySegment handle, @NativeType("cudaStream_t") MemorySegment stream) {
        try {
            return (int) h.cublasSetStream.invokeExact(handle, stream);
        } catch (Throwable t) {
            throw CudaDriver.rethrow(t);
        }
    }

    /// const char *cublasGetStatusName(cublasStatus_t status)
    public String statusName(@NativeType("cublasStatus_t") int status) {
        try {
            MemorySegment s = (MemorySegment) h.cublasGetStatusName.invokeExact(status);
            return s.equals(MemorySegment.NULL) ? "cublasStatus_t " + status : s.reinterpret(256).getString(0);
        } catch (Throwable t) {
            throw CudaDriver.rethrow(t);
        }
    }

    /// cublasStatus_t cublasGemmEx(cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb, int m, int n, int k, const void *alpha, const void *A, cudaDataType Atype, int lda, const void *B, cudaDataType Btype, int ldb, const void *beta, void *C, cudaDataType Ctype, int ldc, cublasComputeType_t computeType, cublasGemmAlgo_t algo)
    public int cublasGemmEx(MemorySegment handle, int transa, int transb, int m, int n, int k, MemorySegment alpha,
                            @NativeType("const void *") long a, int aType, int lda, @NativeType("const void *") long b,
                            int bType, int ldb, MemorySegment beta, @NativeType("void *") long c, int cType, int ldc,
                            int computeType, int algo) {
        try {
            return (int) h.cublasGemmEx.invokeExact(handle, transa, transb, m, n, k, alpha, a, aType, lda, b, bType, ldb,
                    beta, c, cType, ldc, computeType, algo);
        } catch (Throwable t) {
            throw CudaDriver.rethrow(t);
        }
    }

    /// cublasStatus_t cublasGemmStridedBatchedEx(cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb, int m, int n, int k, const void *alpha, const void *A, cudaDataType Atype, int lda, long long int strideA, const void *B, cudaDataType Btype, int ldb, long long int strideB, const void *beta, void *C, cudaDataType Ctype, int ldc, long long int strideC, int batchCount, cublasComputeType_t computeType, cublasGemmAlgo_t algo)
    public int cublasGemmStridedBatchedEx(MemorySegment handle, int transa, int transb, int m, int n, int k,
                                          MemorySegment alpha, long a, int aType, int lda, long strideA, long b, int bType,
                                          int ldb, long strideB, MemorySegment beta, long c, int cType, int ldc,
                                          long strideC, int batchCount, int computeType, int algo) {
        try {
            return (int) h.cublasGemmStridedBatchedEx.invokeExact(handle, transa, transb, m, n, k, alpha, a, aType, lda,
                    strideA, b, bType, ldb, strideB, beta, c, cType, ldc, strideC, batchCount, computeType, algo);
        } catch (Throwable t) {
            throw CudaDriver.rethrow(t);
        }
    }

    // ---------------------------------------------------------------- checked tier

    public void check(int status, String call, String detail) {
        if (status != 0) {
            throw new CudaException(status, statusName(status), null, call, detail);
        }
    }

    /** Creates a handle bound to the current context; the caller destroys it with {@link #destroy}. */
    public MemorySegment create() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment p = arena.allocate(ADDRESS);
            check(cublasCreate(p), "cublasCreate", null);
            return p.get(ADDRESS, 0);
        }
    }

    public void destroy(MemorySegment handle) {
        check(cublasDestroy(handle), "cublasDestroy", null);
    }

    public void setStream(MemorySegment handle, MemorySegment stream) {
        check(cublasSetStream(handle, stream), "cublasSetStream", null);
    }
}
