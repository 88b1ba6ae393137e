// Hand-written in the shape jextract generates for cuda.h (CUDA 13.0); keep it that way: one Fn per C
// function, its prototype in the Javadoc, raw and checked tiers. CudaDriverHeaderTest checks every Fn
// against /usr/local/cuda/include/cuda.h when the toolkit is present.
package dev.trestle.nativ.cuda;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.AddressLayout;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Bindings to the CUDA driver API ({@code libcuda.so.1} / {@code nvcuda.dll}), loaded on first use.
 *
 * <p>{@link #load()} opens the library, binds every function, checks the driver version against
 * {@link #MIN_DRIVER_VERSION} and calls {@code cuInit}; any failure becomes a
 * {@link CudaUnavailableException} whose message says what is missing and which driver to install. The
 * outcome is remembered, so later calls answer at once.
 *
 * <p>Each C function comes twice: a raw method named as in C ({@code cuMemAlloc}) that returns the
 * {@code CUresult}, and a checked one without the {@code cu} prefix ({@code memAlloc}) that throws a
 * {@link CudaException} naming the call. Handles ({@code CUcontext}, {@code CUstream}, ...) are
 * {@link MemorySegment} addresses; device pointers ({@code CUdeviceptr}) are {@code long}.
 */
public final class CudaDriver {
    /** {@code cuDriverGetVersion} of the oldest driver that runs our kernels (PTX ISA 9.0, CUDA 13.0). */
    public static final int MIN_DRIVER_VERSION = 13000;
    /** The driver branch that provides {@link #MIN_DRIVER_VERSION}, as users know it. */
    public static final String MIN_DRIVER_NAME = "NVIDIA driver 580 (r580, CUDA 13.0)";

    /** {@code CUresult CUDA_SUCCESS}. */
    public static final int CUDA_SUCCESS = 0;
    /** {@code CU_DEVICE_ATTRIBUTE_*} values this project reads. */
    public static final int CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK = 1;
    public static final int CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK = 8;
    public static final int CU_DEVICE_ATTRIBUTE_WARP_SIZE = 10;
    public static final int CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT = 16;
    public static final int CU_DEVICE_ATTRIBUTE_INTEGRATED = 18;
    public static final int CU_DEVICE_ATTRIBUTE_CAN_MAP_HOST_MEMORY = 19;
    public static final int CU_DEVICE_ATTRIBUTE_PCI_BUS_ID = 33;
    public static final int CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE = 38;
    public static final int CU_DEVICE_ATTRIBUTE_UNIFIED_ADDRESSING = 41;
    public static final int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75;
    public static final int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76;
    public static final int CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN = 97;
    /** {@code CU_MEMHOSTALLOC_PORTABLE}: pinned memory usable from every context (multi-GPU staging). */
    public static final int CU_MEMHOSTALLOC_PORTABLE = 0x01;
    /** {@code CU_MEMHOSTREGISTER_PORTABLE}. */
    public static final int CU_MEMHOSTREGISTER_PORTABLE = 0x01;
    /** {@code CU_MEMHOSTREGISTER_READ_ONLY}: lets mmap'd (read-only) weights be pinned. */
    public static final int CU_MEMHOSTREGISTER_READ_ONLY = 0x08;
    /** {@code CU_STREAM_NON_BLOCKING}: no implicit sync with the legacy default stream. */
    public static final int CU_STREAM_NON_BLOCKING = 0x1;
    /** {@code CU_EVENT_DISABLE_TIMING}: cheapest event, for ordering only. */
    public static final int CU_EVENT_DISABLE_TIMING = 0x2;
    /** {@code CU_STREAM_CAPTURE_MODE_THREAD_LOCAL}. */
    public static final int CU_STREAM_CAPTURE_MODE_THREAD_LOCAL = 1;
    /** {@code CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES}. */
    public static final int CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES = 8;

    /** Where the driver lives on this operating system, in the order tried. */
    public static List<String> libraryNames() {
        return NativeLibrary.isWindows() ? List.of("nvcuda.dll") : List.of("libcuda.so.1", "libcuda.so");
    }

    /** One C function: its symbol, C prototype, FFM descriptor, and whether older drivers may lack it. */
    public record Fn(String symbol, String prototype, FunctionDescriptor descriptor, boolean optional) {
    }

    private static final AddressLayout PTR = ADDRESS;
    private static final ValueLayout.OfLong SIZE_T = JAVA_LONG;
    private static final ValueLayout.OfLong DEVPTR = JAVA_LONG;
    private static final ValueLayout.OfInt RESULT = JAVA_INT;
    private static final ValueLayout.OfInt UINT = JAVA_INT;

    private static final List<Fn> FNS = new ArrayList<>();

    private static Fn fn(String symbol, String prototype, MemoryLayout... args) {
        Fn f = new Fn(symbol, prototype, FunctionDescriptor.of(RESULT, args), false);
        FNS.add(f);
        return f;
    }

    private static Fn optionalFn(String symbol, String prototype, MemoryLayout... args) {
        Fn f = new Fn(symbol, prototype, FunctionDescriptor.of(RESULT, args), true);
        FNS.add(f);
        return f;
    }

    // Initialization, version, errors
    static final Fn CU_INIT = fn("cuInit", "CUresult cuInit(unsigned int Flags)", UINT);
    static final Fn CU_DRIVER_GET_VERSION = fn("cuDriverGetVersion", "CUresult cuDriverGetVersion(int *driverVersion)", PTR);
    static final Fn CU_GET_ERROR_NAME = fn("cuGetErrorName", "CUresult cuGetErrorName(CUresult error, const char **pStr)", RESULT, PTR);
    static final Fn CU_GET_ERROR_STRING = fn("cuGetErrorString", "CUresult cuGetErrorString(CUresult error, const char **pStr)", RESULT, PTR);
    // Devices
    static final Fn CU_DEVICE_GET_COUNT = fn("cuDeviceGetCount", "CUresult cuDeviceGetCount(int *count)", PTR);
    static final Fn CU_DEVICE_GET = fn("cuDeviceGet", "CUresult cuDeviceGet(CUdevice *device, int ordinal)", PTR, JAVA_INT);
    static final Fn CU_DEVICE_GET_NAME = fn("cuDeviceGetName", "CUresult cuDeviceGetName(char *name, int len, CUdevice dev)", PTR, JAVA_INT, JAVA_INT);
    static final Fn CU_DEVICE_GET_ATTRIBUTE = fn("cuDeviceGetAttribute", "CUresult cuDeviceGetAttribute(int *pi, CUdevice_attribute attrib, CUdevice dev)", PTR, JAVA_INT, JAVA_INT);
    static final Fn CU_DEVICE_TOTAL_MEM = fn("cuDeviceTotalMem_v2", "CUresult cuDeviceTotalMem(size_t *bytes, CUdevice dev)", PTR, JAVA_INT);
    static final Fn CU_DEVICE_GET_PCI_BUS_ID = fn("cuDeviceGetPCIBusId", "CUresult cuDeviceGetPCIBusId(char *pciBusId, int len, CUdevice dev)", PTR, JAVA_INT, JAVA_INT);
    static final Fn CU_DEVICE_CAN_ACCESS_PEER = fn("cuDeviceCanAccessPeer", "CUresult cuDeviceCanAccessPeer(int *canAccessPeer, CUdevice dev, CUdevice peerDev)", PTR, JAVA_INT, JAVA_INT);
    // Contexts (primary contexts: shared with any other CUDA user in the process)
    static final Fn CU_DEVICE_PRIMARY_CTX_RETAIN = fn("cuDevicePrimaryCtxRetain", "CUresult cuDevicePrimaryCtxRetain(CUcontext *pctx, CUdevice dev)", PTR, JAVA_INT);
    static final Fn CU_DEVICE_PRIMARY_CTX_RELEASE = fn("cuDevicePrimaryCtxRelease_v2", "CUresult cuDevicePrimaryCtxRelease(CUdevice dev)", JAVA_INT);
    static final Fn CU_CTX_SET_CURRENT = fn("cuCtxSetCurrent", "CUresult cuCtxSetCurrent(CUcontext ctx)", PTR);
    static final Fn CU_CTX_SYNCHRONIZE = fn("cuCtxSynchronize", "CUresult cuCtxSynchronize(void)");
    static final Fn CU_CTX_ENABLE_PEER_ACCESS = fn("cuCtxEnablePeerAccess", "CUresult cuCtxEnablePeerAccess(CUcontext peerContext, unsigned int Flags)", PTR, UINT);
    // Memory
    static final Fn CU_MEM_GET_INFO = fn("cuMemGetInfo_v2", "CUresult cuMemGetInfo(size_t *free, size_t *total)", PTR, PTR);
    static final Fn CU_MEM_ALLOC = fn("cuMemAlloc_v2", "CUresult cuMemAlloc(CUdeviceptr *dptr, size_t bytesize)", PTR, SIZE_T);
    static final Fn CU_MEM_FREE = fn("cuMemFree_v2", "CUresult cuMemFree(CUdeviceptr dptr)", DEVPTR);
    static final Fn CU_MEM_HOST_ALLOC = fn("cuMemHostAlloc", "CUresult cuMemHostAlloc(void **pp, size_t bytesize, unsigned int Flags)", PTR, SIZE_T, UINT);
    static final Fn CU_MEM_FREE_HOST = fn("cuMemFreeHost", "CUresult cuMemFreeHost(void *p)", PTR);
    static final Fn CU_MEM_HOST_REGISTER = fn("cuMemHostRegister_v2", "CUresult cuMemHostRegister(void *p, size_t bytesize, unsigned int Flags)", PTR, SIZE_T, UINT);
    static final Fn CU_MEM_HOST_UNREGISTER = fn("cuMemHostUnregister", "CUresult cuMemHostUnregister(void *p)", PTR);
    static final Fn CU_MEMCPY_HTOD = fn("cuMemcpyHtoD_v2", "CUresult cuMemcpyHtoD(CUdeviceptr dstDevice, const void *srcHost, size_t ByteCount)", DEVPTR, PTR, SIZE_T);
    static final Fn CU_MEMCPY_DTOH = fn("cuMemcpyDtoH_v2", "CUresult cuMemcpyDtoH(void *dstHost, CUdeviceptr srcDevice, size_t ByteCount)", PTR, DEVPTR, SIZE_T);
    static final Fn CU_MEMCPY_HTOD_ASYNC = fn("cuMemcpyHtoDAsync_v2", "CUresult cuMemcpyHtoDAsync(CUdeviceptr dstDevice, const void *srcHost, size_t ByteCount, CUstream hStream)", DEVPTR, PTR, SIZE_T, PTR);
    static final Fn CU_MEMCPY_DTOH_ASYNC = fn("cuMemcpyDtoHAsync_v2", "CUresult cuMemcpyDtoHAsync(void *dstHost, CUdeviceptr srcDevice, size_t ByteCount, CUstream hStream)", PTR, DEVPTR, SIZE_T, PTR);
    static final Fn CU_MEMCPY_DTOD_ASYNC = fn("cuMemcpyDtoDAsync_v2", "CUresult cuMemcpyDtoDAsync(CUdeviceptr dstDevice, CUdeviceptr srcDevice, size_t ByteCount, CUstream hStream)", DEVPTR, DEVPTR, SIZE_T, PTR);
    static final Fn CU_MEMCPY_PEER_ASYNC = fn("cuMemcpyPeerAsync", "CUresult cuMemcpyPeerAsync(CUdeviceptr dstDevice, CUcontext dstContext, CUdeviceptr srcDevice, CUcontext srcContext, size_t ByteCount, CUstream hStream)", DEVPTR, PTR, DEVPTR, PTR, SIZE_T, PTR);
    static final Fn CU_MEMSET_D8_ASYNC = fn("cuMemsetD8Async", "CUresult cuMemsetD8Async(CUdeviceptr dstDevice, unsigned char uc, size_t N, CUstream hStream)", DEVPTR, JAVA_BYTE, SIZE_T, PTR);
    // Streams and events
    static final Fn CU_STREAM_CREATE = fn("cuStreamCreate", "CUresult cuStreamCreate(CUstream *phStream, unsigned int Flags)", PTR, UINT);
    static final Fn CU_STREAM_DESTROY = fn("cuStreamDestroy_v2", "CUresult cuStreamDestroy(CUstream hStream)", PTR);
    static final Fn CU_STREAM_SYNCHRONIZE = fn("cuStreamSynchronize", "CUresult cuStreamSynchronize(CUstream hStream)", PTR);
    static final Fn CU_STREAM_WAIT_EVENT = fn("cuStreamWaitEvent", "CUresult cuStreamWaitEvent(CUstream hStream, CUevent hEvent, unsigned int Flags)", PTR, PTR, UINT);
    static final Fn CU_EVENT_CREATE = fn("cuEventCreate", "CUresult cuEventCreate(CUevent *phEvent, unsigned int Flags)", PTR, UINT);
    static final Fn CU_EVENT_DESTROY = fn("cuEventDestroy_v2", "CUresult cuEventDestroy(CUevent hEvent)", PTR);
    static final Fn CU_EVENT_RECORD = fn("cuEventRecord", "CUresult cuEventRecord(CUevent hEvent, CUstream hStream)", PTR, PTR);
    static final Fn CU_EVENT_SYNCHRONIZE = fn("cuEventSynchronize", "CUresult cuEventSynchronize(CUevent hEvent)", PTR);
    static final Fn CU_EVENT_ELAPSED_TIME = fn("cuEventElapsedTime", "CUresult cuEventElapsedTime(float *pMilliseconds, CUevent hStart, CUevent hEnd)", PTR, PTR, PTR);
    // Modules and launch
    static final Fn CU_MODULE_LOAD_DATA = fn("cuModuleLoadData", "CUresult cuModuleLoadData(CUmodule *module, const void *image)", PTR, PTR);
    static final Fn CU_MODULE_UNLOAD = fn("cuModuleUnload", "CUresult cuModuleUnload(CUmodule hmod)", PTR);
    static final Fn CU_MODULE_GET_FUNCTION = fn("cuModuleGetFunction", "CUresult cuModuleGetFunction(CUfunction *hfunc, CUmodule hmod, const char *name)", PTR, PTR, PTR);
    static final Fn CU_FUNC_SET_ATTRIBUTE = fn("cuFuncSetAttribute", "CUresult cuFuncSetAttribute(CUfunction hfunc, CUfunction_attribute attrib, int value)", PTR, JAVA_INT, JAVA_INT);
    static final Fn CU_LAUNCH_KERNEL = fn("cuLaunchKernel", "CUresult cuLaunchKernel(CUfunction f, unsigned int gridDimX, unsigned int gridDimY, unsigned int gridDimZ, unsigned int blockDimX, unsigned int blockDimY, unsigned int blockDimZ, unsigned int sharedMemBytes, CUstream hStream, void **kernelParams, void **extra)",
            PTR, UINT, UINT, UINT, UINT, UINT, UINT, UINT, PTR, PTR, PTR);
    // CUDA graphs (decode step capture); optional so a driver without them still runs eagerly
    static final Fn CU_STREAM_BEGIN_CAPTURE = optionalFn("cuStreamBeginCapture_v2", "CUresult cuStreamBeginCapture(CUstream hStream, CUstreamCaptureMode mode)", PTR, JAVA_INT);
    static final Fn CU_STREAM_END_CAPTURE = optionalFn("cuStreamEndCapture", "CUresult cuStreamEndCapture(CUstream hStream, CUgraph *phGraph)", PTR, PTR);
    static final Fn CU_GRAPH_INSTANTIATE = optionalFn("cuGraphInstantiateWithFlags", "CUresult cuGraphInstantiateWithFlags(CUgraphExec *phGraphExec, CUgraph hGraph, unsigned long long flags)", PTR, PTR, JAVA_LONG);
    static final Fn CU_GRAPH_LAUNCH = optionalFn("cuGraphLaunch", "CUresult cuGraphLaunch(CUgraphExec hGraphExec, CUstream hStream)", PTR, PTR);
    static final Fn CU_GRAPH_EXEC_DESTROY = optionalFn("cuGraphExecDestroy", "CUresult cuGraphExecDestroy(CUgraphExec hGraphExec)", PTR);
    static final Fn CU_GRAPH_DESTROY = optionalFn("cuGraphDestroy", "CUresult cuGraphDestroy(CUgraph hGraph)", PTR);

    /** Every function this class binds, in declaration order (for header checks and diagnostics). */
    public static List<Fn> functions() {
        return Collections.unmodifiableList(FNS);
    }

    /** Typed downcall handles, bound once when the library loads. */
    static final class Handles {
        final MethodHandle cuInit;
        final MethodHandle cuDriverGetVersion;
        final MethodHandle cuGetErrorName;
        final MethodHandle cuGetErrorString;
        final MethodHandle cuDeviceGetCount;
        final MethodHandle cuDeviceGet;
        final MethodHandle cuDeviceGetName;
        final MethodHandle cuDeviceGetAttribute;
        final MethodHandle cuDeviceTotalMem;
        final MethodHandle cuDeviceGetPCIBusId;
        final MethodHandle cuDeviceCanAccessPeer;
        final MethodHandle cuDevicePrimaryCtxRetain;
        final MethodHandle cuDevicePrimaryCtxRelease;
        final MethodHandle cuCtxSetCurrent;
        final MethodHandle cuCtxSynchronize;
        final MethodHandle cuCtxEnablePeerAccess;
        final MethodHandle cuMemGetInfo;
        final MethodHandle cuMemAlloc;
        final MethodHandle cuMemFree;
        final MethodHandle cuMemHostAlloc;
        final MethodHandle cuMemFreeHost;
        final MethodHandle cuMemHostRegister;
        final MethodHandle cuMemHostUnregister;
        final MethodHandle cuMemcpyHtoD;
        final MethodHandle cuMemcpyDtoH;
        final MethodHandle cuMemcpyHtoDAsync;
        final MethodHandle cuMemcpyDtoHAsync;
        final MethodHandle cuMemcpyDtoDAsync;
        final MethodHandle cuMemcpyPeerAsync;
        final MethodHandle cuMemsetD8Async;
        final MethodHandle cuStreamCreate;
        final MethodHandle cuStreamDestroy;
        final MethodHandle cuStreamSynchronize;
        final MethodHandle cuStreamWaitEvent;
        final MethodHandle cuEventCreate;
        final MethodHandle cuEventDestroy;
        final MethodHandle cuEventRecord;
        final MethodHandle cuEventSynchronize;
        final MethodHandle cuEventElapsedTime;
        final MethodHandle cuModuleLoadData;
        final MethodHandle cuModuleUnload;
        final MethodHandle cuModuleGetFunction;
        final MethodHandle cuFuncSetAttribute;
        final MethodHandle cuLaunchKernel;
        final MethodHandle cuStreamBeginCapture;   // optional
        final MethodHandle cuStreamEndCapture;     // optional
        final MethodHandle cuGraphInstantiate;     // optional
        final MethodHandle cuGraphLaunch;          // optional
        final MethodHandle cuGraphExecDestroy;     // optional
        final MethodHandle cuGraphDestroy;         // optional

        Handles(NativeLibrary lib) {
            cuInit = bind(lib, CU_INIT);
            cuDriverGetVersion = bind(lib, CU_DRIVER_GET_VERSION);
            cuGetErrorName = bind(lib, CU_GET_ERROR_NAME);
            cuGetErrorString = bind(lib, CU_GET_ERROR_STRING);
            cuDeviceGetCount = bind(lib, CU_DEVICE_GET_COUNT);
            cuDeviceGet = bind(lib, CU_DEVICE_GET);
            cuDeviceGetName = bind(lib, CU_DEVICE_GET_NAME);
            cuDeviceGetAttribute = bind(lib, CU_DEVICE_GET_ATTRIBUTE);
            cuDeviceTotalMem = bind(lib, CU_DEVICE_TOTAL_MEM);
            cuDeviceGetPCIBusId = bind(lib, CU_DEVICE_GET_PCI_BUS_ID);
            cuDeviceCanAccessPeer = bind(lib, CU_DEVICE_CAN_ACCESS_PEER);
            cuDevicePrimaryCtxRetain = bind(lib, CU_DEVICE_PRIMARY_CTX_RETAIN);
            cuDevicePrimaryCtxRelease = bind(lib, CU_DEVICE_PRIMARY_CTX_RELEASE);
            cuCtxSetCurrent = bind(lib, CU_CTX_SET_CURRENT);
            cuCtxSynchronize = bind(lib, CU_CTX_SYNCHRONIZE);
            cuCtxEnablePeerAccess = bind(lib, CU_CTX_ENABLE_PEER_ACCESS);
            cuMemGetInfo = bind(lib, CU_MEM_GET_INFO);
            cuMemAlloc = bind(lib, CU_MEM_ALLOC);
            cuMemFree = bind(lib, CU_MEM_FREE);
            cuMemHostAlloc = bind(lib, CU_MEM_HOST_ALLOC);
            cuMemFreeHost = bind(lib, CU_MEM_FREE_HOST);
            cuMemHostRegister = bind(lib, CU_MEM_HOST_REGISTER);
            cuMemHostUnregister = bind(lib, CU_MEM_HOST_UNREGISTER);
            cuMemcpyHtoD = bind(lib, CU_MEMCPY_HTOD);
            cuMemcpyDtoH = bind(lib, CU_MEMCPY_DTOH);
            cuMemcpyHtoDAsync = bind(lib, CU_MEMCPY_HTOD_ASYNC);
            cuMemcpyDtoHAsync = bind(lib, CU_MEMCPY_DTOH_ASYNC);
            cuMemcpyDtoDAsync = bind(lib, CU_MEMCPY_DTOD_ASYNC);
            cuMemcpyPeerAsync = bind(lib, CU_MEMCPY_PEER_ASYNC);
            cuMemsetD8Async = bind(lib, CU_MEMSET_D8_ASYNC);
            cuStreamCreate = bind(lib, CU_STREAM_CREATE);
            cuStreamDestroy = bind(lib, CU_STREAM_DESTROY);
            cuStreamSynchronize = bind(lib, CU_STREAM_SYNCHRONIZE);
            cuStreamWaitEvent = bind(lib, CU_STREAM_WAIT_EVENT);
            cuEventCreate = bind(lib, CU_EVENT_CREATE);
            cuEventDestroy = bind(lib, CU_EVENT_DESTROY);
            cuEventRecord = bind(lib, CU_EVENT_RECORD);
            cuEventSynchronize = bind(lib, CU_EVENT_SYNCHRONIZE);
            cuEventElapsedTime = bind(lib, CU_EVENT_ELAPSED_TIME);
            cuModuleLoadData = bind(lib, CU_MODULE_LOAD_DATA);
            cuModuleUnload = bind(lib, CU_MODULE_UNLOAD);
            cuModuleGetFunction = bind(lib, CU_MODULE_GET_FUNCTION);
            cuFuncSetAttribute = bind(lib, CU_FUNC_SET_ATTRIBUTE);
            cuLaunchKernel = bind(lib, CU_LAUNCH_KERNEL);
            cuStreamBeginCapture = bind(lib, CU_STREAM_BEGIN_CAPTURE);
            cuStreamEndCapture = bind(lib, CU_STREAM_END_CAPTURE);
            cuGraphInstantiate = bind(lib, CU_GRAPH_INSTANTIATE);
            cuGraphLaunch = bind(lib, CU_GRAPH_LAUNCH);
            cuGraphExecDestroy = bind(lib, CU_GRAPH_EXEC_DESTROY);
            cuGraphDestroy = bind(lib, CU_GRAPH_DESTROY);
        }

        private static MethodHandle bind(NativeLibrary lib, Fn f) {
            return f.optional() ? lib.bindOptional(f.symbol(), f.descriptor()) : lib.bind(f.symbol(), f.descriptor());
        }
    }

    private static volatile Object loaded;   // a CudaDriver or a CudaUnavailableException, once tried

    private final NativeLibrary library;
    private final Handles h;
    private final int driverVersion;

    private CudaDriver(NativeLibrary library, Handles h, int driverVersion) {
        this.library = library;
        this.h = h;
        this.driverVersion = driverVersion;
    }

    /**
     * Loads and initializes the driver once per process.
     *
     * @throws CudaUnavailableException when the library is missing, too old, or {@code cuInit} fails;
     *                                  the message names the cause and the driver to install
     */
    public static CudaDriver load() {
        Object l = loaded;
        if (l == null) {
            synchronized (CudaDriver.class) {
                l = loaded;
                if (l == null) {
                    l = tryLoad();
                    loaded = l;
                }
            }
        }
        if (l instanceof CudaUnavailableException e) {
            throw e;
        }
        return (CudaDriver) l;
    }

    /** Null when {@link #load()} succeeds, else why CUDA cannot be used on this machine. */
    public static String unavailableReason() {
        try {
            load();
            return null;
        } catch (CudaUnavailableException e) {
            return e.getMessage();
        }
    }

    private static Object tryLoad() {
        List<String> names = libraryNames();
        NativeLibrary lib = NativeLibrary.open(names);
        if (lib == null) {
            return new CudaUnavailableException("CUDA unavailable: " + names.getFirst() + " not found (install the NVIDIA driver)",
                    "install " + MIN_DRIVER_NAME + " or newer; the CUDA toolkit alone does not provide "
                            + names.getFirst() + "; in Docker run with --gpus all and the NVIDIA Container Toolkit");
        }
        Handles h;
        try {
            h = new Handles(lib);
        } catch (NativeLibrary.MissingSymbolException e) {
            return new CudaUnavailableException("CUDA unavailable: " + e.library + " has no " + e.symbol
                    + " (the NVIDIA driver is too old)", "install " + MIN_DRIVER_NAME + " or newer");
        }
        int version;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment v = arena.allocate(JAVA_INT);
            int rc = (int) h.cuDriverGetVersion.invokeExact(v);
            version = rc == CUDA_SUCCESS ? v.get(JAVA_INT, 0) : 0;
        } catch (Throwable t) {
            throw rethrow(t);
        }
        String tooOld = driverTooOld(version);
        if (tooOld != null) {
            return new CudaUnavailableException(tooOld, "install " + MIN_DRIVER_NAME + " or newer");
        }
        CudaDriver d = new CudaDriver(lib, h, version);
        int rc = d.cuInit(0);
        if (rc != CUDA_SUCCESS) {
            String name = d.errorName(rc);
            return new CudaUnavailableException("CUDA unavailable: cuInit failed with " + name + ": "
                    + d.errorString(rc) + " (driver " + versionString(version) + ")",
                    name.equals("CUDA_ERROR_NO_DEVICE") ? "no NVIDIA GPU is visible: check nvidia-smi, "
                            + "CUDA_VISIBLE_DEVICES and, in Docker, --gpus all"
                            : "check that nvidia-smi works; reinstall the NVIDIA driver if it does not");
        }
        return d;
    }

    /**
     * The message for a driver too old for our kernels, or null when {@code version} (as
     * {@code cuDriverGetVersion} reports it, 1000*major + 10*minor) is new enough.
     */
    public static String driverTooOld(int version) {
        if (version >= MIN_DRIVER_VERSION) {
            return null;
        }
        return "CUDA unavailable: the NVIDIA driver supports CUDA " + versionString(version)
                + ", but Trestle's kernels are built with CUDA 13.0 and need " + MIN_DRIVER_NAME + " or newer";
    }

    /** 12040 -> "12.4". */
    public static String versionString(int version) {
        return (version / 1000) + "." + (version % 1000) / 10;
    }

    /** The library the driver was loaded from ({@code libcuda.so.1}). */
    public String libraryName() {
        return library.name();
    }

    /** {@code cuDriverGetVersion}: 1000*major + 10*minor of the newest CUDA the driver supports. */
    public int driverVersion() {
        return driverVersion;
    }

    /** True when the driver exports the stream-capture and graph functions. */
    public boolean hasGraphs() {
        return h.cuStreamBeginCapture != null && h.cuStreamEndCapture != null && h.cuGraphInstantiate != null
                && h.cuGraphLaunch != null && h.cuGraphExecDestroy != null && h.cuGraphDestroy != null;
    }

    // ---------------------------------------------------------------- raw tier

    /// CUresult cuInit(unsigned int Flags)
    public int cuInit(@NativeType("unsigned int") int flags) {
        try {
            return (int) h.cuInit.invokeExact(flags);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /// CUresult cuGetErrorName(CUresult error, const char **pStr)
    public int cuGetErrorName(@NativeType("CUresult") int error, @NativeType("const char **") MemorySegment pStr) {
        try {
            return (int) h.cuGetErrorName.invokeExact(error, pStr);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /// CUresult cuGetErrorString(CUresult error, const char **pStr)
    public int cuGetErrorString(@NativeType("CUresult") int error, @NativeType("const char **") MemorySegment pStr) {
        try {
            return (int) h.cuGetErrorString.invokeExact(error, pStr);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /// CUresult cuDeviceGetCount(int *count)
    public int cuDeviceGetCount(@NativeType("int *") MemorySegment count) {
        try {
            return (int) h.cuDeviceGetCount.invokeExact(count);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /// CUresult cuDeviceGet(CUdevice *device, int ordinal)
    public int cuDeviceGet(@NativeType("CUdevice *") MemorySegment device, int ordinal) {
        try {
            return (int) h.cuDeviceGet.invokeExact(device, ordinal);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /// CUresult cuDeviceGetName(char *name, int len, CUdevice dev)
    public int cuDeviceGetName(@NativeType("char *") MemorySegment name, int len, @NativeType("CUdevice") int dev) {
        try {
            return (int) h.cuDeviceGetName.invokeExact(name, len, dev);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /// CUresult cuDeviceGetAttribute(int *pi, CUdevice_attribute attrib, CUdevice dev)
    public int cuDeviceGetAttribute(@NativeType("int *") MemorySegment pi, @NativeType("CUdevice_attribute") int attrib,
                                    @NativeType("CUdevice") int dev) {
        try {
            return (int) h.cuDeviceGetAttribute.invokeExact(pi, attrib, dev);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /// CUresult cuDeviceTotalMem(size_t *bytes, CUdevice dev)
    public int cuDeviceTotalMem(@NativeType("size_t *") MemorySegment bytes, @NativeType("CUdevice") int dev) {
        try {
            return (int) h.cuDeviceTotalMem.invokeExact(bytes, dev);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /// CUresult cuDeviceGetPCIBusId(char *pciBusId, int len, CUdevice dev)
    public int cuDeviceGetPCIBusId(@NativeType("char *") MemorySegment pciBusId, int len, @NativeType("CUdevice") int dev) {
        try {
            return (int) h.cuDeviceGetPCIBusId.invokeExact(pciBusId, len, dev);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /// CUresult cuDeviceCanAccessPeer(int *canAccessPeer, CUdevice dev, CUdevice peerDev)
    public int cuDeviceCanAccessPeer(@NativeType("int *") MemorySegment canAccessPeer, @NativeType("CUdevice") int dev,
                                     @NativeType("CUdevice") int peerDev) {
        try {
            return (int) h.cuDeviceCanAccessPeer.invokeExact(canAccessPeer, dev, peerDev);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /// CUresult cuDevicePrimaryCtxRetain(CUcontext *pctx, CUdevice dev)
    public int cuDevicePrimaryCtxRetain(@NativeType("CUcontext *") MemorySegment pctx, @NativeType("CUdevice") int dev) {
        try {
            return (int) h.cuDevicePrimaryCtxRetain.invokeExact(pctx, dev);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /// CUresult cuDevicePrimaryCtxRelease(CUdevice dev)
    public int cuDevicePrimaryCtxRelease(@NativeType("CUdevice") int dev) {
        try {
            return (int) h.cuDevicePrimaryCtxRelease.invokeExact(dev);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /// CUresult cuCtxSetCurrent(CUcontext ctx)
    public int cuCtxSetCurrent(@NativeType("CUcontext") MemorySegment ctx) {
        try {
            return (int) h.cuCtxSetCurrent.invokeExact(ctx);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /// CUresult cuCtxSynchronize(void)
    public int cuCtxSynchronize() {
        try {
            return (int) h.cuCtxSynchronize.invokeExact();
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /// CUresult cuCtxEnablePeerAccess(CUcontext peerContext, unsigned int Flags)
    public int cuCtxEnablePeerAccess(@NativeType("CUcontext") MemorySegment peer, @NativeType("unsigned int") int flags) {
        try {
            return (int) h.cuCtxEnablePeerAccess.invokeExact(peer, flags);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /// CUresult cuMemGetInfo(size_t *free, size_t *total)
    public int cuMemGetInfo(@NativeType("size_t *") MemorySegment free, @NativeType("size_t *") MemorySegment total) {
        try {
            return (int) h.cuMemGetInfo.invokeExact(free, total);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /// CUresult cuMemAlloc(CUdeviceptr *dptr, size_t bytesize)
    public int cuMemAlloc(@NativeType("CUdeviceptr *") MemorySegment dptr, @NativeType("size_t") long bytesize) {
        try {
            return (int) h.cuMemAlloc.invokeExact(dptr, bytesize);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /// CUresult cuMemFree(CUdeviceptr dptr)
    public int cuMemFree(@NativeType("CUdeviceptr") long dptr) {
        try {
            return (int) h.cuMemFree.invokeExact(dptr);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /// CUresult cuMemHostAlloc(void **pp, size_t bytesize, unsigned int Flags)
    public int cuMemHostAlloc(@NativeType("void **") MemorySegment pp, @NativeType("size_t") long bytesize,
                              @NativeType("unsigned int") int flags) {
        try {
            return (int) h.cuMemHostAlloc.invokeExact(pp, bytesize, flags);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /// CUresult cuMemFreeHost(void *p)
    public int cuMemFreeHost(@NativeType("void *") MemorySegment p) {
        try {
            return (int) h.cuMemFreeHost.invokeExact(p);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /// CUresult cuMemHostRegister(void *p, size_t bytesize, unsigned int Flags)
    public int cuMemHostRegister(@NativeType("void *") MemorySegment p, @NativeType("size_t") long bytesize,
                                 @NativeType("unsigned int") int flags) {
        try {
            return (int) h.cuMemHostRegister.invokeExact(p, bytesize, flags);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /// CUresult cuMemHostUnregister(void *p)
    public int cuMemHostUnregister(@NativeType("void *") MemorySegment p) {
        try {
            return (int) h.cuMemHostUnregister.invokeExact(p);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /// CUresult cuMemcpyHtoD(CUdeviceptr dstDevice, const void *srcHost, size_t ByteCount)
    public int cuMemcpyHtoD(@NativeType("CUdeviceptr") long dst, @NativeType("const void *") MemorySegment src,
                            @NativeType("size_t") long bytes) {
        try {
            return (int) h.cuMemcpyHtoD.invokeExact(dst, src, bytes);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /// CUresult cuMemcpyDtoH(void *dstHost, CUdeviceptr srcDevice, size_t ByteCount)
    public int cuMemcpyDtoH(@NativeType("void *") MemorySegment dst, @NativeType("CUdeviceptr") long src,
                            @NativeType("size_t") long bytes) {
        try {
            return (int) h.cuMemcpyDtoH.invokeExact(dst, src, bytes);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /// CUresult cuMemcpyHtoDAsync(CUdeviceptr dstDevice, const void *srcHost, size_t ByteCount, CUstream hStream)
    public int cuMemcpyHtoDAsync(@NativeType("CUdeviceptr") long dst, @NativeType("const void *") MemorySegment src,
                                 @NativeType("size_t") long bytes, @NativeType("CUstream") MemorySegment stream) {
        try {
            return (int) h.cuMemcpyHtoDAsync.invokeExact(dst, src, bytes, stream);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /// CUresult cuMemcpyDtoHAsync(void *dstHost, CUdeviceptr srcDevice, size_t ByteCount, CUstream hStream)
    public int cuMemcpyDtoHAsync(@NativeType("void *") MemorySegment dst, @NativeType("CUdeviceptr") long src,
                                 @NativeType("size_t") long bytes, @NativeType("CUstream") MemorySegment stream) {
        try {
            return (int) h.cuMemcpyDtoHAsync.invokeExact(dst, src, bytes, stream);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /// CUresult cuMemcpyDtoDAsync(CUdeviceptr dstDevice, CUdeviceptr srcDevice, size_t ByteCount, CUstream hStream)
    public int cuMemcpyDtoDAsync(@NativeType("CUdeviceptr") long dst, @NativeType("CUdeviceptr") long src,
                                 @NativeType("size_t") long bytes, @NativeType("CUstream") MemorySegment stream) {
        try {
            return (int) h.cuMemcpyDtoDAsync.invokeExact(dst, src, bytes, stream);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /// CUresult cuMemcpyPeerAsync(CUdeviceptr dstDevice, CUcontext dstContext, CUdeviceptr srcDevice, CUcontext srcContext, size_t ByteCount, CUstream hStream)
    public int cuMemcpyPeerAsync(@NativeType("CUdeviceptr") long dst, @NativeType("CUcontext") MemorySegment dstCtx,
                                 @NativeType("CUdeviceptr") long src, @NativeType("CUcontext") MemorySegment srcCtx,
                                 @NativeType("size_t") long bytes, @NativeType("CUstream") MemorySegment stream) {
        try {
            return (int) h.cuMemcpyPeerAsync.invokeExact(dst, dstCtx, src, srcCtx, bytes, stream);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /// CUresult cuMemsetD8Async(CUdeviceptr dstDevice, unsigned char uc, size_t N, CUstream hStream)
    public int cuMemsetD8Async(@NativeType("CUdeviceptr") long dst, @NativeType("unsigned char") byte value,
                               @NativeType("size_t") long n, @NativeType("CUstream") MemorySegment stream) {
        try {
            return (int) h.cuMemsetD8Async.invokeExact(dst, value, n, stream);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /// CUresult cuStreamCreate(CUstream *phStream, unsigned int Flags)
    public int cuStreamCreate(@NativeType("CUstream *") MemorySegment phStream, @NativeType("unsigned int") int flags) {
        try {
            return (int) h.cuStreamCreate.invokeExact(phStream, flags);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /// CUresult cuStreamDestroy(CUstream hStream)
    public int cuStreamDestroy(@NativeType("CUstream") MemorySegment stream) {
        try {
            return (int) h.cuStreamDestroy.invokeExact(stream);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /// CUresult cuStreamSynchronize(CUstream hStream)
    public int cuStreamSynchronize(@NativeType("CUstream") MemorySegment stream) {
        try {
            return (int) h.cuStreamSynchronize.invokeExact(stream);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /// CUresult cuStreamWaitEvent(CUstream hStream, CUevent hEvent, unsigned int Flags)
    public int cuStreamWaitEvent(@NativeType("CUstream") MemorySegment stream, @NativeType("CUevent") MemorySegment event,
                                 @NativeType("unsigned int") int flags) {
        try {
            return (int) h.cuStreamWaitEvent.invokeExact(stream, event, flags);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /// CUresult cuEventCreate(CUevent *phEvent, unsigned int Flags)
    public int cuEventCreate(@NativeType("CUevent *") MemorySegment phEvent, @NativeType("unsigned int") int flags) {
        try {
            return (int) h.cuEventCreate.invokeExact(phEvent, flags);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /// CUresult cuEventDestroy(CUevent hEvent)
    public int cuEventDestroy(@NativeType("CUevent") MemorySegment event) {
        try {
            return (int) h.cuEventDestroy.invokeExact(event);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /// CUresult cuEventRecord(CUevent hEvent, CUstream hStream)
    public int cuEventRecord(@NativeType("CUevent") MemorySegment event, @NativeType("CUstream") MemorySegment stream) {
        try {
            return (int) h.cuEventRecord.invokeExact(event, stream);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /// CUresult cuEventSynchronize(CUevent hEvent)
    public int cuEventSynchronize(@NativeType("CUevent") MemorySegment event) {
        try {
            return (int) h.cuEventSynchronize.invokeExact(event);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /// CUresult cuEventElapsedTime(float *pMilliseconds, CUevent hStart, CUevent hEnd)
    public int cuEventElapsedTime(@NativeType("float *") MemorySegment ms, @NativeType("CUevent") MemorySegment start,
                                  @NativeType("CUevent") MemorySegment end) {
        try {
            return (int) h.cuEventElapsedTime.invokeExact(ms, start, end);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /// CUresult cuModuleLoadData(CUmodule *module, const void *image)
    public int cuModuleLoadData(@NativeType("CUmodule *") MemorySegment module, @NativeType("const void *") MemorySegment image) {
        try {
            return (int) h.cuModuleLoadData.invokeExact(module, image);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /// CUresult cuModuleUnload(CUmodule hmod)
    public int cuModuleUnload(@NativeType("CUmodule") MemorySegment module) {
        try {
            return (int) h.cuModuleUnload.invokeExact(module);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /// CUresult cuModuleGetFunction(CUfunction *hfunc, CUmodule hmod, const char *name)
    public int cuModuleGetFunction(@NativeType("CUfunction *") MemorySegment hfunc, @NativeType("CUmodule") MemorySegment module,
                                   @NativeType("const char *") MemorySegment name) {
        try {
            return (int) h.cuModuleGetFunction.invokeExact(hfunc, module, name);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /// CUresult cuFuncSetAttribute(CUfunction hfunc, CUfunction_attribute attrib, int value)
    public int cuFuncSetAttribute(@NativeType("CUfunction") MemorySegment f, @NativeType("CUfunction_attribute") int attrib, int value) {
        try {
            return (int) h.cuFuncSetAttribute.invokeExact(f, attrib, value);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /// CUresult cuLaunchKernel(CUfunction f, unsigned int gridDimX, unsigned int gridDimY, unsigned int gridDimZ, unsigned int blockDimX, unsigned int blockDimY, unsigned int blockDimZ, unsigned int sharedMemBytes, CUstream hStream, void **kernelParams, void **extra)
    public int cuLaunchKernel(@NativeType("CUfunction") MemorySegment f, int gridX, int gridY, int gridZ, int blockX, int blockY,
                              int blockZ, @NativeType("unsigned int") int sharedMemBytes, @NativeType("CUstream") MemorySegment stream,
                              @NativeType("void **") MemorySegment kernelParams, @NativeType("void **") MemorySegment extra) {
        try {
            return (int) h.cuLaunchKernel.invokeExact(f, gridX, gridY, gridZ, blockX, blockY, blockZ, sharedMemBytes, stream,
                    kernelParams, extra);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /// CUresult cuStreamBeginCapture(CUstream hStream, CUstreamCaptureMode mode)
    public int cuStreamBeginCapture(@NativeType("CUstream") MemorySegment stream, @NativeType("CUstreamCaptureMode") int mode) {
        try {
            return (int) optional(h.cuStreamBeginCapture, CU_STREAM_BEGIN_CAPTURE).invokeExact(stream, mode);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /// CUresult cuStreamEndCapture(CUstream hStream, CUgraph *phGraph)
    public int cuStreamEndCapture(@NativeType("CUstream") MemorySegment stream, @NativeType("CUgraph *") MemorySegment phGraph) {
        try {
            return (int) optional(h.cuStreamEndCapture, CU_STREAM_END_CAPTURE).invokeExact(stream, phGraph);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /// CUresult cuGraphInstantiateWithFlags(CUgraphExec *phGraphExec, CUgraph hGraph, unsigned long long flags)
    public int cuGraphInstantiateWithFlags(@NativeType("CUgraphExec *") MemorySegment phExec, @NativeType("CUgraph") MemorySegment graph,
                                           @NativeType("unsigned long long") long flags) {
        try {
            return (int) optional(h.cuGraphInstantiate, CU_GRAPH_INSTANTIATE).invokeExact(phExec, graph, flags);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /// CUresult cuGraphLaunch(CUgraphExec hGraphExec, CUstream hStream)
    public int cuGraphLaunch(@NativeType("CUgraphExec") MemorySegment exec, @NativeType("CUstream") MemorySegment stream) {
        try {
            return (int) optional(h.cuGraphLaunch, CU_GRAPH_LAUNCH).invokeExact(exec, stream);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /// CUresult cuGraphExecDestroy(CUgraphExec hGraphExec)
    public int cuGraphExecDestroy(@NativeType("CUgraphExec") MemorySegment exec) {
        try {
            return (int) optional(h.cuGraphExecDestroy, CU_GRAPH_EXEC_DESTROY).invokeExact(exec);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /// CUresult cuGraphDestroy(CUgraph hGraph)
    public int cuGraphDestroy(@NativeType("CUgraph") MemorySegment graph) {
        try {
            return (int) optional(h.cuGraphDestroy, CU_GRAPH_DESTROY).invokeExact(graph);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    // ---------------------------------------------------------------- checked tier

    /** Throws a {@link CudaException} naming {@code call} (and {@code detail}) unless {@code rc} is success. */
    public void check(int rc, String call, String detail) {
        if (rc != CUDA_SUCCESS) {
            throw new CudaException(rc, errorName(rc), errorString(rc), call, detail);
        }
    }

    /** {@code cuGetErrorName}, or "CUresult N" for a code this driver does not know. */
    public String errorName(int rc) {
        return errorText(rc, true);
    }

    /** {@code cuGetErrorString}, or "" for a code this driver does not know. */
    public String errorString(int rc) {
        return errorText(rc, false);
    }

    private String errorText(int rc, boolean name) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment p = arena.allocate(ADDRESS);
            int r = name ? cuGetErrorName(rc, p) : cuGetErrorString(rc, p);
            MemorySegment s = p.get(ADDRESS, 0);
            if (r != CUDA_SUCCESS || s.equals(MemorySegment.NULL)) {
                return name ? "CUresult " + rc : "";
            }
            return s.reinterpret(Integer.MAX_VALUE).getString(0);
        }
    }

    /** Number of CUDA devices. */
    public int deviceGetCount() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment n = arena.allocate(JAVA_INT);
            check(cuDeviceGetCount(n), "cuDeviceGetCount", null);
            return n.get(JAVA_INT, 0);
        }
    }

    /** The {@code CUdevice} handle of ordinal {@code ordinal}. */
    public int deviceGet(int ordinal) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment d = arena.allocate(JAVA_INT);
            check(cuDeviceGet(d, ordinal), "cuDeviceGet", "ordinal " + ordinal);
            return d.get(JAVA_INT, 0);
        }
    }

    /** The marketing name ("NVIDIA H200"). */
    public String deviceGetName(int dev) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(256);
            check(cuDeviceGetName(s, 256, dev), "cuDeviceGetName", null);
            return s.getString(0);
        }
    }

    /** One {@code CU_DEVICE_ATTRIBUTE_*} value. */
    public int deviceGetAttribute(int attrib, int dev) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment v = arena.allocate(JAVA_INT);
            check(cuDeviceGetAttribute(v, attrib, dev), "cuDeviceGetAttribute", "attribute " + attrib);
            return v.get(JAVA_INT, 0);
        }
    }

    /** Total device memory in bytes. */
    public long deviceTotalMem(int dev) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment v = arena.allocate(JAVA_LONG);
            check(cuDeviceTotalMem(v, dev), "cuDeviceTotalMem", null);
            return v.get(JAVA_LONG, 0);
        }
    }

    /** "0000:65:00.0". */
    public String deviceGetPciBusId(int dev) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(32);
            check(cuDeviceGetPCIBusId(s, 32, dev), "cuDeviceGetPCIBusId", null);
            return s.getString(0);
        }
    }

    /** True when {@code dev} can read and write {@code peer}'s memory directly. */
    public boolean deviceCanAccessPeer(int dev, int peer) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment v = arena.allocate(JAVA_INT);
            check(cuDeviceCanAccessPeer(v, dev, peer), "cuDeviceCanAccessPeer", dev + " -> " + peer);
            return v.get(JAVA_INT, 0) != 0;
        }
    }

    /** Retains the device's primary context; release with {@link #devicePrimaryCtxRelease}. */
    public MemorySegment devicePrimaryCtxRetain(int dev) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment p = arena.allocate(ADDRESS);
            check(cuDevicePrimaryCtxRetain(p, dev), "cuDevicePrimaryCtxRetain", "device " + dev);
            return p.get(ADDRESS, 0);
        }
    }

    public void devicePrimaryCtxRelease(int dev) {
        check(cuDevicePrimaryCtxRelease(dev), "cuDevicePrimaryCtxRelease", "device " + dev);
    }

    public void ctxSetCurrent(MemorySegment ctx) {
        check(cuCtxSetCurrent(ctx), "cuCtxSetCurrent", null);
    }

    public void ctxSynchronize() {
        check(cuCtxSynchronize(), "cuCtxSynchronize", null);
    }

    /** Lets the current context access {@code peer}'s memory; enabling twice is not an error. */
    public void ctxEnablePeerAccess(MemorySegment peer) {
        int rc = cuCtxEnablePeerAccess(peer, 0);
        if (rc != CUDA_SUCCESS && !errorName(rc).equals("CUDA_ERROR_PEER_ACCESS_ALREADY_ENABLED")) {
            check(rc, "cuCtxEnablePeerAccess", null);
        }
    }

    /** Free and total memory of the current context's device: {@code {free, total}}. */
    public long[] memGetInfo() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment f = arena.allocate(JAVA_LONG);
            MemorySegment t = arena.allocate(JAVA_LONG);
            check(cuMemGetInfo(f, t), "cuMemGetInfo", null);
            return new long[] {f.get(JAVA_LONG, 0), t.get(JAVA_LONG, 0)};
        }
    }

    /** Allocates device memory; the caller frees it with {@link #memFree}. */
    public long memAlloc(long bytes) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment p = arena.allocate(JAVA_LONG);
            check(cuMemAlloc(p, bytes), "cuMemAlloc", bytes + " bytes");
            return p.get(JAVA_LONG, 0);
        }
    }

    public void memFree(long dptr) {
        check(cuMemFree(dptr), "cuMemFree", null);
    }

    /** Allocates pinned host memory of {@code bytes}; the caller frees it with {@link #memFreeHost}. */
    public MemorySegment memHostAlloc(long bytes, int flags) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment p = arena.allocate(ADDRESS);
            check(cuMemHostAlloc(p, bytes, flags), "cuMemHostAlloc", bytes + " bytes");
            return p.get(ADDRESS, 0).reinterpret(bytes);
        }
    }

    public void memFreeHost(MemorySegment p) {
        check(cuMemFreeHost(p), "cuMemFreeHost", null);
    }

    /** Page-locks existing host memory (e.g. mmap'd expert weights streamed during prefill). */
    public void memHostRegister(MemorySegment p, int flags) {
        check(cuMemHostRegister(p, p.byteSize(), flags), "cuMemHostRegister", p.byteSize() + " bytes");
    }

    public void memHostUnregister(MemorySegment p) {
        check(cuMemHostUnregister(p), "cuMemHostUnregister", null);
    }

    public void memcpyHtoD(long dst, MemorySegment src, long bytes) {
        check(cuMemcpyHtoD(dst, src, bytes), "cuMemcpyHtoD", bytes + " bytes");
    }

    public void memcpyDtoH(MemorySegment dst, long src, long bytes) {
        check(cuMemcpyDtoH(dst, src, bytes), "cuMemcpyDtoH", bytes + " bytes");
    }

    public void memcpyHtoDAsync(long dst, MemorySegment src, long bytes, MemorySegment stream) {
        check(cuMemcpyHtoDAsync(dst, src, bytes, stream), "cuMemcpyHtoDAsync", bytes + " bytes");
    }

    public void memcpyDtoHAsync(MemorySegment dst, long src, long bytes, MemorySegment stream) {
        check(cuMemcpyDtoHAsync(dst, src, bytes, stream), "cuMemcpyDtoHAsync", bytes + " bytes");
    }

    public void memcpyDtoDAsync(long dst, long src, long bytes, MemorySegment stream) {
        check(cuMemcpyDtoDAsync(dst, src, bytes, stream), "cuMemcpyDtoDAsync", bytes + " bytes");
    }

    public void memcpyPeerAsync(long dst, MemorySegment dstCtx, long src, MemorySegment srcCtx, long bytes,
                                MemorySegment stream) {
        check(cuMemcpyPeerAsync(dst, dstCtx, src, srcCtx, bytes, stream), "cuMemcpyPeerAsync", bytes + " bytes");
    }

    public void memsetD8Async(long dst, byte value, long n, MemorySegment stream) {
        check(cuMemsetD8Async(dst, value, n, stream), "cuMemsetD8Async", n + " bytes");
    }

    /** Creates a stream; the caller destroys it with {@link #streamDestroy}. */
    public MemorySegment streamCreate(int flags) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment p = arena.allocate(ADDRESS);
            check(cuStreamCreate(p, flags), "cuStreamCreate", null);
            return p.get(ADDRESS, 0);
        }
    }

    public void streamDestroy(MemorySegment stream) {
        check(cuStreamDestroy(stream), "cuStreamDestroy", null);
    }

    public void streamSynchronize(MemorySegment stream) {
        check(cuStreamSynchronize(stream), "cuStreamSynchronize", null);
    }

    public void streamWaitEvent(MemorySegment stream, MemorySegment event) {
        check(cuStreamWaitEvent(stream, event, 0), "cuStreamWaitEvent", null);
    }

    /** Creates an event; the caller destroys it with {@link #eventDestroy}. */
    public MemorySegment eventCreate(int flags) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment p = arena.allocate(ADDRESS);
            check(cuEventCreate(p, flags), "cuEventCreate", null);
            return p.get(ADDRESS, 0);
        }
    }

    public void eventDestroy(MemorySegment event) {
        check(cuEventDestroy(event), "cuEventDestroy", null);
    }

    public void eventRecord(MemorySegment event, MemorySegment stream) {
        check(cuEventRecord(event, stream), "cuEventRecord", null);
    }

    public void eventSynchronize(MemorySegment event) {
        check(cuEventSynchronize(event), "cuEventSynchronize", null);
    }

    /** Milliseconds between two recorded timing events. */
    public float eventElapsedTime(MemorySegment start, MemorySegment end) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ms = arena.allocate(JAVA_FLOAT);
            check(cuEventElapsedTime(ms, start, end), "cuEventElapsedTime", null);
            return ms.get(JAVA_FLOAT, 0);
        }
    }

    /**
     * Loads a PTX, cubin or fatbin image into the current context; unload with {@link #moduleUnload}.
     * {@code image} must stay valid during the call only; PTX must be NUL-terminated.
     */
    public MemorySegment moduleLoadData(MemorySegment image, String what) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment p = arena.allocate(ADDRESS);
            check(cuModuleLoadData(p, image), "cuModuleLoadData", what);
            return p.get(ADDRESS, 0);
        }
    }

    public void moduleUnload(MemorySegment module) {
        check(cuModuleUnload(module), "cuModuleUnload", null);
    }

    /** The kernel {@code name} ({@code extern "C"}) of {@code module}. */
    public MemorySegment moduleGetFunction(MemorySegment module, String name) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment p = arena.allocate(ADDRESS);
            check(cuModuleGetFunction(p, module, arena.allocateFrom(name)), "cuModuleGetFunction", name);
            return p.get(ADDRESS, 0);
        }
    }

    public void funcSetAttribute(MemorySegment f, int attrib, int value) {
        check(cuFuncSetAttribute(f, attrib, value), "cuFuncSetAttribute", "attribute " + attrib + " = " + value);
    }

    /** Launches {@code f}; {@code params} is the {@code void*[]} of argument addresses ({@link KernelArgs}). */
    public void launchKernel(MemorySegment f, int gridX, int gridY, int gridZ, int blockX, int blockY, int blockZ,
                             int sharedMem, MemorySegment stream, MemorySegment params, String name) {
        int rc = cuLaunchKernel(f, gridX, gridY, gridZ, blockX, blockY, blockZ, sharedMem, stream, params,
                MemorySegment.NULL);
        if (rc != CUDA_SUCCESS) {
            check(rc, "cuLaunchKernel", name + " grid " + gridX + "x" + gridY + "x" + gridZ + " block " + blockX + "x"
                    + blockY + "x" + blockZ + " smem " + sharedMem);
        }
    }

    /** Starts capturing {@code stream}'s work into a graph (decode step). */
    public void streamBeginCapture(MemorySegment stream) {
        check(cuStreamBeginCapture(stream, CU_STREAM_CAPTURE_MODE_THREAD_LOCAL), "cuStreamBeginCapture", null);
    }

    /** Ends a capture; the caller destroys the graph with {@link #graphDestroy}. */
    public MemorySegment streamEndCapture(MemorySegment stream) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment p = arena.allocate(ADDRESS);
            check(cuStreamEndCapture(stream, p), "cuStreamEndCapture", null);
            return p.get(ADDRESS, 0);
        }
    }

    /** Instantiates a captured graph; the caller destroys it with {@link #graphExecDestroy}. */
    public MemorySegment graphInstantiate(MemorySegment graph) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment p = arena.allocate(ADDRESS);
            check(cuGraphInstantiateWithFlags(p, graph, 0L), "cuGraphInstantiateWithFlags", null);
            return p.get(ADDRESS, 0);
        }
    }

    public void graphLaunch(MemorySegment exec, MemorySegment stream) {
        check(cuGraphLaunch(exec, stream), "cuGraphLaunch", null);
    }

    public void graphExecDestroy(MemorySegment exec) {
        check(cuGraphExecDestroy(exec), "cuGraphExecDestroy", null);
    }

    public void graphDestroy(MemorySegment graph) {
        check(cuGraphDestroy(graph), "cuGraphDestroy", null);
    }

    private MethodHandle optional(MethodHandle mh, Fn f) {
        if (mh == null) {
            throw new UnsupportedOperationException(library.name() + " has no " + f.symbol()
                    + " (driver " + versionString(driverVersion) + "); check hasGraphs() first");
        }
        return mh;
    }

    static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            return r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new IllegalStateException(t);
    }
}
