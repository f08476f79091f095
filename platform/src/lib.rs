//! The boundary between the sentry and whatever runs application code.
//!
//! The sentry owns all application state (registers, memory, files). A
//! platform only *runs* application code in an address space that the sentry
//! describes, and reports why the code stopped: a system call, a fault, a
//! signal, or an interruption requested by the sentry.

use std::any::Any;
use std::sync::Arc;

/// Errors a platform can report. None of them is caused by the application:
/// they mean the platform itself failed (a host call failed, a stub died).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A host system call failed.
    #[error("{op}: {source}")]
    Host {
        /// What the platform was doing.
        op: &'static str,
        /// The host error.
        source: std::io::Error,
    },
    /// The platform cannot run on this host (missing device, kernel feature).
    #[error("platform unavailable: {0}")]
    Unavailable(String),
    /// The process or VM that ran the application disappeared.
    #[error("application runner died: {0}")]
    RunnerDied(String),
    /// The caller broke a rule of the platform (e.g. used an address space
    /// from a thread that does not own it).
    #[error("platform misuse: {0}")]
    Misuse(&'static str),
}

impl Error {
    /// Wraps the current host `errno` for operation `op`.
    pub fn last_os(op: &'static str) -> Error {
        Error::Host {
            op,
            source: std::io::Error::last_os_error(),
        }
    }
}

/// Result of platform operations.
pub type Result<T> = std::result::Result<T, Error>;

/// The x86-64 general purpose registers, laid out as the kernel's
/// `user_regs_struct` so that platforms can hand them to the host unchanged.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct Regs {
    pub r15: u64,
    pub r14: u64,
    pub r13: u64,
    pub r12: u64,
    pub rbp: u64,
    pub rbx: u64,
    pub r11: u64,
    pub r10: u64,
    pub r9: u64,
    pub r8: u64,
    pub rax: u64,
    pub rcx: u64,
    pub rdx: u64,
    pub rsi: u64,
    pub rdi: u64,
    pub orig_rax: u64,
    pub rip: u64,
    pub cs: u64,
    pub eflags: u64,
    pub rsp: u64,
    pub ss: u64,
    pub fs_base: u64,
    pub gs_base: u64,
    pub ds: u64,
    pub es: u64,
    pub fs: u64,
    pub gs: u64,
}

impl Regs {
    /// The six system call arguments, in the amd64 syscall order.
    pub fn syscall_args(&self) -> [u64; 6] {
        [self.rdi, self.rsi, self.rdx, self.r10, self.r8, self.r9]
    }
}

/// The floating point and vector register state of a thread, in the
/// processor's XSAVE layout. Opaque to the sentry except for copying.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FpState(pub Vec<u8>);

/// Page protections of a mapping, as the application asked for them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Perms {
    /// Readable.
    pub read: bool,
    /// Writable.
    pub write: bool,
    /// Executable.
    pub exec: bool,
}

impl Perms {
    /// From `PROT_*` bits.
    pub fn from_prot(prot: i32) -> Perms {
        Perms {
            read: prot & libc::PROT_READ != 0,
            write: prot & libc::PROT_WRITE != 0,
            exec: prot & libc::PROT_EXEC != 0,
        }
    }

    /// To `PROT_*` bits.
    pub fn to_prot(self) -> i32 {
        let mut p = 0;
        if self.read {
            p |= libc::PROT_READ;
        }
        if self.write {
            p |= libc::PROT_WRITE;
        }
        if self.exec {
            p |= libc::PROT_EXEC;
        }
        p
    }

    /// No access at all.
    pub const NONE: Perms = Perms {
        read: false,
        write: false,
        exec: false,
    };
}

/// What the application did when it faulted, as far as the platform knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SigInfo {
    /// Signal number (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP, ...).
    pub signo: i32,
    /// `si_code`.
    pub code: i32,
    /// `si_addr` for faults, 0 otherwise.
    pub addr: u64,
}

/// Why application code stopped running.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// The application executed `syscall`; the number is in `orig_rax`, the
    /// arguments in the argument registers, `rip` points after the instruction.
    Syscall,
    /// A memory access fault at `info.addr` (SIGSEGV or SIGBUS from the host).
    Fault(SigInfo),
    /// Another synchronous exception (SIGILL, SIGFPE, SIGTRAP) or a host signal.
    Signal(SigInfo),
    /// The sentry asked the context to stop via its [`Interrupter`].
    Interrupted,
}

/// Runs application code. One platform exists per sandbox.
pub trait Platform: Send + Sync {
    /// The name users select it by (`--platform=NAME`).
    fn name(&self) -> &'static str;
    /// The lowest and one past the highest address an application may map.
    fn address_range(&self) -> (u64, u64);
    /// A new, empty application address space.
    fn new_address_space(&self) -> Result<Arc<dyn AddressSpace>>;
    /// A new execution context; one per task (application thread), made on
    /// the host thread that will use it. `home` is the CPU it should run on
    /// (see [`Context::home_cpu`]); None lets the platform spread contexts
    /// over the CPUs.
    fn new_context(&self, home: Option<usize>) -> Result<Box<dyn Context>>;
}

/// The page mappings of one application address space.
///
/// Every page the application can touch is a range of the sentry's memory
/// file; the platform makes those ranges visible at application addresses.
pub trait AddressSpace: Send + Sync + Any {
    /// Maps `[memfd_offset, memfd_offset + len)` of the memory file at
    /// application address `addr`, replacing whatever was there.
    fn map(&self, addr: u64, len: u64, memfd_offset: u64, perms: Perms) -> Result<()>;
    /// Removes all mappings in `[addr, addr + len)`.
    fn unmap(&self, addr: u64, len: u64) -> Result<()>;
    /// Changes the protection of already mapped pages in `[addr, addr + len)`.
    fn protect(&self, addr: u64, len: u64, perms: Perms) -> Result<()>;
    /// Prepares another application thread in this address space. Called
    /// on the host thread of the task that creates it (clone); the returned
    /// token is handed to [`AddressSpace::adopt_thread`] on the new task's
    /// host thread.
    fn new_thread(&self) -> Result<u64>;
    /// Makes the calling host thread the runner of the thread `token`.
    fn adopt_thread(&self, token: u64) -> Result<()>;
    /// Ends the calling host thread's application thread (thread exit).
    fn release_thread(&self);
    /// For downcasting by the platform that created it.
    fn as_any(&self) -> &dyn Any;
}

/// Kicks a task out of application code from another thread, so that it
/// notices a signal or an exit. A kick that arrives while the task is not
/// running application code is dropped: the sentry checks for pending work
/// before it switches to the application.
pub trait Interrupter: Send + Sync {
    /// Stops the task's application code soon; its `switch` returns
    /// [`Stop::Interrupted`].
    fn interrupt(&self);
}

/// The execution state the platform keeps for one task.
pub trait Context: Send {
    /// Runs application code in `asp` starting from `regs` until it stops;
    /// on return `regs` holds the application's registers.
    fn switch(&mut self, asp: &dyn AddressSpace, regs: &mut Regs) -> Result<Stop>;
    /// CPU time application code has used in the address space the task
    /// last ran in (all its threads; not counting the sentry's work).
    fn cpu_time(&self) -> std::time::Duration;
    /// A clock other threads can read: the application CPU time of the
    /// address space this task runs in (follows it across exec).
    fn cpu_clock(&self) -> Arc<dyn Fn() -> std::time::Duration + Send + Sync>;
    /// CPU time application code has used on the calling host thread
    /// (the task's own) where the platform runs application code on that
    /// thread (KVM), so that the sentry can tell its own share of the
    /// thread's clock; zero where application code runs elsewhere.
    fn app_time_on_this_thread(&self) -> std::time::Duration {
        std::time::Duration::ZERO
    }
    /// A handle other threads use to kick this task out of application code.
    fn interrupter(&self) -> Arc<dyn Interrupter>;
    /// The task's FP/vector state as it was when the task last stopped.
    fn fpstate(&mut self, asp: &dyn AddressSpace) -> Result<FpState>;
    /// Replaces the task's FP/vector state before it next runs.
    fn set_fpstate(&mut self, asp: &dyn AddressSpace, fp: &FpState) -> Result<()>;
    /// The CPU this context keeps to, if it keeps to one: a child that its
    /// parent waits for (vfork) is best made there.
    fn home_cpu(&self) -> Option<usize>;
}
