package dev.trestle.nativ.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

class CudaDriverTest {

    private static boolean driverInstalled() {
        for (String n : CudaDriver.libraryNames()) {
            try (Arena a = Arena.ofConfined()) {
                SymbolLookup.libraryLookup(n, a);
                return true;
            } catch (IllegalArgumentException e) {
                // next
            }
        }
        return false;
    }

    @Test
    void withoutTheDriverLoadFailsWithTheReasonAndTheFix() {
        Assumptions.assumeFalse(driverInstalled(), "an NVIDIA driver is installed here");
        CudaUnavailableException e = assertThrows(CudaUnavailableException.class, CudaDriver::load);
        String lib = CudaDriver.libraryNames().getFirst();
        assertEquals("CUDA unavailable: " + lib + " not found (install the NVIDIA driver)", e.getMessage());
        assertTrue(e.fix().contains("580"), e.fix());
        // remembered: the second call answers the same without retrying
        assertEquals(e.getMessage(), CudaDriver.unavailableReason());
        assertNull(Cublas.loadOptional() == null ? null : "cuBLAS loaded without a driver");
    }

    @Test
    void driverVersionGateNamesTheDriverNeeded() {
        assertNull(CudaDriver.driverTooOld(13000));
        assertNull(CudaDriver.driverTooOld(13020));
        String msg = CudaDriver.driverTooOld(12040);
        assertNotNull(msg);
        assertTrue(msg.contains("supports CUDA 12.4"), msg);
        assertTrue(msg.contains("580"), msg);
        assertEquals("12.4", CudaDriver.versionString(12040));
        assertEquals("13.0", CudaDriver.versionString(13000));
    }

    @Test
    void everyBindingHasOneSymbolAndADescriptorMatchingItsPrototype() {
        Set<String> seen = new HashSet<>();
        for (CudaDriver.Fn f : CudaDriver.functions()) {
            assertTrue(seen.add(f.symbol()), "bound twice: " + f.symbol());
            assertEquals(parameterCount(f.prototype()), f.descriptor().argumentLayouts().size(), f.prototype());
            assertTrue(f.prototype().startsWith("CUresult "), f.prototype());
        }
        assertTrue(seen.containsAll(Set.of("cuInit", "cuDriverGetVersion", "cuMemGetInfo_v2", "cuMemHostAlloc",
                "cuStreamCreate", "cuEventRecord", "cuModuleLoadData", "cuLaunchKernel", "cuMemcpyPeerAsync",
                "cuCtxEnablePeerAccess", "cuGraphLaunch")));
    }

    /**
     * Every symbol we bind is a function of the CUDA 13 cuda.h with the same number of parameters (the header's
     * {@code #define cuX cuX_v2} renames are followed). Runs where the toolkit's headers are installed.
     */
    @Test
    void bindingsMatchCudaHeader() throws IOException {
        Path nvcc = CudaToolchain.require("nvcc");
        Path header = nvcc.toRealPath().getParent().getParent().resolve("include/cuda.h");
        if (!Files.exists(header)) {
            header = Path.of("/usr/local/cuda/include/cuda.h");
        }
        Assumptions.assumeTrue(Files.exists(header), "cuda.h not found next to nvcc");
        String h = Files.readString(header);
        for (CudaDriver.Fn f : CudaDriver.functions()) {
            String sym = f.symbol();
            String declared = sym;
            Matcher def = Pattern.compile("#define\\s+(\\w+)\\s+(?:__CUDA_API_PT\\w+\\()?" + sym + "\\)?\\s").matcher(h);
            if (def.find()) {
                declared = def.group(1);   // the header declares cuMemAlloc, which the macro renames to cuMemAlloc_v2
            }
            Matcher m = Pattern.compile("CUresult CUDAAPI " + declared + "\\(([^)]*)\\)").matcher(h);
            assertTrue(m.find(), sym + " (" + declared + ") is not declared in " + header);
            assertEquals(parameterCount("x " + declared + "(" + m.group(1) + ")"),
                    f.descriptor().argumentLayouts().size(), "parameter count of " + sym);
        }
    }

    private static int parameterCount(String prototype) {
        String params = prototype.substring(prototype.indexOf('(') + 1, prototype.lastIndexOf(')')).trim();
        if (params.isEmpty() || params.equals("void")) {
            return 0;
        }
        return params.split(",").length;
    }
}
