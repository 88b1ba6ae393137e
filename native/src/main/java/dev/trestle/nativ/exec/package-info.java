/** Executable pages for machine code the CPU backend emits at run time (see {@code backends.cpu.x86}). */
package dev.trestle.nativ.exec;
