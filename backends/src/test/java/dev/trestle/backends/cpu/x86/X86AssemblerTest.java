package dev.trestle.backends.cpu.x86;

import static dev.trestle.backends.cpu.x86.X86Assembler.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.HexFormat;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * Known encodings: each expected byte string was produced by this assembler and read back by GNU objdump
 * ({@code objdump -D -b binary -mi386:x86-64 -Mintel}) as the instruction in the comment, then frozen here.
 */
class X86AssemblerTest {
    private static void check(String hex, Consumer<X86Assembler> emit) {
        X86Assembler a = new X86Assembler();
        emit.accept(a);
        assertEquals(hex, HexFormat.of().formatHex(a.toByteArray()));
    }

    @Test
    void encodesTheInstructionsTheKernelsUse() {
        check("4989fc", a -> a.mov(R12, RDI)); // mov r12, rdi
        check("4c89c8", a -> a.mov(RAX, R9)); // mov rax, r9
        check("488b9c2428000000", a -> a.load(RBX, mem(RSP, 0x28))); // mov rbx, qword ptr [rsp+0x28]
        check("4d8b942410000000", a -> a.load(R10, mem(R12, 0x10))); // mov r10, qword ptr [r12+0x10]
        check("4d89bd08000000", a -> a.store(mem(R13, 8), R15)); // mov qword ptr [r13+0x8], r15
        check("4d639c8100010000", a -> a.loadInt(R11, mem(R9, RAX, 4, 0x100))); // movsxd r11, dword ptr [r9+rax*4+0x100]
        check("48638504000000", a -> a.loadInt(RAX, mem(RBP, 4))); // movsxd rax, dword ptr [rbp+0x4]
        check("4e8db41600000000", a -> a.lea(R14, mem(RSI, R10, 1, 0))); // lea r14, [rsi+r10*1+0x0]
        check("4b8d94c5e0ffffff", a -> a.lea(RDX, mem(R13, R8, 8, -0x20))); // lea rdx, [r13+r8*8-0x20]
        check("4901cf", a -> a.add(R15, RCX)); // add r15, rcx
        check("4c29dd", a -> a.sub(RBP, R11)); // sub rbp, r11
        check("4981c640020000", a -> a.addImm(R14, 0x240)); // add r14, 0x240
        check("4881e801000000", a -> a.subImm(RAX, 1)); // sub rax, 0x1
        check("49c1e002", a -> a.shl(R8, 2)); // shl r8, 0x2
        check("48c1eb03", a -> a.shr(RBX, 3)); // shr rbx, 0x3
        check("41bb0f0f0f0f", a -> a.movImm32(R11, 0x0f0f0f0f)); // mov r11d, 0xf0f0f0f
        check("b807000000", a -> a.movImm32(RAX, 7)); // mov eax, 0x7
        check("53", a -> a.push(RBX)); // push rbx
        check("4157", a -> a.push(R15)); // push r15
        check("415c", a -> a.pop(R12)); // pop r12
        check("5d", a -> a.pop(RBP)); // pop rbp
        check("49ffcd", a -> a.dec(R13)); // dec r13
        check("48ffcb", a -> a.dec(RBX)); // dec rbx
        check("898f08000000", a -> a.storeInt(mem(RDI, 8), RCX)); // mov dword ptr [rdi+0x8], ecx
        check("45899004000000", a -> a.storeInt(mem(R8, 4), R10)); // mov dword ptr [r8+0x4], r10d
        check("62f17e486f8840000000", a -> a.vmovdqu32(1, mem(RAX, 0x40))); // vmovdqu32 zmm1, zmmword ptr [rax+0x40]
        check("62c17e486f8e00010000", a -> a.vmovdqu32(17, mem(R14, 0x100))); // vmovdqu32 zmm17, zmmword ptr [r14+0x100]
        check("62417c4811849a40000000", a -> a.vmovups(mem(R10, RBX, 4, 0x40), 24)); // vmovups zmmword ptr [r10+rbx*4+0x40], zmm24
        check("62f17c48119c2400000000", a -> a.vmovups(mem(RSP, 0), 3)); // vmovups zmmword ptr [rsp+0x0], zmm3
        check("62f17548dbd0", a -> a.vpandd(2, 1, 0)); // vpandd zmm2, zmm1, zmm0
        check("62817540dbe7", a -> a.vpandd(20, 17, 31)); // vpandd zmm20, zmm17, zmm31
        check("62513540dbcc", a -> a.vpandd(9, 25, 12)); // vpandd zmm9, zmm25, zmm12
        check("62a17d40efc0", a -> a.vpxord(16, 16, 16)); // vpxord zmm16, zmm16, zmm16
        check("62e14540fafc", a -> a.vpsubd(23, 23, 4)); // vpsubd zmm23, zmm23, zmm4
        check("62f1754872d104", a -> a.vpsrld(1, 1, 4)); // vpsrld zmm1, zmm1, 0x4
        check("62916d4072d104", a -> a.vpsrld(18, 25, 4)); // vpsrld zmm18, zmm25, 0x4
        check("62f15d4872f403", a -> a.vpslld(4, 4, 3)); // vpslld zmm4, zmm4, 0x3
        check("62d10d4072f107", a -> a.vpslld(30, 9, 7)); // vpslld zmm30, zmm9, 0x7
        check("62c26d58508210000000", a -> a.vpdpbusdBroadcast(16, 2, mem(R10, 0x10))); // vpdpbusd zmm16, zmm2, dword ptr [r10+0x10]{1to16}
        check("62c2755050bd34120000", a -> a.vpdpbusdBroadcast(23, 17, mem(R13, 0x1234))); // vpdpbusd zmm23, zmm17, dword ptr [r13+0x1234]{1to16}
        check("62b2355850ac1e04000000", a -> a.vpdpbusdBroadcast(5, 9, mem(RSI, R11, 1, 4))); // vpdpbusd zmm5, zmm9, dword ptr [rsi+r11*1+0x4]{1to16}
        check("62d27d4858a40f08000000", a -> a.vpbroadcastd(4, mem(R15, RCX, 1, 8))); // vpbroadcastd zmm4, dword ptr [r15+rcx*1+0x8]
        check("62e27d4858a500000000", a -> a.vpbroadcastd(20, mem(RBP, 0))); // vpbroadcastd zmm20, dword ptr [rbp+0x0]
        check("62f27d487cc0", a -> a.vpbroadcastdFromGpr(0, RAX)); // vpbroadcastd zmm0, eax
        check("62c27d487cdb", a -> a.vpbroadcastdFromGpr(19, R11)); // vpbroadcastd zmm19, r11d
        check("62a17c485bc0", a -> a.vcvtdq2ps(16, 16)); // vcvtdq2ps zmm16, zmm16
        check("62b17c485bde", a -> a.vcvtdq2ps(3, 22)); // vcvtdq2ps zmm3, zmm22
        check("62f27d48139820000000", a -> a.vcvtph2ps(3, mem(RAX, 0x20))); // vcvtph2ps zmm3, ymmword ptr [rax+0x20]
        check("62c27d4813ac2400000000", a -> a.vcvtph2ps(21, mem(R12, 0))); // vcvtph2ps zmm21, ymmword ptr [r12+0x0]
        check("62d1645859a604000000", a -> a.vmulpsBroadcast(4, 3, mem(R14, 4))); // vmulps zmm4, zmm3, dword ptr [r14+0x4]{1to16}
        check("62b1645059a40200000000", a -> a.vmulpsBroadcast(4, 19, mem(RDX, R8, 1, 0))); // vmulps zmm4, zmm19, dword ptr [rdx+r8*1+0x0]{1to16}
        check("62627d40b8c4", a -> a.vfmadd231ps(24, 16, 4)); // vfmadd231ps zmm24, zmm16, zmm4
        check("62b21540b8fa", a -> a.vfmadd231ps(7, 29, 18)); // vfmadd231ps zmm7, zmm29, zmm18
        check("62c17d40fec0", a -> a.vpaddd(16, 16, 8)); // vpaddd zmm16, zmm16, zmm8
        check("62d12540fede", a -> a.vpaddd(3, 27, 14)); // vpaddd zmm3, zmm27, zmm14
        check("62f17548ebca", a -> a.vpord(1, 1, 2)); // vpord zmm1, zmm1, zmm2
        check("62813548ebce", a -> a.vpord(17, 9, 30)); // vpord zmm17, zmm9, zmm30
        check("62723d4840c3", a -> a.vpmulld(8, 8, 3)); // vpmulld zmm8, zmm8, zmm3
        check("62725d4040fc", a -> a.vpmulld(15, 20, 4)); // vpmulld zmm15, zmm20, zmm4
        check("62f27d48319800030000", a -> a.vpmovzxbd(3, mem(RAX, 0x300))); // vpmovzxbd zmm3, xmmword ptr [rax+0x300]
        check("62c27d4831941510000000", a -> a.vpmovzxbd(18, mem(R13, RDX, 1, 0x10))); // vpmovzxbd zmm18, xmmword ptr [r13+rdx*1+0x10]
        check("62f17c48109840000000", a -> a.vmovupsLoad(3, mem(RAX, 0x40))); // vmovups zmm3, zmmword ptr [rax+0x40]
        check("62417c4810a42480000000", a -> a.vmovupsLoad(28, mem(R12, 0x80))); // vmovups zmm28, zmmword ptr [r12+0x80]
        check("62527558528604000000", a -> a.vpdpwssdBroadcast(8, 1, mem(R14, 4))); // vpdpwssd zmm8, zmm1, dword ptr [r14+0x4]{1to16}
        check("6272755052bf10000000", a -> a.vpdpwssdBroadcast(15, 17, mem(RDI, 0x10))); // vpdpwssd zmm15, zmm17, dword ptr [rdi+0x10]{1to16}
        check("62f27d48219890000000", a -> a.vpmovsxbd(3, mem(RAX, 0x90))); // vpmovsxbd zmm3, xmmword ptr [rax+0x90]
        check("62c27d4821a910000000", a -> a.vpmovsxbd(21, mem(R9, 0x10))); // vpmovsxbd zmm21, xmmword ptr [r9+0x10]
        check("c5f877", a -> a.vzeroupper()); // vzeroupper
        check("0fa2", a -> a.cpuid()); // cpuid
        check("0f01d0", a -> a.xgetbv()); // xgetbv
        check("c3", a -> a.ret()); // ret
    }

    @Test
    void jumpsReachLabelsBoundBeforeAndAfter() {
        X86Assembler a = new X86Assembler();
        X86Assembler.Label top = new X86Assembler.Label();
        X86Assembler.Label end = new X86Assembler.Label();
        a.bind(top);                 // 0
        a.dec(RBX);                  // 0..2
        a.jnz(end);                  // 3..8: forward, patched at bind
        a.jnz(top);                  // 9..14: backward
        a.bind(end);                 // 15
        a.ret();
        // first rel32 = 15 - 9 = 6; second = 0 - 15 = -15
        assertEquals("48ffcb" + "0f8506000000" + "0f85f1ffffff" + "c3", HexFormat.of().formatHex(a.toByteArray()));
    }

    @Test
    void refusesRspAsAnIndex() {
        assertThrows(IllegalArgumentException.class, () -> mem(RAX, RSP, 1, 0));
        assertThrows(IllegalArgumentException.class, () -> mem(RAX, RCX, 3, 0));
    }
}
