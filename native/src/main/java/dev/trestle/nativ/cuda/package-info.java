/**
 * Panama FFM bindings to NVIDIA's CUDA driver API ({@code libcuda.so.1} / {@code nvcuda.dll}) and to
 * cuBLAS, written in the style jextract generates: one class per library, a nested {@code Handles}
 * holder of typed method handles, a raw tier returning the C status code and a checked tier that
 * throws {@link dev.trestle.nativ.cuda.CudaException} naming the call.
 *
 * <p>Nothing here loads a library until {@link dev.trestle.nativ.cuda.CudaDriver#load()} is called, so a
 * machine without the NVIDIA driver runs every other part of Trestle; the load result says why CUDA is
 * unavailable. The kernels live next to the bindings as CUDA C sources ({@code native/src/main/cuda})
 * compiled into {@code trestle-kernels.fatbin}, a resource of this module ({@link CudaKernels}).
 */
package dev.trestle.nativ.cuda;
