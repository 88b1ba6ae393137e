package dev.trestle.backends.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.trestle.backends.cpu.CpuBackend;
import dev.trestle.backends.cpu.kernel.RowKernels;
import dev.trestle.backends.spi.OpKind;
import dev.trestle.backends.type.GgmlType;
import dev.trestle.common.TrestleException;
import dev.trestle.nativ.cuda.CudaKernels;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class CudaKernelNamesTest {

    /** Every kernel the Java side launches is an entry of some fatbin (its ELF section .text.NAME). */
    @Test
    void everyLaunchedKernelIsInTheFatbins() {
        StringBuilder all = new StringBuilder();
        for (CudaKernels.Module m : CudaKernels.Module.values()) {
            all.append(new String(CudaKernels.fatbin(m), StandardCharsets.ISO_8859_1));
        }
        String images = all.toString();
        for (String k : CudaKernelNames.all()) {
            assertTrue(images.contains(".text." + k + "\0"), "no kernel " + k + " in the fatbins");
        }
    }

    /** Same weight and cache types as the CPU backend, and the same op coverage. */
    @Test
    void coversWhatTheCpuBackendCovers() {
        for (GgmlType t : GgmlType.values()) {
            assertEquals(RowKernels.supports(t), CudaKernelNames.WEIGHT_TYPES.contains(t), t.toString());
        }
        try (CpuBackend cpu = new CpuBackend(1)) {
            for (OpKind op : OpKind.values()) {
                for (GgmlType t : GgmlType.values()) {
                    assertEquals(cpu.device().supportsOp(op, t), CudaBackend.supports(op, t), op + " " + t);
                }
            }
        }
    }

    @Test
    void matvecReadsTheCpuDotFormat() {
        assertEquals("mmv_q4_k", CudaKernelNames.matvec(GgmlType.Q4_K, "w"));
        assertEquals(GgmlType.Q8_K, CudaKernelNames.dotType(GgmlType.Q4_K));
        assertEquals(GgmlType.Q8_1, CudaKernelNames.dotType(GgmlType.Q5_1));
        assertEquals(GgmlType.Q8_0, CudaKernelNames.dotType(GgmlType.MXFP4));
        assertEquals(GgmlType.F16, CudaKernelNames.dotType(GgmlType.F16));
        assertEquals("set_rows_q5_1", CudaKernelNames.setRows(GgmlType.Q5_1));
        TrestleException e = assertThrows(TrestleException.class, () -> CudaKernelNames.matvec(GgmlType.Q8_1, "blk.0.ffn_up"));
        assertTrue(e.getMessage().contains("blk.0.ffn_up"), e.getMessage());
        assertThrows(TrestleException.class, () -> CudaKernelNames.setRows(GgmlType.Q4_K));
        assertFalse(CudaKernelNames.CACHE_TYPES.contains(GgmlType.IQ4_NL));
    }
}
