package dev.trestle.nativ.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.util.List;
import java.util.Locale;

/**
 * A shared library opened by one of several names, whose symbols become downcall handles. A missing
 * required symbol is an error naming the symbol and the library; a missing optional one yields null.
 */
final class NativeLibrary {
    private static final Linker LINKER = Linker.nativeLinker();

    private final String name;
    private final SymbolLookup lookup;

    private NativeLibrary(String name, SymbolLookup lookup) {
        this.name = name;
        this.lookup = lookup;
    }

    /**
     * Opens the first of {@code names} the system loader finds (global arena: a driver stays loaded for the
     * life of the process), or returns null when none loads.
     */
    static NativeLibrary open(List<String> names) {
        for (String n : names) {
            try {
                return new NativeLibrary(n, SymbolLookup.libraryLookup(n, Arena.global()));
            } catch (IllegalArgumentException | IllegalCallerException e) {
                // not found under this name: try the next one
            }
        }
        return null;
    }

    String name() {
        return name;
    }

    /** Binds {@code symbol}; throws {@link MissingSymbolException} when the library lacks it. */
    MethodHandle bind(String symbol, FunctionDescriptor fd) {
        MemorySegment addr = lookup.find(symbol).orElseThrow(() -> new MissingSymbolException(symbol, name));
        return LINKER.downcallHandle(addr, fd);
    }

    /** Binds {@code symbol}, or returns null when the library lacks it (an optional feature). */
    MethodHandle bindOptional(String symbol, FunctionDescriptor fd) {
        return lookup.find(symbol).map(a -> LINKER.downcallHandle(a, fd)).orElse(null);
    }

    static boolean isWindows() {
        return System.getProperty("os.name", "").toLowerCase(Locale.ROOT).startsWith("windows");
    }

    /** A library loaded but lacks a function we need: usually a driver older than we support. */
    static final class MissingSymbolException extends RuntimeException {
        final String symbol;
        final String library;

        MissingSymbolException(String symbol, String library) {
            super(library + " has no function " + symbol);
            this.symbol = symbol;
            this.library = library;
        }
    }
}
