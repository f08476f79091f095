//! The ptrace platform: application code runs in stub processes that the
//! sentry traces with `PTRACE_SYSEMU`, so that every system call the
//! application makes stops before the host executes it.
//!
//! One stub process exists per application address space; its memory is the
//! sentry's memory file, mapped by system calls injected into the stub. The
//! thread that creates an address space traces its stub and is the only one
//! that may run it or change its mappings.

mod pool;
mod stub;
mod subprocess;

use std::sync::Arc;

use std::sync::atomic::{AtomicI64, Ordering};

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
    ncpus: usize,
    pool: StubPool,
}

impl PtracePlatform {
    /// Prepares the platform: installs the stub page. `memfd` is the sentry's
    /// memory file, which every stub keeps at [`stub::STUB_MEMFD`].
    pub fn new(memfd: i32) -> Result<PtracePlatform> {
        let stub = StubPage::install()?;
        Ok(PtracePlatform {
            stub,
            ncpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
            pool: StubPool::start(stub, memfd, Arc::new(stub::stub_filter()?))?,
        })
    }
}

impl Platform for PtracePlatform {
    fn name(&self) -> &'static str {
        "ptrace"
    }

    fn address_range(&self) -> (u64, u64) {
        // Applications live below the stub page, with a guard gap.
        (0x1_0000, self.stub.addr - 0x10_0000)
    }

    fn new_address_space(&self) -> Result<Arc<dyn AddressSpace>> {
        Ok(Arc::new(Subprocess::new(self.stub, &self.pool)?))
    }

    fn new_context(&self) -> Result<Box<dyn Context>> {
        // Keep each tracer on one CPU (its stub follows it): the scheduler
        // otherwise tends to wake it on the other CPU than its stub, which
        // costs ~5x per round trip. Tasks are spread over the CPUs in turn,
        // so that threads and processes still run in parallel.
        static NEXT_CPU: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let cpu = NEXT_CPU.fetch_add(1, Ordering::Relaxed) % self.ncpus;
        // SAFETY: the cpu set is plain data; CPU_SET stays within it.
        unsafe {
            let mut set: libc::cpu_set_t = std::mem::zeroed();
            libc::CPU_SET(cpu, &mut set);
            libc::sched_setaffinity(0, std::mem::size_of_val(&set), &set);
        }
        Ok(Box::new(PtraceContext {
            cpu: -1,
            last_pid: Arc::new(std::sync::atomic::AtomicI32::new(0)),
            running: Arc::new(Running(AtomicI64::new(0))),
        }))
    }
}

/// Per-task state of the ptrace platform.
struct PtraceContext {
    /// The CPU the stub was last pinned to (tracer and tracee share it).
    cpu: i32,
    /// The stub process that last ran the task (for its CPU clock).
    last_pid: Arc<std::sync::atomic::AtomicI32>,
    /// The stub thread running the task's application code, if any.
    running: Arc<Running>,
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

    fn switch(&mut self, asp: &dyn AddressSpace, regs: &mut Regs) -> Result<Stop> {
        let sp = subprocess(asp)?;
        let tid = sp.current()?;
        self.last_pid.store(sp.pid(), Ordering::Relaxed);
        // SAFETY: sched_getcpu has no preconditions.
        let cpu = unsafe { libc::sched_getcpu() };
        if cpu >= 0 && cpu != self.cpu {
            Subprocess::pin(tid, cpu);
            self.cpu = cpu;
        }
        sp.set_app_regs(tid, regs)?;
        self.running
            .0
            .store(((sp.pid() as i64) << 32) | tid as i64, Ordering::SeqCst);
        let r = resume(tid, libc::PTRACE_SYSEMU).and_then(|_| wait(tid));
        self.running.0.store(0, Ordering::SeqCst);
        let status = r?;
        if !libc::WIFSTOPPED(status) {
            return Err(Error::RunnerDied(format!("stub exited: {status:#x}")));
        }
        let sig = libc::WSTOPSIG(status);
        *regs = get_regs(tid)?;
        if sig == libc::SIGTRAP | 0x80 {
            return Ok(Stop::Syscall);
        }
        if status >> 16 != 0 {
            // A ptrace event stop (PTRACE_INTERRUPT, group stop): no signal.
            return Ok(Stop::Interrupted);
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
        Ok(match sig {
            libc::SIGSEGV | libc::SIGBUS => Stop::Fault(info),
            _ => Stop::Signal(info),
        })
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
