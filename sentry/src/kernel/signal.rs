//! Signals: pending queues, dispositions, default actions, and the x86-64
//! signal frame (rt_sigframe) that handlers run on and rt_sigreturn undoes.

use crate::errno::Errno;
use crate::mm::MemoryManager;
use platform::Regs;

/// Number of signals.
pub const NSIG: usize = 64;

/// Bit of signal `sig` in a mask.
pub fn bit(sig: i32) -> u64 {
    1u64 << (sig - 1)
}

/// Signals that can be neither caught, blocked nor ignored.
pub const UNBLOCKABLE: u64 = (1 << (libc::SIGKILL - 1)) | (1 << (libc::SIGSTOP - 1));

/// `sa_flags` bits.
pub const SA_SIGINFO: u64 = 4;
/// Restart interrupted syscalls.
pub const SA_RESTART: u64 = 0x1000_0000;
/// Run on the alternate stack.
pub const SA_ONSTACK: u64 = 0x0800_0000;
/// Do not block the signal while its handler runs.
pub const SA_NODEFER: u64 = 0x4000_0000;
/// Reset to SIG_DFL when delivered.
pub const SA_RESETHAND: u64 = 0x8000_0000;
/// Children that exit are not turned into zombies.
pub const SA_NOCLDWAIT: u64 = 2;

/// A signal disposition as the kernel's `struct sigaction` holds it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct SigAction {
    /// Handler address, SIG_DFL (0) or SIG_IGN (1).
    pub handler: u64,
    /// SA_* flags.
    pub flags: u64,
    /// sa_restorer.
    pub restorer: u64,
    /// Signals blocked while the handler runs.
    pub mask: u64,
}

// SAFETY: four u64s.
unsafe impl crate::mm::Plain for SigAction {}

/// What a signal does when its disposition is SIG_DFL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DefaultAction {
    /// Nothing.
    Ignore,
    /// End the process.
    Terminate,
    /// End the process and report a core dump.
    Core,
    /// Stop the process (job control).
    Stop,
    /// Continue a stopped process.
    Continue,
}

/// The default action of `sig`.
pub fn default_action(sig: i32) -> DefaultAction {
    match sig {
        libc::SIGCHLD | libc::SIGURG | libc::SIGWINCH => DefaultAction::Ignore,
        libc::SIGCONT => DefaultAction::Continue,
        libc::SIGSTOP | libc::SIGTSTP | libc::SIGTTIN | libc::SIGTTOU => DefaultAction::Stop,
        libc::SIGQUIT
        | libc::SIGILL
        | libc::SIGTRAP
        | libc::SIGABRT
        | libc::SIGBUS
        | libc::SIGFPE
        | libc::SIGSEGV
        | libc::SIGXCPU
        | libc::SIGXFSZ
        | libc::SIGSYS => DefaultAction::Core,
        _ => DefaultAction::Terminate,
    }
}

/// A `siginfo_t`, kept in its 128-byte Linux layout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SigInfo(pub [u8; 128]);

impl SigInfo {
    fn put32(&mut self, off: usize, v: i32) {
        self.0[off..off + 4].copy_from_slice(&v.to_le_bytes());
    }

    fn put64(&mut self, off: usize, v: u64) {
        self.0[off..off + 8].copy_from_slice(&v.to_le_bytes());
    }

    /// The signal number.
    pub fn signo(&self) -> i32 {
        i32::from_le_bytes(self.0[0..4].try_into().unwrap())
    }

    /// `si_code`.
    pub fn code(&self) -> i32 {
        i32::from_le_bytes(self.0[8..12].try_into().unwrap())
    }

    /// A bare signal with `si_code`.
    pub fn new(signo: i32, code: i32) -> SigInfo {
        let mut s = SigInfo([0; 128]);
        s.put32(0, signo);
        s.put32(8, code);
        s
    }

    /// Sent by kill/tgkill from `pid` running as `uid`.
    pub fn user(signo: i32, code: i32, pid: i32, uid: u32) -> SigInfo {
        let mut s = SigInfo::new(signo, code);
        s.put32(16, pid);
        s.put32(20, uid as i32);
        s
    }

    /// A fault at `addr`.
    pub fn fault(signo: i32, code: i32, addr: u64) -> SigInfo {
        let mut s = SigInfo::new(signo, code);
        s.put64(16, addr);
        s
    }

    /// SIGCHLD for a child that changed state.
    pub fn child(code: i32, pid: i32, uid: u32, status: i32) -> SigInfo {
        let mut s = SigInfo::user(libc::SIGCHLD, code, pid, uid);
        s.put32(24, status);
        s
    }

    /// Changes the signal number (a child's exit signal other than SIGCHLD).
    pub fn set_signo(&mut self, signo: i32) {
        self.put32(0, signo);
    }

    /// From raw application bytes (rt_sigqueueinfo).
    pub fn from_bytes(b: [u8; 128]) -> SigInfo {
        SigInfo(b)
    }
}

/// Pending signals of a thread or a process.
#[derive(Clone, Debug, Default)]
pub struct SigQueue {
    /// One entry per queued instance; standard signals are queued once.
    entries: Vec<SigInfo>,
}

impl SigQueue {
    /// The set of pending signals.
    pub fn set(&self) -> u64 {
        self.entries.iter().fold(0, |m, i| m | bit(i.signo()))
    }

    /// Queues a signal; a standard signal already pending is merged.
    pub fn push(&mut self, info: SigInfo) {
        let sig = info.signo();
        if sig < libc::SIGRTMIN() && self.set() & bit(sig) != 0 {
            return;
        }
        self.entries.push(info);
    }

    /// Takes the lowest pending signal not in `blocked`.
    pub fn pop(&mut self, blocked: u64) -> Option<SigInfo> {
        let deliverable = self.set() & !(blocked & !UNBLOCKABLE);
        if deliverable == 0 {
            return None;
        }
        let sig = deliverable.trailing_zeros() as i32 + 1;
        let i = self.entries.iter().position(|e| e.signo() == sig)?;
        Some(self.entries.remove(i))
    }

    /// Drops every pending instance of `sig`.
    pub fn discard(&mut self, sig: i32) {
        self.entries.retain(|e| e.signo() != sig);
    }
}

/// `uc_flags`: the frame has an XSAVE area.
const UC_FP_XSTATE: u64 = 1;
/// `uc_flags`: the frame carries ss.
const UC_SIGCONTEXT_SS: u64 = 2;
/// `uc_flags`: restore ss strictly.
const UC_STRICT_RESTORE_SS: u64 = 4;
/// Magic at the end of the XSAVE area in a frame.
const FP_XSTATE_MAGIC2: u32 = 0x4650_5845;
/// Size of `struct ucontext` (kernel layout, 8-byte sigset).
const UCONTEXT_SIZE: u64 = 304;
/// Offset of `uc_mcontext` in the ucontext.
const MCONTEXT_OFF: u64 = 40;
/// Offset of `uc_sigmask` in the ucontext.
const SIGMASK_OFF: u64 = 296;

/// The alternate signal stack of a thread.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AltStack {
    /// ss_sp.
    pub sp: u64,
    /// ss_flags.
    pub flags: i32,
    /// ss_size.
    pub size: u64,
}

impl AltStack {
    /// No alternate stack.
    pub const DISABLED: AltStack = AltStack {
        sp: 0,
        flags: libc::SS_DISABLE,
        size: 0,
    };

    /// Whether `sp` is on this stack.
    pub fn contains(&self, sp: u64) -> bool {
        self.flags & libc::SS_DISABLE == 0 && sp > self.sp && sp <= self.sp + self.size
    }
}

/// Builds the frame for a handler and points `regs` at it.
/// `mask` is the signal mask to restore on return.
#[allow(clippy::too_many_arguments)]
pub fn setup_frame(
    mm: &MemoryManager,
    regs: &mut Regs,
    fp: &[u8],
    info: &SigInfo,
    action: &SigAction,
    mask: u64,
    alt: &AltStack,
) -> Result<(), Errno> {
    let on_alt = alt.contains(regs.rsp);
    let mut sp = if action.flags & SA_ONSTACK != 0 && alt.flags & libc::SS_DISABLE == 0 && !on_alt {
        alt.sp + alt.size
    } else {
        regs.rsp - 128 // skip the red zone
    };
    // The XSAVE area, 64-byte aligned, with its closing magic.
    let fp_addr = if fp.is_empty() {
        0
    } else {
        sp = (sp - fp.len() as u64 - 4) & !63;
        mm.copy_out(sp, fp)?;
        mm.copy_out(sp + fp.len() as u64, &FP_XSTATE_MAGIC2.to_le_bytes())?;
        sp
    };
    let frame = ((sp - 8 - UCONTEXT_SIZE - 128) & !15) - 8;
    let uc = frame + 8;
    let si = uc + UCONTEXT_SIZE;
    let mut ucb = [0u8; UCONTEXT_SIZE as usize];
    let put = |b: &mut [u8], off: u64, v: u64| {
        b[off as usize..off as usize + 8].copy_from_slice(&v.to_le_bytes())
    };
    let flags =
        UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS | if fp.is_empty() { 0 } else { UC_FP_XSTATE };
    put(&mut ucb, 0, flags);
    put(&mut ucb, 16, alt.sp);
    put(
        &mut ucb,
        24,
        (alt.flags | if on_alt { libc::SS_ONSTACK } else { 0 }) as u32 as u64,
    );
    put(&mut ucb, 32, alt.size);
    let r = regs;
    let gprs = [
        r.r8, r.r9, r.r10, r.r11, r.r12, r.r13, r.r14, r.r15, r.rdi, r.rsi, r.rbp, r.rbx, r.rdx,
        r.rax, r.rcx, r.rsp, r.rip, r.eflags,
    ];
    for (i, v) in gprs.iter().enumerate() {
        put(&mut ucb, MCONTEXT_OFF + 8 * i as u64, *v);
    }
    // cs, gs, fs, ss as u16s.
    let segs = (r.cs & 0xffff) | ((r.ss & 0xffff) << 48);
    put(&mut ucb, MCONTEXT_OFF + 144, segs);
    let signo = info.signo();
    if matches!(signo, libc::SIGSEGV | libc::SIGBUS) {
        put(&mut ucb, MCONTEXT_OFF + 160, 14); // trapno: page fault
        put(
            &mut ucb,
            MCONTEXT_OFF + 176,
            u64::from_le_bytes(info.0[16..24].try_into().unwrap()),
        );
    }
    put(&mut ucb, MCONTEXT_OFF + 168, mask); // oldmask
    put(&mut ucb, MCONTEXT_OFF + 184, fp_addr);
    put(&mut ucb, SIGMASK_OFF, mask);
    mm.copy_out(frame, &action.restorer.to_le_bytes())?;
    mm.copy_out(uc, &ucb)?;
    mm.copy_out(si, &info.0)?;
    r.rip = action.handler;
    r.rsp = frame;
    r.rdi = signo as u64;
    r.rsi = si;
    r.rdx = uc;
    r.rax = 0;
    // Handlers start with the direction and trap flags clear.
    r.eflags &= !(0x400 | 0x100);
    Ok(())
}

/// What rt_sigreturn restores.
pub struct Restored {
    /// Registers.
    pub regs: Regs,
    /// The signal mask.
    pub mask: u64,
    /// Where the XSAVE area is (0 if none).
    pub fp_addr: u64,
    /// The alternate stack recorded in the frame.
    pub alt: AltStack,
}

/// Reads the frame that `regs.rsp` points at (the handler's `ret` popped
/// the return address) and returns the state to restore.
pub fn restore_frame(mm: &MemoryManager, regs: &Regs) -> Result<Restored, Errno> {
    let uc = regs.rsp;
    let mut b = [0u8; UCONTEXT_SIZE as usize];
    mm.copy_in(uc, &mut b)?;
    let get = |off: u64| u64::from_le_bytes(b[off as usize..off as usize + 8].try_into().unwrap());
    let mut r = *regs;
    let g: Vec<u64> = (0..18).map(|i| get(MCONTEXT_OFF + 8 * i)).collect();
    r.r8 = g[0];
    r.r9 = g[1];
    r.r10 = g[2];
    r.r11 = g[3];
    r.r12 = g[4];
    r.r13 = g[5];
    r.r14 = g[6];
    r.r15 = g[7];
    r.rdi = g[8];
    r.rsi = g[9];
    r.rbp = g[10];
    r.rbx = g[11];
    r.rdx = g[12];
    r.rax = g[13];
    r.rcx = g[14];
    r.rsp = g[15];
    r.rip = g[16];
    // Only the flags user code may change (CF PF AF ZF SF TF DF OF AC RF).
    const USER_FLAGS: u64 = 0x40dd5 | 0x10000;
    r.eflags = (regs.eflags & !USER_FLAGS) | (g[17] & USER_FLAGS);
    r.orig_rax = u64::MAX;
    Ok(Restored {
        regs: r,
        mask: get(SIGMASK_OFF) & !UNBLOCKABLE,
        fp_addr: get(MCONTEXT_OFF + 184),
        alt: AltStack {
            sp: get(16),
            flags: (get(24) as i32) & !libc::SS_ONSTACK,
            size: get(32),
        },
    })
}
