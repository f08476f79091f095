//! The guest's ring-0 code, its interrupt descriptor table and the system
//! call trampoline.
//!
//! Ring 0 does three things only: it saves the application's state when an
//! exception arrives from ring 3 and exits to the host (port
//! [`port::EXCEPTION`]); it writes back the page-table entries the host
//! listed (see `pagetable`) and loads CR3; and it returns to ring 3 with the
//! registers in the vCPU's area (`iretq`). The code is position
//! independent: it is copied into platform memory and finds its vCPU's area
//! by masking the stack pointer.
//!
//! System calls do not enter ring 0: LSTAR points at the trampoline, a user
//! page whose first instruction is `out` to [`port::SYSCALL`], which the
//! TSS's I/O permission bitmap opens to ring 3; that exit is the system
//! call. This works whether `syscall` switches to ring 0 (VMX, SVM) or not
//! (paravirtual KVM, which this machine has).

use std::arch::global_asm;

use crate::layout::TRAMPOLINE_VA;
use crate::layout::{area, platform_mem, port, selector};
use crate::memory::{va, PlatformMemory};

// Exceptions that push an error code.
const HAS_ERROR: u32 = (1 << 8)
    | (1 << 10)
    | (1 << 11)
    | (1 << 12)
    | (1 << 13)
    | (1 << 14)
    | (1 << 17)
    | (1 << 21)
    | (1 << 29)
    | (1 << 30);

global_asm!(
    ".pushsection .text.runsc_kvm_ring0, \"ax\"",
    ".balign 4096",
    ".globl runsc_kvm_ring0_start",
    "runsc_kvm_ring0_start:",
    // One 16-byte stub per vector: push a zero error code where the CPU
    // pushes none, push the vector, go to the common path.
    ".irp vec, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31",
    ".balign 16",
    ".if (({has_error} >> \\vec) & 1) == 0",
    "push 0",
    ".endif",
    "push \\vec",
    "jmp 20f",
    ".endr",
    // The common path. Stack: vector, error, rip, cs, rflags, rsp, ss.
    "20:",
    "test byte ptr [rsp + 24], 3",
    "jz 29f",
    "push rax",
    "mov rax, rsp",
    "and rax, -{region}",
    // The host's request to go back to ring 3 through here: the area
    // already holds the application's registers.
    "cmp qword ptr [rsp + 8], 6",
    "jne 21f",
    "cmp qword ptr [rax + {armed}], 0",
    "je 21f",
    "mov qword ptr [rax + {armed}], 0",
    "jmp 22f",
    "21:",
    "mov [rax + 0x00], r15",
    "mov [rax + 0x08], r14",
    "mov [rax + 0x10], r13",
    "mov [rax + 0x18], r12",
    "mov [rax + 0x20], rbp",
    "mov [rax + 0x28], rbx",
    "mov [rax + 0x30], r11",
    "mov [rax + 0x38], r10",
    "mov [rax + 0x40], r9",
    "mov [rax + 0x48], r8",
    "mov [rax + 0x58], rcx",
    "mov [rax + 0x60], rdx",
    "mov [rax + 0x68], rsi",
    "mov [rax + 0x70], rdi",
    "pop rcx",
    "mov [rax + 0x50], rcx",
    "pop rcx",
    "mov [rax + {vector}], rcx",
    "pop rcx",
    "mov [rax + {error}], rcx",
    "pop rcx",
    "mov [rax + {rip}], rcx",
    "pop rcx",
    "mov [rax + {cs}], rcx",
    "pop rcx",
    "mov [rax + {rflags}], rcx",
    "pop rcx",
    "mov [rax + {rsp}], rcx",
    "pop rcx",
    "mov [rax + {ss}], rcx",
    "out {exception}, al",
    // Return to ring 3 (rax: the area). First the listed page-table
    // entries: a locked read-modify-write that keeps the value, so that a
    // host write racing with it is never undone.
    "22:",
    ".globl runsc_kvm_ring0_return",
    "runsc_kvm_ring0_return:",
    "mov rcx, [rax + {count}]",
    "test rcx, rcx",
    "jz 24f",
    "lea rsi, [rax + {list}]",
    "23:",
    "mov rdx, [rsi]",
    "lock or qword ptr [rdx], 0",
    "add rsi, 8",
    "dec rcx",
    "jnz 23b",
    "mov qword ptr [rax + {count}], 0",
    "24:",
    "mov rcx, [rax + {cr3}]",
    "test rcx, rcx",
    "jz 25f",
    "mov qword ptr [rax + {cr3}], 0",
    "mov cr3, rcx",
    "25:",
    "cmp qword ptr [rax + {stale}], 0",
    "je 26f",
    "out {refill}, al",
    "jmp 22b",
    "26:",
    "lea rsp, [rax + {stack_top}]",
    "push qword ptr [rax + {ss}]",
    "push qword ptr [rax + {rsp}]",
    "push qword ptr [rax + {rflags}]",
    "push qword ptr [rax + {cs}]",
    "push qword ptr [rax + {rip}]",
    "mov r15, [rax + 0x00]",
    "mov r14, [rax + 0x08]",
    "mov r13, [rax + 0x10]",
    "mov r12, [rax + 0x18]",
    "mov rbp, [rax + 0x20]",
    "mov rbx, [rax + 0x28]",
    "mov r11, [rax + 0x30]",
    "mov r10, [rax + 0x38]",
    "mov r9, [rax + 0x40]",
    "mov r8, [rax + 0x48]",
    "mov rcx, [rax + 0x58]",
    "mov rdx, [rax + 0x60]",
    "mov rsi, [rax + 0x68]",
    "mov rdi, [rax + 0x70]",
    "mov rax, [rax + 0x50]",
    "iretq",
    // An exception in ring 0: the platform is broken.
    "29:",
    "out {kernel_fault}, al",
    "hlt",
    "jmp 29b",
    ".globl runsc_kvm_ring0_end",
    "runsc_kvm_ring0_end:",
    // The trampoline page's code: the system call exit, then the `ud2` the host
    // points ring 3 at to enter ring 0.
    ".balign 16",
    ".globl runsc_kvm_trampoline",
    "runsc_kvm_trampoline:",
    "out {syscall_port}, al",
    "ud2",
    ".globl runsc_kvm_trampoline_end",
    "runsc_kvm_trampoline_end:",
    ".popsection",
    has_error = const HAS_ERROR,
    region = const crate::layout::REGION_SIZE,
    armed = const area::ARMED,
    vector = const area::VECTOR,
    error = const area::ERROR,
    rip = const area::RIP,
    cs = const area::CS,
    rflags = const area::RFLAGS,
    rsp = const area::RSP,
    ss = const area::SS,
    count = const area::COUNT,
    list = const area::LIST,
    cr3 = const area::CR3,
    stale = const area::STALE,
    stack_top = const area::STACK_TOP,
    exception = const port::EXCEPTION,
    refill = const port::REFILL,
    kernel_fault = const port::KERNEL_FAULT,
    syscall_port = const port::SYSCALL,
);

extern "C" {
    static runsc_kvm_ring0_start: u8;
    static runsc_kvm_ring0_return: u8;
    static runsc_kvm_ring0_end: u8;
    static runsc_kvm_trampoline: u8;
    static runsc_kvm_trampoline_end: u8;
}

/// Offset of the `ud2` in the trampoline page.
const UD2_OFFSET: u64 = 2;

/// The guest address of the `ud2` that sends ring 3 to ring 0.
pub const UD2_VA: u64 = TRAMPOLINE_VA + UD2_OFFSET;

fn addr<T>(r: &T) -> u64 {
    r as *const T as u64
}

/// Where the ring-0 code is, once installed.
#[derive(Clone, Copy)]
pub struct Ring0 {
    /// The return path: it restores the state the area holds (with rax
    /// pointing to the area). The host starts it over whenever it changed
    /// the area, since a kick may have stopped it half-way. Ring-0 code
    /// below this address is the exception path, which is still saving
    /// the application's state to the area.
    pub return_path: u64,
}

impl Ring0 {
    /// Whether a vCPU stopped at ring-0 address `rip` is still saving an
    /// exception's state (the area does not hold it yet).
    pub fn saving(&self, rip: u64) -> bool {
        rip < self.return_path
    }
}

/// Copies the ring-0 code and the trampoline into platform memory and
/// builds the IDT.
pub fn install(mem: &PlatformMemory) -> Ring0 {
    // SAFETY: the symbols are defined by the global_asm above; only their
    // addresses are taken and the bytes between them read.
    let (start, ret, end, tramp, tramp_end) = unsafe {
        (
            addr(&runsc_kvm_ring0_start),
            addr(&runsc_kvm_ring0_return),
            addr(&runsc_kvm_ring0_end),
            addr(&runsc_kvm_trampoline),
            addr(&runsc_kvm_trampoline_end),
        )
    };
    assert!(end - start <= 4096 && tramp_end - tramp == UD2_OFFSET + 2);
    // SAFETY: both ranges are code of this binary, readable.
    let (code, tcode) = unsafe {
        (
            std::slice::from_raw_parts(start as *const u8, (end - start) as usize),
            std::slice::from_raw_parts(tramp as *const u8, (tramp_end - tramp) as usize),
        )
    };
    mem.write(platform_mem::CODE, code);
    mem.write(platform_mem::TRAMPOLINE, tcode);
    let code_va = va(platform_mem::CODE);
    for vec in 0..32u64 {
        let handler = code_va + vec * 16;
        // Interrupt gate, present; #BP and #OF may be raised from ring 3.
        let dpl: u64 = if vec == 3 || vec == 4 { 3 } else { 0 };
        let low = (handler & 0xffff)
            | ((selector::KERNEL_CS as u64) << 16)
            | ((0x8e | (dpl << 5)) << 40)
            | ((handler >> 16) & 0xffff) << 48;
        let high = handler >> 32;
        mem.write(platform_mem::IDT + vec * 16, &low.to_le_bytes());
        mem.write(platform_mem::IDT + vec * 16 + 8, &high.to_le_bytes());
    }
    Ring0 {
        return_path: code_va + (ret - start),
    }
}

/// Limit of the IDT (32 vectors).
pub const IDT_LIMIT: u16 = 32 * 16 - 1;
