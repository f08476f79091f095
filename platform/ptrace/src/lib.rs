//! The ptrace platform: application code runs in stub processes that the
//! sentry traces with `PTRACE_SYSEMU`, so that every system call the
//! application makes stops before the host executes it.
//!
//! One stub process exists per application address space; its memory is the
//! sentry's memory file, mapped by system calls the sentry makes the stub
//! run (batched through read-only control pages, see `ctrl`). Each task's
//! host thread traces a stub thread of its own in the address space's stub
//! and is the only one that runs it. Stubs come ready-made from a pool
//! (`pool`), stub threads no task uses are parked for reuse, and tracers
//! keep to one CPU with their stubs (`cpus`).
//!
//! Mapping changes that must be made before the application runs again
//! (after mmap, mprotect, munmap, a lazy-mapping fault) go on the way back
//! to it: the stub makes them and then loads the application's registers
//! itself (`runsc_stub_return`), which saves a stop per change. The
//! application then runs under `PTRACE_CONT` until its next stop; its next
//! system call stops through the stub's seccomp filter instead of
//! `PTRACE_SYSEMU` (`SECCOMP_RET_TRACE`), since the filter lets through
//! only calls that carry the stub key (see `stub::StubKey`).

mod cpus;
mod ctrl;
mod pool;
mod ranges;
mod stub;
mod subprocess;

use std::sync::Arc;

use std::sync::atomic::{AtomicI64, Ordering};

use cpus::Cpus;
use platform::{
    AddressSpace, Context, Error, FpState, Interrupter, Platform, Regs, Result, SigInfo, Stop,
};
use pool::StubPool;
pub use stub::{StubPage, TASK_SIZE};
use subprocess::{get_regs, resume, siginfo, wait, Subprocess};

/// Page size of the host and the application.
pub const PAGE_SIZE: u64 = 4096;

/// The ptrace platform. Created once per sandbox.
pub struct PtracePlatform {
    stub: StubPage,
    /// CPUs to spread tasks over, measured before any thread is pinned.
    cpus: Arc<Cpus>,
    pool: StubPool,
    ctrl: Arc<ctrl::ControlFile>,
}

impl PtracePlatform {
    /// Prepares the platform: installs the stub page. `memfd` is the sentry's
    /// memory file, which every stub keeps at [`stub::STUB_MEMFD`].
    pub fn new(memfd: i32) -> Result<PtracePlatform> {
        let stub = StubPage::install()?;
        let ctrl = ctrl::ControlFile::new(c"runsc-stub-control")?;
        let frames = ctrl::ControlFile::new(c"runsc-stub-frames")?;
        let filter = Arc::new(stub::stub_filter(stub.key)?);
        Ok(PtracePlatform {
            stub,
            cpus: Arc::new(Cpus::new()),
            pool: StubPool::start(stub, memfd, ctrl.clone(), frames, filter)?,
            ctrl,
        })
    }
}

impl Platform for PtracePlatform {
    fn name(&self) -> &'static str {
        "ptrace"
    }

    fn address_range(&self) -> (u64, u64) {
        // Applications live below the stub's control pages, with a guard gap.
        (0x1_0000, self.stub.ctrl_addr() - 0x10_0000)
    }

    fn new_address_space(&self) -> Result<Arc<dyn AddressSpace>> {
        Ok(Arc::new(Subprocess::new(
            self.stub, &self.pool, &self.ctrl,
        )?))
    }

    fn new_context(&self, home: Option<usize>) -> Result<Box<dyn Context>> {
        let cpu = self.cpus.place(home);
        cpus::pin(0, cpu);
        Ok(Box::new(PtraceContext {
            cpus: self.cpus.clone(),
            home: cpu,
            cpu: -1,
            last_pid: Arc::new(std::sync::atomic::AtomicI32::new(0)),
            running: Arc::new(Running(AtomicI64::new(0))),
            held: None,
        }))
    }
}

/// Per-task state of the ptrace platform.
struct PtraceContext {
    cpus: Arc<Cpus>,
    /// The CPU the tracer is pinned to.
    home: usize,
    /// The CPU the stub was last pinned to (tracer and tracee share it).
    cpu: i32,
    /// The stub process that last ran the task (for its CPU clock).
    last_pid: Arc<std::sync::atomic::AtomicI32>,
    /// The stub thread running the task's application code, if any.
    running: Arc<Running>,
    /// The registers a stub thread held when it last stopped: (thread,
    /// [`subprocess::injects`] then, registers).
    held: Option<(libc::pid_t, u64, Regs)>,
}

/// `(tgid << 32) | tid` of the stub thread running application code, or 0.
struct Running(AtomicI64);

/// The host signal that kicks a stub out of application code. Applications
/// cannot send host signals (all their syscalls are emulated), so one that
/// arrives was sent by the sentry.
const KICK: i32 = libc::SIGURG;

impl Interrupter for Running {
    fn interrupt(&self) {
        let v = self.0.load(Ordering::SeqCst);
        if v != 0 {
            // SAFETY: tgkill to a thread of our own stub.
            unsafe { libc::syscall(libc::SYS_tgkill, (v >> 32) as i32, v as i32, KICK) };
        }
    }
}

fn subprocess(asp: &dyn AddressSpace) -> Result<&Subprocess> {
    let sp = asp
        .as_any()
        .downcast_ref::<Subprocess>()
        .ok_or(Error::Misuse("address space of another platform"))?;
    sp.current()?;
    Ok(sp)
}

impl Context for PtraceContext {
    fn fpstate(&mut self, asp: &dyn AddressSpace) -> Result<FpState> {
        subprocess(asp)?.get_fpstate()
    }

    fn set_fpstate(&mut self, asp: &dyn AddressSpace, fp: &FpState) -> Result<()> {
        subprocess(asp)?.set_fpstate(fp)
    }

    fn cpu_time(&self) -> std::time::Duration {
        stub_cpu_time(self.last_pid.load(Ordering::Relaxed))
    }

    fn cpu_clock(&self) -> Arc<dyn Fn() -> std::time::Duration + Send + Sync> {
        let pid = self.last_pid.clone();
        Arc::new(move || stub_cpu_time(pid.load(Ordering::Relaxed)))
    }

    fn interrupter(&self) -> Arc<dyn Interrupter> {
        self.running.clone()
    }

    fn home_cpu(&self) -> Option<usize> {
        Some(self.home)
    }

    fn switch(&mut self, asp: &dyn AddressSpace, regs: &mut Regs) -> Result<Stop> {
        let sp = subprocess(asp)?;
        let tid = sp.current()?;
        self.last_pid.store(sp.pid(), Ordering::Relaxed);
        let home = self.cpus.enter(self.home);
        if home != self.home {
            cpus::pin(0, home);
            self.home = home;
        }
        // SAFETY: sched_getcpu has no preconditions.
        let cpu = unsafe { libc::sched_getcpu() };
        if cpu >= 0 && cpu != self.cpu {
            cpus::pin(tid, cpu as usize);
            self.cpu = cpu;
        }
        let r = self.run(sp, tid, regs);
        self.cpus.leave(self.home);
        r
    }
}

impl PtraceContext {
    /// Runs application code in stub thread `tid` until it stops for the
    /// sentry. Mapping changes it must see are made on the way (see
    /// [`Subprocess::start_return`]); new mappings that can wait are made
    /// when the application first faults on them, then it goes on.
    fn run(&mut self, sp: &Subprocess, tid: libc::pid_t, regs: &mut Regs) -> Result<Stop> {
        let mut returning = None;
        if sp.must_flush(regs.rip) {
            returning = sp.start_return(regs)?;
        }
        loop {
            let status = self.resume(sp, tid, regs, returning.is_some())?;
            if !libc::WIFSTOPPED(status) {
                return Err(Error::RunnerDied(format!("stub exited: {status:#x}")));
            }
            let stopped = get_regs(tid)?;
            if let Some(ops) = returning.take() {
                if sp.stub().contains(stopped.rip) {
                    // Stopped before it got back to the application: a
                    // kick, or a frame the CPU refused (the host then
                    // reports the application's own fault on resume).
                    sp.finish_return(tid, status, &stopped, &ops, regs)?;
                    self.held = None;
                    if status >> 16 != 0 || libc::WSTOPSIG(status) == KICK {
                        return Ok(Stop::Interrupted);
                    }
                    continue;
                }
            }
            *regs = stopped;
            let sig = libc::WSTOPSIG(status);
            if subprocess::is_seccomp_stop(status) {
                // The host still holds the system call number in orig_rax:
                // the next resume must load every register.
                self.held = None;
                return Ok(Stop::Syscall);
            }
            self.held = Some((tid, subprocess::injects(), *regs));
            if sig == libc::SIGTRAP | 0x80 {
                return Ok(Stop::Syscall);
            }
            if status >> 16 != 0 {
                // A ptrace event stop (PTRACE_INTERRUPT, group stop): no signal.
                return Ok(Stop::Interrupted);
            }
            if (sig == libc::SIGSEGV || sig == libc::SIGBUS) && sp.has_pending() {
                returning = sp.start_return(regs)?;
                continue;
            }
            let info = siginfo(tid)?;
            if sig == KICK && info.si_code == libc::SI_TKILL {
                return Ok(Stop::Interrupted);
            }
            let info = SigInfo {
                signo: info.si_signo,
                code: info.si_code,
                // SAFETY: si_addr is valid to read for every siginfo; it is
                // only meaningful for faults.
                addr: unsafe { info.si_addr() } as u64,
            };
            return Ok(match sig {
                libc::SIGSEGV | libc::SIGBUS => Stop::Fault(info),
                _ => Stop::Signal(info),
            });
        }
    }

    /// Resumes stub thread `tid` in application code with `regs` and waits
    /// until it stops; returns the wait status. With `returning`, the
    /// thread is already set to run stub code that returns to `regs`.
    fn resume(
        &self,
        sp: &Subprocess,
        tid: libc::pid_t,
        regs: &mut Regs,
        returning: bool,
    ) -> Result<i32> {
        let request = if returning {
            libc::PTRACE_CONT
        } else {
            let held = self
                .held
                .as_ref()
                .filter(|(t, n, _)| *t == tid && *n == subprocess::injects())
                .map(|(_, _, r)| r);
            sp.set_app_regs(tid, regs, held)?;
            libc::PTRACE_SYSEMU
        };
        self.running
            .0
            .store(((sp.pid() as i64) << 32) | tid as i64, Ordering::SeqCst);
        let r = resume(tid, request).and_then(|_| wait(tid));
        self.running.0.store(0, Ordering::SeqCst);
        r
    }
}

/// The scheduler CPU clock of stub process `pid` (Linux does not let us
/// read another process's per-thread clocks).
fn stub_cpu_time(pid: libc::pid_t) -> std::time::Duration {
    if pid == 0 {
        return std::time::Duration::ZERO;
    }
    let clock = ((!pid) << 3) | 2;
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: valid out pointer; a dead process just fails.
    if unsafe { libc::clock_gettime(clock, &mut ts) } != 0 {
        return std::time::Duration::ZERO;
    }
    std::time::Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}
