package dev.trestle.backends.cpu.x86;

import java.util.Arrays;

/**
 * A small x86-64 encoder for the kernels the CPU backend emits: the general-purpose moves, arithmetic and jumps a
 * loop needs, and the AVX-512 (EVEX, 512-bit) instructions of the integer dot-product kernels. Memory operands are
 * always encoded with a 32-bit displacement, so EVEX's compressed 8-bit displacements never come into play.
 * Registers are numbered as the hardware does: general-purpose 0-15 ({@link #RAX} ...), vector 0-31.
 */
public final class X86Assembler {
    public static final int RAX = 0;
    public static final int RCX = 1;
    public static final int RDX = 2;
    public static final int RBX = 3;
    public static final int RSP = 4;
    public static final int RBP = 5;
    public static final int RSI = 6;
    public static final int RDI = 7;
    public static final int R8 = 8;
    public static final int R9 = 9;
    public static final int R10 = 10;
    public static final int R11 = 11;
    public static final int R12 = 12;
    public static final int R13 = 13;
    public static final int R14 = 14;
    public static final int R15 = 15;
    private static final int NO_INDEX = -1;

    /** A memory operand {@code [base + index * scale + disp]} ({@code index} {@link #NO_INDEX} for none). */
    public record Mem(int base, int index, int scale, int disp) {
        public Mem {
            if (index == RSP) {
                throw new IllegalArgumentException("rsp cannot be an index register");
            }
            if (index != NO_INDEX && scale != 1 && scale != 2 && scale != 4 && scale != 8) {
                throw new IllegalArgumentException("scale must be 1, 2, 4 or 8: " + scale);
            }
        }

        int indexBits() {
            return index == NO_INDEX ? 0 : index;
        }
    }

    /** {@code [base + disp]}. */
    public static Mem mem(int base, int disp) {
        return new Mem(base, NO_INDEX, 1, disp);
    }

    /** {@code [base + index * scale + disp]}. */
    public static Mem mem(int base, int index, int scale, int disp) {
        return new Mem(base, index, scale, disp);
    }

    /** A jump target: bound once to a position, referenced by jumps before or after. */
    public static final class Label {
        private int position = -1;
        private int[] fixups = new int[4];
        private int fixupCount;
    }

    private byte[] code = new byte[1024];
    private int size;

    /** The encoded bytes so far; every label referenced must be bound. */
    public byte[] toByteArray() {
        return Arrays.copyOf(code, size);
    }

    private void emit(int b) {
        if (size == code.length) {
            code = Arrays.copyOf(code, 2 * size);
        }
        code[size++] = (byte) b;
    }

    private void emit32(int v) {
        emit(v);
        emit(v >>> 8);
        emit(v >>> 16);
        emit(v >>> 24);
    }

    // ---- general-purpose ----

    private void rex(boolean w, int reg, int index, int rm) {
        int rex = 0x40 | (w ? 8 : 0) | ((reg >> 3) & 1) << 2 | ((index >> 3) & 1) << 1 | ((rm >> 3) & 1);
        if (rex != 0x40) {
            emit(rex);
        }
    }

    /** ModRM (+SIB) and a 32-bit displacement for {@code reg} (a register number or an opcode extension). */
    private void modrmMem(int reg, Mem m) {
        if (m.index() == NO_INDEX && (m.base() & 7) != RSP) {
            emit(0x80 | (reg & 7) << 3 | (m.base() & 7));
        } else {
            emit(0x80 | (reg & 7) << 3 | 4);
            int ss = Integer.numberOfTrailingZeros(m.scale());
            int idx = m.index() == NO_INDEX ? 4 : m.index() & 7;
            emit(ss << 6 | idx << 3 | (m.base() & 7));
        }
        emit32(m.disp());
    }

    private void modrmReg(int reg, int rm) {
        emit(0xc0 | (reg & 7) << 3 | (rm & 7));
    }

    private void op64RR(int opcode, int reg, int rm) {
        rex(true, reg, 0, rm);
        emit(opcode);
        modrmReg(reg, rm);
    }

    private void op64RM(int opcode, int reg, Mem m) {
        rex(true, reg, m.indexBits(), m.base());
        emit(opcode);
        modrmMem(reg, m);
    }

    /** {@code mov dst, src} (64-bit). */
    public void mov(int dst, int src) {
        op64RR(0x89, src, dst);
    }

    /** {@code mov dst, qword [m]}. */
    public void load(int dst, Mem m) {
        op64RM(0x8b, dst, m);
    }

    /** {@code mov qword [m], src}. */
    public void store(Mem m, int src) {
        op64RM(0x89, src, m);
    }

    /** {@code movsxd dst, dword [m]}: a signed 32-bit int widened to 64 bits. */
    public void loadInt(int dst, Mem m) {
        op64RM(0x63, dst, m);
    }

    /** {@code lea dst, [m]}. */
    public void lea(int dst, Mem m) {
        op64RM(0x8d, dst, m);
    }

    /** {@code add dst, src} (64-bit). */
    public void add(int dst, int src) {
        op64RR(0x01, src, dst);
    }

    /** {@code sub dst, src} (64-bit). */
    public void sub(int dst, int src) {
        op64RR(0x29, src, dst);
    }

    private void arithImm(int ext, int dst, int imm) {
        rex(true, 0, 0, dst);
        emit(0x81);
        modrmReg(ext, dst);
        emit32(imm);
    }

    /** {@code add dst, imm32} (sign-extended to 64 bits). */
    public void addImm(int dst, int imm) {
        arithImm(0, dst, imm);
    }

    /** {@code sub dst, imm32}. */
    public void subImm(int dst, int imm) {
        arithImm(5, dst, imm);
    }

    private void shiftImm(int ext, int dst, int count) {
        rex(true, 0, 0, dst);
        emit(0xc1);
        modrmReg(ext, dst);
        emit(count);
    }

    /** {@code shl dst, count}. */
    public void shl(int dst, int count) {
        shiftImm(4, dst, count);
    }

    /** {@code shr dst, count} (logical). */
    public void shr(int dst, int count) {
        shiftImm(5, dst, count);
    }

    /** {@code mov dst32, imm32} (zero-extends into the 64-bit register). */
    public void movImm32(int dst, int imm) {
        rex(false, 0, 0, dst);
        emit(0xb8 | (dst & 7));
        emit32(imm);
    }

    /** {@code push r}. */
    public void push(int r) {
        rex(false, 0, 0, r);
        emit(0x50 | (r & 7));
    }

    /** {@code pop r}. */
    public void pop(int r) {
        rex(false, 0, 0, r);
        emit(0x58 | (r & 7));
    }

    /** {@code dec r} (64-bit); sets ZF for {@link #jnz}. */
    public void dec(int r) {
        rex(true, 0, 0, r);
        emit(0xff);
        modrmReg(1, r);
    }

    /** Binds {@code l} to the current position and patches the jumps already made to it. */
    public void bind(Label l) {
        if (l.position >= 0) {
            throw new IllegalStateException("label bound twice");
        }
        l.position = size;
        for (int i = 0; i < l.fixupCount; i++) {
            patchRel32(l.fixups[i], size);
        }
        l.fixupCount = 0;
    }

    private void patchRel32(int at, int target) {
        int rel = target - (at + 4);
        code[at] = (byte) rel;
        code[at + 1] = (byte) (rel >>> 8);
        code[at + 2] = (byte) (rel >>> 16);
        code[at + 3] = (byte) (rel >>> 24);
    }

    private void rel32(Label l) {
        int at = size;
        emit32(0);
        if (l.position >= 0) {
            patchRel32(at, l.position);
        } else {
            if (l.fixupCount == l.fixups.length) {
                l.fixups = Arrays.copyOf(l.fixups, 2 * l.fixupCount);
            }
            l.fixups[l.fixupCount++] = at;
        }
    }

    /** {@code jnz l} (rel32). */
    public void jnz(Label l) {
        emit(0x0f);
        emit(0x85);
        rel32(l);
    }

    /** {@code ret}. */
    public void ret() {
        emit(0xc3);
    }

    /** {@code cpuid}: leaf in eax, sub-leaf in ecx; results in eax, ebx, ecx, edx. */
    public void cpuid() {
        emit(0x0f);
        emit(0xa2);
    }

    /** {@code xgetbv}: the extended control register ecx into edx:eax. */
    public void xgetbv() {
        emit(0x0f);
        emit(0x01);
        emit(0xd0);
    }

    /** {@code mov dword [m], src32}. */
    public void storeInt(Mem m, int src) {
        rex(false, src, m.indexBits(), m.base());
        emit(0x89);
        modrmMem(src, m);
    }

    /** {@code vzeroupper} (VEX): leaves no dirty upper vector state to slow the caller's SSE code. */
    public void vzeroupper() {
        emit(0xc5);
        emit(0xf8);
        emit(0x77);
    }

    // ---- AVX-512 (EVEX, 512-bit vector length) ----

    private static final int MAP_0F = 1;
    private static final int MAP_0F38 = 2;
    private static final int PP_NONE = 0;
    private static final int PP_66 = 1;
    private static final int PP_F3 = 2;

    /**
     * The four EVEX prefix bytes. {@code reg} is ModRM.reg (a vector register or an opcode extension), {@code vvvv}
     * the second source (0 when unused, which encodes as 1111), {@code x} and {@code b} the extension bits of the
     * r/m operand (a vector register's bits 4 and 3, or a memory operand's index and base bit 3).
     */
    private void evex(int map, int pp, boolean w, int reg, int vvvv, int x, int b, boolean broadcast) {
        emit(0x62);
        emit((~reg >> 3 & 1) << 7 | (~x & 1) << 6 | (~b & 1) << 5 | (~reg >> 4 & 1) << 4 | map);
        emit((w ? 0x80 : 0) | (~vvvv & 0xf) << 3 | 4 | pp);
        emit(2 << 5 | (broadcast ? 0x10 : 0) | (~vvvv >> 4 & 1) << 3);
    }

    private void evexRR(int map, int pp, int opcode, int reg, int vvvv, int rm) {
        evex(map, pp, false, reg, vvvv, rm >> 4, rm >> 3, false);
        emit(opcode);
        modrmReg(reg, rm);
    }

    private void evexRM(int map, int pp, int opcode, int reg, int vvvv, Mem m, boolean broadcast) {
        evex(map, pp, false, reg, vvvv, m.indexBits() >> 3, m.base() >> 3, broadcast);
        emit(opcode);
        modrmMem(reg, m);
    }

    /** {@code vmovdqu32 zmm, [m]}. */
    public void vmovdqu32(int dst, Mem m) {
        evexRM(MAP_0F, PP_F3, 0x6f, dst, 0, m, false);
    }

    /** {@code vmovups [m], zmm}. */
    public void vmovups(Mem m, int src) {
        evexRM(MAP_0F, PP_NONE, 0x11, src, 0, m, false);
    }

    /** {@code vpandd dst, a, b}. */
    public void vpandd(int dst, int a, int b) {
        evexRR(MAP_0F, PP_66, 0xdb, dst, a, b);
    }

    /** {@code vpxord dst, a, b}. */
    public void vpxord(int dst, int a, int b) {
        evexRR(MAP_0F, PP_66, 0xef, dst, a, b);
    }

    /** {@code vpsubd dst, a, b}. */
    public void vpsubd(int dst, int a, int b) {
        evexRR(MAP_0F, PP_66, 0xfa, dst, a, b);
    }

    /** {@code vpaddd dst, a, b}. */
    public void vpaddd(int dst, int a, int b) {
        evexRR(MAP_0F, PP_66, 0xfe, dst, a, b);
    }

    /** {@code vpord dst, a, b}. */
    public void vpord(int dst, int a, int b) {
        evexRR(MAP_0F, PP_66, 0xeb, dst, a, b);
    }

    /** {@code vpmulld dst, a, b}: the low 32 bits of each lane's product. */
    public void vpmulld(int dst, int a, int b) {
        evexRR(MAP_0F38, PP_66, 0x40, dst, a, b);
    }

    /** {@code vpmovzxbd zmm, [m128]}: sixteen unsigned bytes widened to ints. */
    public void vpmovzxbd(int dst, Mem m) {
        evexRM(MAP_0F38, PP_66, 0x31, dst, 0, m, false);
    }

    /** {@code vpmovsxbd zmm, [m128]}: sixteen signed bytes widened to ints. */
    public void vpmovsxbd(int dst, Mem m) {
        evexRM(MAP_0F38, PP_66, 0x21, dst, 0, m, false);
    }

    /** {@code vmovups zmm, [m]}. */
    public void vmovupsLoad(int dst, Mem m) {
        evexRM(MAP_0F, PP_NONE, 0x10, dst, 0, m, false);
    }

    /**
     * {@code vpdpwssd acc, a, dword [m]{1to16}} (AVX-512 VNNI): per 32-bit lane, the two signed 16-bit halves of
     * {@code a} times those of the broadcast dword, summed into {@code acc}.
     */
    public void vpdpwssdBroadcast(int acc, int a, Mem m) {
        evexRM(MAP_0F38, PP_66, 0x52, acc, a, m, true);
    }

    /** {@code vpsrld dst, src, count} (logical, per 32-bit lane). */
    public void vpsrld(int dst, int src, int count) {
        evexRR(MAP_0F, PP_66, 0x72, 2, dst, src);
        emit(count);
    }

    /** {@code vpslld dst, src, count}. */
    public void vpslld(int dst, int src, int count) {
        evexRR(MAP_0F, PP_66, 0x72, 6, dst, src);
        emit(count);
    }

    /**
     * {@code vpdpbusd acc, u8, dword [m]{1to16}} (AVX-512 VNNI): per 32-bit lane, the four unsigned bytes of
     * {@code u8} times the four signed bytes of the broadcast dword, summed into {@code acc}.
     */
    public void vpdpbusdBroadcast(int acc, int u8, Mem m) {
        evexRM(MAP_0F38, PP_66, 0x50, acc, u8, m, true);
    }

    /** {@code vpbroadcastd zmm, dword [m]}. */
    public void vpbroadcastd(int dst, Mem m) {
        evexRM(MAP_0F38, PP_66, 0x58, dst, 0, m, false);
    }

    /** {@code vpbroadcastd zmm, r32}. */
    public void vpbroadcastdFromGpr(int dst, int gpr) {
        evex(MAP_0F38, PP_66, false, dst, 0, 0, gpr >> 3, false);
        emit(0x7c);
        modrmReg(dst, gpr);
    }

    /** {@code vcvtdq2ps dst, src}: 32-bit ints to floats (exact below 2^24). */
    public void vcvtdq2ps(int dst, int src) {
        evexRR(MAP_0F, PP_NONE, 0x5b, dst, 0, src);
    }

    /** {@code vcvtph2ps zmm, [m256]}: sixteen F16 values widened exactly. */
    public void vcvtph2ps(int dst, Mem m) {
        evexRM(MAP_0F38, PP_66, 0x13, dst, 0, m, false);
    }

    /** {@code vmulps dst, a, dword [m]{1to16}}. */
    public void vmulpsBroadcast(int dst, int a, Mem m) {
        evexRM(MAP_0F, PP_NONE, 0x59, dst, a, m, true);
    }

    /** {@code vfmadd231ps acc, a, b}: {@code acc = a * b + acc}, one rounding. */
    public void vfmadd231ps(int acc, int a, int b) {
        evexRR(MAP_0F38, PP_66, 0xb8, acc, a, b);
    }
}
