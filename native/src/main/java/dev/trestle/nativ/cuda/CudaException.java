package dev.trestle.nativ.cuda;

import dev.trestle.common.TrestleException;

/**
 * A CUDA driver or cuBLAS call returned an error status: carries the status code, its name
 * ({@code CUDA_ERROR_OUT_OF_MEMORY}) and the call that failed, so a log line says what to fix.
 */
public final class CudaException extends TrestleException {
    private final int status;
    private final String statusName;
    private final String call;

    public CudaException(int status, String statusName, String description, String call, String detail) {
        super(call + (detail == null || detail.isEmpty() ? "" : "(" + detail + ")") + " failed: " + statusName
                + " (" + status + ")" + (description == null || description.isEmpty() ? "" : ": " + description),
                fixFor(statusName), 1, null);
        this.status = status;
        this.statusName = statusName;
        this.call = call;
    }

    /** The C status code ({@code CUresult} or {@code cublasStatus_t}). */
    public int status() {
        return status;
    }

    /** The status code's name, such as {@code CUDA_ERROR_OUT_OF_MEMORY}. */
    public String statusName() {
        return statusName;
    }

    /** The C function that failed, such as {@code cuMemAlloc}. */
    public String call() {
        return call;
    }

    private static String fixFor(String name) {
        return switch (name) {
            case "CUDA_ERROR_OUT_OF_MEMORY", "CUBLAS_STATUS_ALLOC_FAILED" ->
                    "lower -ngl, raise --n-cpu-moe, use a smaller -c or -ctk q8_0 -ctv q8_0; `trestle plan` shows the budget";
            case "CUDA_ERROR_NO_DEVICE" -> "no NVIDIA GPU is visible: check nvidia-smi, CUDA_VISIBLE_DEVICES and, in "
                    + "Docker, --gpus all";
            case "CUDA_ERROR_INSUFFICIENT_DRIVER", "CUDA_ERROR_UNSUPPORTED_PTX_VERSION" ->
                    "update the NVIDIA driver to " + CudaDriver.MIN_DRIVER_NAME + " or newer";
            case "CUDA_ERROR_NO_BINARY_FOR_GPU" -> "this GPU's architecture is not in Trestle's kernel image "
                    + "(sm_75 and newer are supported); update the NVIDIA driver so it can JIT the PTX";
            default -> null;
        };
    }
}
