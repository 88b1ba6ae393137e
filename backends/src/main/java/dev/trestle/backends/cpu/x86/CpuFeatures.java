package dev.trestle.backends.cpu.x86;

import static dev.trestle.backends.cpu.x86.X86Assembler.R8;
import static dev.trestle.backends.cpu.x86.X86Assembler.RAX;
import static dev.trestle.backends.cpu.x86.X86Assembler.RBX;
import static dev.trestle.backends.cpu.x86.X86Assembler.RCX;
import static dev.trestle.backends.cpu.x86.X86Assembler.RDI;
import static dev.trestle.backends.cpu.x86.X86Assembler.RDX;
import static dev.trestle.backends.cpu.x86.X86Assembler.RSI;
import static dev.trestle.backends.cpu.x86.X86Assembler.mem;

import dev.trestle.nativ.exec.ExecutableMemory;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * What the host x86-64 CPU and OS support, read with {@code cpuid} and {@code xgetbv} through two tiny emitted
 * functions (Java has no API for CPU features, and HotSpot's own detection is not exposed).
 *
 * @param vendor    the {@code cpuid} vendor string ("AuthenticAMD", "GenuineIntel", ...)
 * @param avx512    AVX-512 F and BW, with the OS saving the opmask and all 32 zmm registers
 * @param avx512Vnni AVX-512 VNNI ({@code vpdpbusd}) on top of {@link #avx512}
 */
public record CpuFeatures(String vendor, boolean avx512, boolean avx512Vnni) {
    private static final CpuFeatures HOST = probe();

    /** The host's features, or {@code null} where machine code cannot be emitted (not Linux on x86-64). */
    public static CpuFeatures host() {
        return HOST;
    }

    private static CpuFeatures probe() {
        if (!ExecutableMemory.available()) {
            return null;
        }
        try (Arena arena = Arena.ofConfined()) {
            Linker linker = Linker.nativeLinker();
            MethodHandle cpuid = linker.downcallHandle(ExecutableMemory.install(cpuidCode()),
                    FunctionDescriptor.ofVoid(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS));
            MethodHandle xgetbv = linker.downcallHandle(ExecutableMemory.install(xgetbvCode()),
                    FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT));
            MemorySegment regs = arena.allocate(16, 4);
            cpuid.invokeExact(0, 0, regs);
            int maxLeaf = regs.getAtIndex(ValueLayout.JAVA_INT, 0);
            byte[] name = new byte[12];
            int[] order = {1, 3, 2}; // ebx, edx, ecx
            for (int i = 0; i < 3; i++) {
                int v = regs.getAtIndex(ValueLayout.JAVA_INT, order[i]);
                for (int j = 0; j < 4; j++) {
                    name[4 * i + j] = (byte) (v >>> (8 * j));
                }
            }
            String vendor = new String(name, java.nio.charset.StandardCharsets.US_ASCII);
            if (maxLeaf < 7) {
                return new CpuFeatures(vendor, false, false);
            }
            cpuid.invokeExact(1, 0, regs);
            boolean osxsave = (regs.getAtIndex(ValueLayout.JAVA_INT, 2) & (1 << 27)) != 0;
            // SSE, AVX, opmask, upper halves of zmm0-15 and zmm16-31 all saved by the OS
            boolean zmmState = osxsave && (((long) xgetbv.invokeExact(0)) & 0xe6) == 0xe6;
            cpuid.invokeExact(7, 0, regs);
            int ebx = regs.getAtIndex(ValueLayout.JAVA_INT, 1);
            int ecx = regs.getAtIndex(ValueLayout.JAVA_INT, 2);
            boolean avx512 = zmmState && (ebx & (1 << 16)) != 0 && (ebx & (1 << 30)) != 0;
            boolean vnni = avx512 && (ecx & (1 << 11)) != 0;
            return new CpuFeatures(vendor, avx512, vnni);
        } catch (Throwable t) {
            return null;
        }
    }

    /** {@code void cpuid(int leaf, int subleaf, int[4] out)}: eax, ebx, ecx, edx into {@code out}. */
    private static byte[] cpuidCode() {
        X86Assembler a = new X86Assembler();
        a.push(RBX); // callee-saved, and cpuid writes it
        a.mov(R8, RDX);
        a.mov(RAX, RDI);
        a.mov(RCX, RSI);
        a.cpuid();
        a.storeInt(mem(R8, 0), RAX);
        a.storeInt(mem(R8, 4), RBX);
        a.storeInt(mem(R8, 8), RCX);
        a.storeInt(mem(R8, 12), RDX);
        a.pop(RBX);
        a.ret();
        return a.toByteArray();
    }

    /** {@code long xgetbv(int register)}: edx:eax as one long. */
    private static byte[] xgetbvCode() {
        X86Assembler a = new X86Assembler();
        a.mov(RCX, RDI);
        a.xgetbv();
        a.shl(RDX, 32);          // xgetbv writes eax and edx, which clears the upper halves of rax and rdx
        a.add(RAX, RDX);
        a.ret();
        return a.toByteArray();
    }
}
