package dev.trestle.nativ.exec;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.Locale;
import java.util.Optional;

/**
 * Pages of machine code made at run time: mapped writable, filled, then switched to read+execute (never both), so
 * the CPU backend can call kernels it emits for the host's instruction set through an FFM downcall. Linux only
 * (libc {@code mmap}/{@code mprotect}); elsewhere {@link #available()} is false and callers keep their Java code.
 * Code pages live as long as the process: kernels are emitted once and cached.
 */
public final class ExecutableMemory {
    private static final int PROT_READ = 1;
    private static final int PROT_WRITE = 2;
    private static final int PROT_EXEC = 4;
    private static final int MAP_PRIVATE = 0x02;
    private static final int MAP_ANONYMOUS = 0x20;
    private static final long PAGE = 4096;
    private static final Handles HANDLES = Handles.load();

    private ExecutableMemory() {
    }

    /** Whether this platform can map executable pages here (Linux on x86-64 with libc's mmap/mprotect). */
    public static boolean available() {
        return HANDLES != null;
    }

    /**
     * Copies {@code code} into fresh pages and makes them executable; returns the address of the first byte.
     *
     * @throws IllegalStateException when mapping or protecting fails (the errno-style result is in the message)
     */
    public static MemorySegment install(byte[] code) {
        if (HANDLES == null) {
            throw new IllegalStateException("executable memory is not supported on " + System.getProperty("os.name")
                    + "/" + System.getProperty("os.arch"));
        }
        long size = (code.length + PAGE - 1) / PAGE * PAGE;
        try {
            MemorySegment base = (MemorySegment) HANDLES.mmap.invokeExact(MemorySegment.NULL, size,
                    PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0L);
            if (base.address() == -1L || base.address() == 0L) {
                throw new IllegalStateException("mmap of " + size + " bytes for code failed");
            }
            MemorySegment pages = base.reinterpret(size);
            MemorySegment.copy(MemorySegment.ofArray(code), 0, pages, 0, code.length);
            int rc = (int) HANDLES.mprotect.invokeExact(base, size, PROT_READ | PROT_EXEC);
            if (rc != 0) {
                throw new IllegalStateException("mprotect(PROT_READ | PROT_EXEC) of code pages failed: " + rc
                        + " (a kernel or container that forbids executable mappings)");
            }
            return pages;
        } catch (IllegalStateException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("could not install emitted code", t);
        }
    }

    private record Handles(MethodHandle mmap, MethodHandle mprotect) {
        static Handles load() {
            String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
            String arch = System.getProperty("os.arch", "");
            if (!os.contains("linux") || !(arch.equals("amd64") || arch.equals("x86_64"))) {
                return null;
            }
            Linker linker = Linker.nativeLinker();
            Optional<MemorySegment> mmap = linker.defaultLookup().find("mmap");
            Optional<MemorySegment> mprotect = linker.defaultLookup().find("mprotect");
            if (mmap.isEmpty() || mprotect.isEmpty()) {
                return null;
            }
            return new Handles(
                    linker.downcallHandle(mmap.get(), FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.ADDRESS,
                            ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
                            ValueLayout.JAVA_LONG)),
                    linker.downcallHandle(mprotect.get(), FunctionDescriptor.of(ValueLayout.JAVA_INT,
                            ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT)));
        }
    }
}
