//! The stub: the only code that exists in an application's host process
//! besides the application itself.
//!
//! A stub process is forked from the sentry. Before any application code can
//! run, the child closes every fd except the memory, control and frames
//! files, installs the stub seccomp filter ([`stub_filter`]), makes itself
//! traceable, and jumps into the stub page, which unmaps everything else
//! (the sentry's code, heap, stacks) and stops. From then on the tracer only
//! ever makes it run application code (under `PTRACE_SYSEMU`, or under
//! `PTRACE_CONT` after `runsc_stub_return`, where the filter stops every
//! system call) or stub code that makes keyed host system calls: one at
//! [`StubPage::syscall_addr`], a batch, a clone.

use crate::PAGE_SIZE;
use platform::{Error, Result};

/// Highest user address + 1 on x86-64 with 4-level paging.
pub const TASK_SIZE: u64 = 0x7fff_ffff_f000;

/// The fd number at which the memory file lives in every stub.
pub const STUB_MEMFD: i32 = 100;
/// The fd number of the control file (see ctrl.rs) in a stub, while it
/// starts: it maps the file and closes the fd.
pub const STUB_CTRLFD: i32 = 101;
/// The fd number of the frames file (see `StubPage::frame_addr`) in every
/// stub: a stub forked for the pool maps its own page of it.
pub const STUB_FRAMEFD: i32 = 102;

// Every host system call a stub makes carries the stub key (see
// `stub_filter`), which only the sentry and stub registers ever hold: r15
// has it whenever stub code runs, and KEYED puts it where the call ignores
// it (arg5; for mmap, which uses all six, the upper halves of flags and
// fd). Clobbers r11, which the syscall instruction clobbers anyway.
macro_rules! keyed_syscall {
    () => {
        concat!(
            "cmp eax, 9\n",
            "jne 21f\n",
            "mov r11, r15\n",
            "shl r11, 32\n",
            "or r8, r11\n",
            "mov r11, r15\n",
            "shr r11, 32\n",
            "shl r11, 32\n",
            "or r10, r11\n",
            "jmp 22f\n",
            "21:\n",
            "mov r9, r15\n",
            "22:\n",
            "syscall\n",
        )
    };
}

std::arch::global_asm!(
    ".pushsection .text.runsc_stub, \"ax\", @progbits",
    ".p2align 12",
    ".globl runsc_stub_start",
    "runsc_stub_start:",
    // Entry after fork: rdi = this page's address, rsi = its length,
    // rdx = where the control pages go, r8 = their length, r15 = the key.
    "mov r12, rdi",
    "mov r13, rsi",
    "mov r14, rdx",
    "mov rbx, r8",
    // munmap(0, page)
    "mov eax, 11",
    "xor edi, edi",
    "mov rsi, r12",
    keyed_syscall!(),
    // munmap(page + len, TASK_SIZE - (page + len))
    "mov eax, 11",
    "lea rdi, [r12 + r13]",
    "movabs rsi, 0x7ffffffff000",
    "sub rsi, rdi",
    keyed_syscall!(),
    // mmap(ctrl, ctrl_len, PROT_READ, MAP_SHARED | MAP_FIXED, STUB_CTRLFD, 0)
    "mov eax, 9",
    "mov rdi, r14",
    "mov rsi, rbx",
    "mov edx, 1",
    "mov r10d, 0x11",
    "mov r8d, 101",
    "xor r9d, r9d",
    keyed_syscall!(),
    // close(STUB_CTRLFD): the mapping is all a stub needs.
    "mov eax, 3",
    "mov edi, 101",
    keyed_syscall!(),
    // kill(getpid(), SIGSTOP): tell the tracer we are ready.
    "mov eax, 39",
    keyed_syscall!(),
    "mov edi, eax",
    "mov esi, 19",
    "mov eax, 62",
    keyed_syscall!(),
    "int3",
    // A batch of system calls: rdi = array of {nr, args[6]}, rsi = count,
    // rbp = 0 or a register frame (see `runsc_stub_return`). Traps with
    // ud2 at the first failure (r14 = how many succeeded, rax = the failed
    // one's result); when all succeeded, traps with int3 (so that the
    // tracer need not read registers) or, given a frame, returns to it.
    ".globl runsc_stub_batch",
    "runsc_stub_batch:",
    "mov r12, rdi",
    "mov r13, rsi",
    "xor r14d, r14d",
    "4:",
    "cmp r14, r13",
    "jae 5f",
    "mov rax, [r12]",
    "mov rdi, [r12 + 8]",
    "mov rsi, [r12 + 16]",
    "mov rdx, [r12 + 24]",
    "mov r10, [r12 + 32]",
    "mov r8, [r12 + 40]",
    "mov r9, [r12 + 48]",
    keyed_syscall!(),
    "cmp rax, -4095",
    "jae 6f",
    "add r12, 56",
    "inc r14",
    "jmp 4b",
    "6:",
    "ud2",
    "5:",
    "test rbp, rbp",
    "jnz runsc_stub_return",
    "int3",
    // Loads every register from the frame at rbp (user_regs_struct: the
    // general registers, orig_rax, then rip, cs, rflags, rsp, ss as iretq
    // takes them) and so returns to application code without a stop. The
    // frame lies in a control page, which nothing in the stub can write;
    // only reads happen here.
    ".globl runsc_stub_return",
    "runsc_stub_return:",
    "mov rsp, rbp",
    "pop r15",
    "pop r14",
    "pop r13",
    "pop r12",
    "pop rbp",
    "pop rbx",
    "pop r11",
    "pop r10",
    "pop r9",
    "pop r8",
    "pop rax",
    "pop rcx",
    "pop rdx",
    "pop rsi",
    "pop rdi",
    "add rsp, 8",
    "iretq",
    ".globl runsc_stub_return_end",
    "runsc_stub_return_end:",
    ".globl runsc_stub_syscall",
    "runsc_stub_syscall:",
    keyed_syscall!(),
    "int3",
    // clone() of a stub thread: the parent traps back to its tracer; the
    // child waits in pause() until its own tracer seizes it.
    ".globl runsc_stub_clone",
    "runsc_stub_clone:",
    keyed_syscall!(),
    "test rax, rax",
    "jz 3f",
    "int3",
    // fork() of the template stub (see pool.rs): the parent traps back to
    // its tracer; the child asks to die with its parent, maps its own page
    // of the frames file (rbx = its offset) read-only at rbp unless rbp is
    // 0, and parks.
    ".globl runsc_stub_fork",
    "runsc_stub_fork:",
    keyed_syscall!(),
    "test rax, rax",
    "jz 7f",
    "int3",
    "7:",
    "mov eax, 157",
    "mov edi, 1",
    "mov esi, 9",
    keyed_syscall!(),
    "test rbp, rbp",
    "jz 3f",
    "mov eax, 9",
    "mov rdi, rbp",
    "mov esi, 4096",
    "mov edx, 1",
    "mov r10d, 0x11",
    "mov r8d, 102",
    "mov r9, rbx",
    keyed_syscall!(),
    // A parked stub (see pool.rs) or a new stub thread waits here to be seized.
    ".globl runsc_stub_park",
    "runsc_stub_park:",
    "3:",
    "mov eax, 34",
    keyed_syscall!(),
    "jmp 3b",
    ".p2align 12",
    ".globl runsc_stub_end",
    "runsc_stub_end:",
    ".popsection",
);

extern "C" {
    // glibc (2.35+) registers every thread for restartable sequences and
    // exports where the area is; a forked stub must unregister it before it
    // unmaps the memory, or the kernel kills it on its next return to user mode.
    static __rseq_offset: isize;
    static __rseq_size: u32;
    static runsc_stub_start: u8;
    static runsc_stub_syscall: u8;
    static runsc_stub_clone: u8;
    static runsc_stub_park: u8;
    static runsc_stub_batch: u8;
    static runsc_stub_return: u8;
    static runsc_stub_return_end: u8;
    static runsc_stub_fork: u8;
    static runsc_stub_end: u8;
}

/// The stub code, copied once to a fixed high address of the sentry so that
/// every forked stub has it at the same place, out of the application's way.
#[derive(Clone, Copy, Debug)]
pub struct StubPage {
    /// Where the page starts (in the sentry and in every stub).
    pub addr: u64,
    /// Its length.
    pub len: u64,
    /// The key of the stubs' host system calls (see `stub_filter`).
    pub key: StubKey,
}

/// A random 64-bit value that every host system call of stub code
/// carries and that application code cannot know: stub seccomp filters
/// let only keyed calls run, so that an application that runs without
/// `PTRACE_SYSEMU` (straight after `runsc_stub_return`) cannot make host
/// system calls even by jumping into the stub's code.
#[derive(Clone, Copy)]
pub struct StubKey(pub u64);

impl std::fmt::Debug for StubKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StubKey(..)")
    }
}

impl StubKey {
    /// A fresh key whose halves never look like the upper half of a
    /// sign-extended int (0 or all ones), which mmap's fd and flags
    /// normally have.
    fn new() -> Result<StubKey> {
        loop {
            let mut key = 0u64;
            // SAFETY: getrandom writes at most 8 bytes into `key`.
            let n = unsafe { libc::getrandom((&mut key as *mut u64).cast(), 8, 0) };
            if n != 8 {
                return Err(Error::last_os("getrandom stub key"));
            }
            let ok = |half: u64| half != 0 && half != 0xffff_ffff;
            if ok(key & 0xffff_ffff) && ok(key >> 32) {
                return Ok(StubKey(key));
            }
        }
    }
}

impl StubPage {
    /// Copies the stub code to the highest free page-aligned address we can
    /// get near the top of the address space.
    pub fn install() -> Result<StubPage> {
        // SAFETY: taking the addresses of linker symbols defined above.
        let (start, end) = unsafe {
            (
                &runsc_stub_start as *const u8 as u64,
                &runsc_stub_end as *const u8 as u64,
            )
        };
        let len = end - start;
        let mut candidate = TASK_SIZE - 0x10_0000 - len;
        while candidate > 0x7f00_0000_0000 {
            // SAFETY: MAP_FIXED_NOREPLACE never replaces an existing mapping.
            let p = unsafe {
                libc::mmap(
                    candidate as *mut libc::c_void,
                    len as usize,
                    libc::PROT_READ | libc::PROT_WRITE,
                    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED_NOREPLACE,
                    -1,
                    0,
                )
            };
            if p != libc::MAP_FAILED && p as u64 == candidate {
                // SAFETY: both ranges are `len` bytes, the destination was just mapped writable.
                unsafe {
                    std::ptr::copy_nonoverlapping(start as *const u8, p as *mut u8, len as usize);
                    if libc::mprotect(p, len as usize, libc::PROT_READ | libc::PROT_EXEC) != 0 {
                        return Err(Error::last_os("mprotect stub"));
                    }
                }
                return Ok(StubPage {
                    addr: candidate,
                    len,
                    key: StubKey::new()?,
                });
            }
            if p != libc::MAP_FAILED {
                // SAFETY: an old kernel placed it elsewhere; undo our own mapping.
                unsafe { libc::munmap(p, len as usize) };
            }
            candidate -= 0x10_0000;
        }
        Err(Error::Unavailable("no room for the stub page".into()))
    }

    /// Address of the `syscall; int3` pair used to inject system calls.
    pub fn syscall_addr(&self) -> u64 {
        // SAFETY: taking the addresses of linker symbols defined above.
        let off = unsafe {
            &runsc_stub_syscall as *const u8 as u64 - &runsc_stub_start as *const u8 as u64
        };
        self.addr + off
    }

    /// Address of the clone entry (see the assembly above).
    pub fn clone_addr(&self) -> u64 {
        // SAFETY: taking the addresses of linker symbols defined above.
        let off = unsafe {
            &runsc_stub_clone as *const u8 as u64 - &runsc_stub_start as *const u8 as u64
        };
        self.addr + off
    }

    /// Address of the batch entry (see the assembly above).
    pub fn batch_addr(&self) -> u64 {
        // SAFETY: taking the addresses of linker symbols defined above.
        let off = unsafe {
            &runsc_stub_batch as *const u8 as u64 - &runsc_stub_start as *const u8 as u64
        };
        self.addr + off
    }

    /// Where `runsc_stub_return` starts and ends: a stop there came while
    /// the stub was loading an application register frame.
    pub fn return_range(&self) -> std::ops::Range<u64> {
        // SAFETY: taking the addresses of linker symbols defined above.
        let (start, end, base) = unsafe {
            (
                &runsc_stub_return as *const u8 as u64,
                &runsc_stub_return_end as *const u8 as u64,
                &runsc_stub_start as *const u8 as u64,
            )
        };
        self.addr + start - base..self.addr + end - base
    }

    /// Whether `rip` lies in the stub page.
    pub fn contains(&self, rip: u64) -> bool {
        (self.addr..self.addr + self.len).contains(&rip)
    }

    /// Address of the fork entry (see the assembly above).
    pub fn fork_addr(&self) -> u64 {
        // SAFETY: taking the addresses of linker symbols defined above.
        let off =
            unsafe { &runsc_stub_fork as *const u8 as u64 - &runsc_stub_start as *const u8 as u64 };
        self.addr + off
    }

    /// Where a stub's own control page (a page of the frames file) is
    /// mapped: right below the shared control pages, in the guard gap
    /// above application memory. Only this stub maps it, so what the
    /// sentry writes there (register frames for `runsc_stub_return`, the
    /// batch before it) no other application can read.
    pub fn frame_addr(&self) -> u64 {
        self.ctrl_addr() - PAGE_SIZE
    }

    /// Where the control pages are mapped in every stub: right below the
    /// stub page.
    pub fn ctrl_addr(&self) -> u64 {
        self.addr - crate::ctrl::CTRL_LEN
    }

    /// Address of the `pause()` loop where a stub waits to be seized.
    pub fn park_addr(&self) -> u64 {
        // SAFETY: taking the addresses of linker symbols defined above.
        let off =
            unsafe { &runsc_stub_park as *const u8 as u64 - &runsc_stub_start as *const u8 as u64 };
        self.addr + off
    }

    /// Forks a new stub process traced by the calling thread and waits until
    /// it has stripped itself. Returns its pid. `filter` is installed in the
    /// stub before it unmaps the sentry (see [`stub_filter`]).
    pub fn spawn(
        &self,
        memfd: i32,
        (ctrlfd, framefd): (i32, i32),
        filter: &[seccompiler::sock_filter],
    ) -> Result<libc::pid_t> {
        // SAFETY: the child only makes raw system calls (async-signal-safe)
        // and then jumps to the stub page, never returning into Rust code.
        let pid = unsafe { libc::fork() };
        if pid < 0 {
            return Err(Error::last_os("fork stub"));
        }
        if pid == 0 {
            // SAFETY: see above; we are the single-threaded child.
            unsafe { self.child(memfd, (ctrlfd, framefd), filter) }
        }
        let mut status = 0;
        loop {
            // SAFETY: plain waitpid on our own child.
            let r = unsafe { libc::waitpid(pid, &mut status, libc::__WALL) };
            if r == pid {
                break;
            }
            if r < 0 && std::io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
                return Err(Error::last_os("waitpid stub"));
            }
        }
        if !libc::WIFSTOPPED(status) || libc::WSTOPSIG(status) != libc::SIGSTOP {
            return Err(Error::RunnerDied(format!(
                "stub did not start (status {status:#x})"
            )));
        }
        let opts = crate::subprocess::TRACE_OPTIONS;
        // SAFETY: the child is stopped and traced by us.
        if unsafe { libc::ptrace(libc::PTRACE_SETOPTIONS, pid, 0, opts as libc::c_long) } != 0 {
            return Err(Error::last_os("PTRACE_SETOPTIONS"));
        }
        Ok(pid)
    }

    /// The child side of [`StubPage::spawn`].
    ///
    /// # Safety
    /// Must only be called in a freshly forked child.
    unsafe fn child(
        &self,
        memfd: i32,
        (ctrlfd, framefd): (i32, i32),
        filter: &[seccompiler::sock_filter],
    ) -> ! {
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
        libc::setsid();
        // Signals must reach the tracer as stops, never run sentry handlers.
        // Stubs forked from this one are reaped by the kernel.
        for sig in 1..=64 {
            if sig == libc::SIGCHLD {
                libc::signal(sig, libc::SIG_IGN);
            } else if sig != libc::SIGKILL && sig != libc::SIGSTOP {
                libc::signal(sig, libc::SIG_DFL);
            }
        }
        let empty: libc::sigset_t = std::mem::zeroed();
        libc::sigprocmask(libc::SIG_SETMASK, &empty, std::ptr::null_mut());
        unregister_rseq();
        if libc::ptrace(libc::PTRACE_TRACEME, 0, 0, 0) != 0 {
            libc::_exit(111);
        }
        // Through fds above all targets, so no dup2 clobbers another.
        let memfd = libc::fcntl(memfd, libc::F_DUPFD, 200);
        let ctrlfd = libc::fcntl(ctrlfd, libc::F_DUPFD, 200);
        let framefd = libc::fcntl(framefd, libc::F_DUPFD, 200);
        if libc::dup2(memfd, STUB_MEMFD) != STUB_MEMFD
            || libc::dup2(ctrlfd, STUB_CTRLFD) != STUB_CTRLFD
            || libc::dup2(framefd, STUB_FRAMEFD) != STUB_FRAMEFD
        {
            libc::_exit(112);
        }
        libc::syscall(libc::SYS_close_range, 0, STUB_MEMFD - 1, 0);
        libc::syscall(libc::SYS_close_range, STUB_FRAMEFD + 1, u32::MAX, 0);
        if seccompiler::apply_filter(filter).is_err() {
            libc::_exit(113);
        }
        std::arch::asm!(
            "jmp {entry}",
            entry = in(reg) self.addr,
            in("rdi") self.addr,
            in("rsi") self.len,
            in("rdx") self.ctrl_addr(),
            in("r8") crate::ctrl::CTRL_LEN,
            in("r15") self.key.0,
            options(noreturn)
        );
    }
}

/// The seccomp filter of every stub: the host system calls of stub code
/// (address-space changes the sentry asks for, thread and stub creation,
/// start-up), each only with the stub key (see [`StubKey`]). Any other
/// system call stops for the tracer (`SECCOMP_RET_TRACE`), which emulates
/// it as the application's, or fails with ENOSYS in an untraced stub.
/// Application code usually runs under `PTRACE_SYSEMU` and never reaches
/// the filter; it does right after `runsc_stub_return`.
pub fn stub_filter(key: StubKey) -> Result<seccompiler::BpfProgram> {
    use seccompiler::{
        SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
        SeccompRule, TargetArch,
    };
    let err =
        |e: seccompiler::BackendError| Error::Unavailable(format!("stub seccomp filter: {e}"));
    let cond = |arg: u8, op: SeccompCmpOp, value: u64| {
        SeccompCondition::new(arg, SeccompCmpArgLen::Qword, op, value).map_err(err)
    };
    const HIGH: u64 = 0xffff_ffff_0000_0000;
    let keyed = || cond(5, SeccompCmpOp::Eq, key.0);
    let rule = |conds: Vec<SeccompCondition>| -> Result<Vec<SeccompRule>> {
        Ok(vec![SeccompRule::new(conds).map_err(err)?])
    };
    let mut rules = std::collections::BTreeMap::new();
    for nr in [
        libc::SYS_munmap,
        libc::SYS_mprotect,
        libc::SYS_getpid,
        libc::SYS_clone,
        libc::SYS_pause,
        libc::SYS_exit,
        libc::SYS_close,
    ] {
        rules.insert(nr, rule(vec![keyed()?])?);
    }
    let sigstop = cond(1, SeccompCmpOp::Eq, libc::SIGSTOP as u64)?;
    rules.insert(libc::SYS_kill, rule(vec![sigstop, keyed()?])?);
    let pdeathsig = cond(0, SeccompCmpOp::Eq, libc::PR_SET_PDEATHSIG as u64)?;
    rules.insert(libc::SYS_prctl, rule(vec![pdeathsig, keyed()?])?);
    rules.insert(
        libc::SYS_mmap,
        rule(vec![
            cond(3, SeccompCmpOp::MaskedEq(HIGH), key.0 & HIGH)?,
            cond(4, SeccompCmpOp::MaskedEq(HIGH), key.0 << 32)?,
        ])?,
    );
    let filter = SeccompFilter::new(
        rules,
        SeccompAction::Trace(0),
        SeccompAction::Allow,
        TargetArch::x86_64,
    )
    .map_err(err)?;
    filter.try_into().map_err(err)
}

/// Unregisters the calling thread's rseq area (see `__rseq_offset`).
///
/// # Safety
/// Only for the forked stub child, which never runs glibc code again.
unsafe fn unregister_rseq() {
    const RSEQ_FLAG_UNREGISTER: i32 = 1;
    const RSEQ_SIG: u32 = 0x5305_3053;
    if __rseq_size == 0 {
        return;
    }
    let tp: u64;
    std::arch::asm!("mov {}, fs:0", out(reg) tp, options(nostack, readonly));
    let area = (tp as i64 + __rseq_offset as i64) as u64;
    // The registered length is 32 for glibc 2.35-2.39 and __rseq_size later.
    for len in [32, __rseq_size] {
        if libc::syscall(libc::SYS_rseq, area, len, RSEQ_FLAG_UNREGISTER, RSEQ_SIG) == 0 {
            return;
        }
    }
}

const _: () = assert!(PAGE_SIZE == 4096);
