//! The stub runs injected system calls and application code.

use platform::{Perms, Platform, Regs, Stop};
use platform_ptrace::PtracePlatform;

fn memfd() -> i32 {
    // SAFETY: valid name.
    let fd = unsafe { libc::memfd_create(c"t".as_ptr(), 0) };
    assert!(fd >= 0);
    // SAFETY: plain ftruncate.
    assert_eq!(unsafe { libc::ftruncate(fd, 1 << 20) }, 0);
    fd
}

#[test]
fn runs_code_and_stops_at_syscalls() {
    let fd = memfd();
    let p = PtracePlatform::new(fd).unwrap();
    let asp = p.new_address_space().unwrap();
    let rwx = Perms {
        read: true,
        write: true,
        exec: true,
    };
    asp.map(0x40_0000, 0x1000, 0, rwx).unwrap();
    // mov eax, 39; syscall; jmp $
    let code: [u8; 9] = [0xb8, 39, 0, 0, 0, 0x0f, 0x05, 0xeb, 0xfe];
    // SAFETY: writing our own memfd.
    unsafe { libc::pwrite(fd, code.as_ptr().cast(), code.len(), 0) };
    let mut ctx = p.new_context(None).unwrap();
    let mut regs = Regs {
        rip: 0x40_0000,
        eflags: 0x202,
        ..Regs::default()
    };
    let stop = ctx.switch(asp.as_ref(), &mut regs).unwrap();
    assert_eq!(stop, Stop::Syscall, "regs {regs:x?}");
    assert_eq!(regs.orig_rax, 39);
    assert_eq!(regs.rip, 0x40_0007);
}
