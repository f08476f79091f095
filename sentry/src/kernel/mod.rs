//! The kernel: the sandbox-wide state and tasks (application threads).

pub mod futex;
pub mod hostthreads;
pub mod itimer;
pub mod proctable;
pub mod seccomp;
pub mod signal;
pub mod task;
pub mod thread_group;
pub mod vdso;
pub mod wait;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Instant;

use parking_lot::Mutex;
use platform::Platform;

use crate::mm::MemoryFile;
use crate::vfs::Dentry;

/// Number of CPUs the sandbox may use, measured once before any task
/// thread is pinned (a pinned thread's own affinity says 1).
pub fn ncpus() -> usize {
    static N: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *N.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// Sandbox-wide settings.
#[derive(Clone, Debug, Default)]
pub struct KernelConfig {
    /// Log every application syscall.
    pub strace: bool,
    /// The UTS hostname.
    pub hostname: String,
}

/// The sandbox's kernel, for code that has no task at hand (a terminal's
/// line discipline signalling its foreground process group).
static THE_KERNEL: std::sync::OnceLock<std::sync::Weak<Kernel>> = std::sync::OnceLock::new();

/// Sends `sig` (from the kernel, as a terminal does) to every process of
/// process group `pgid`.
pub fn signal_pgrp(pgid: i32, sig: i32) {
    let Some(k) = THE_KERNEL.get().and_then(|w| w.upgrade()) else {
        return;
    };
    let groups: Vec<_> = k.groups.lock().values().cloned().collect();
    for g in groups {
        if g.pgid.load(std::sync::atomic::Ordering::Relaxed) == pgid {
            g.send(signal::SigInfo::new(sig, 0x80));
        }
    }
}

/// State shared by every task of the sandbox.
pub struct Kernel {
    /// Runs application code.
    pub platform: Arc<dyn Platform>,
    /// Backs all application memory.
    pub mf: Arc<MemoryFile>,
    /// The root of the sandbox's filesystem tree.
    pub root: Arc<Dentry>,
    /// Settings.
    pub config: KernelConfig,
    /// When the sandbox booted (for uptime and CLOCK_BOOTTIME views).
    pub boot: Instant,
    /// Processes, for fork and wait.
    pub procs: proctable::ProcTable,
    /// Live processes by pid.
    pub groups: Mutex<HashMap<i32, Arc<thread_group::ThreadGroup>>>,
    /// Live threads by tid.
    pub tasks: Mutex<HashMap<i32, Arc<thread_group::TaskHandle>>>,
    /// Futex wait queues.
    pub futexes: futex::Futexes,
    /// /proc/sys/kernel/random/boot_id: fixed for the sandbox's life.
    pub boot_id: String,
    /// The vDSO every process gets (None if it could not be set up).
    pub vdso: Option<vdso::Vdso>,
    /// Syscalls already reported as unsupported.
    enosys_seen: Mutex<HashSet<u64>>,
    /// Host threads that run tasks.
    pub threads: hostthreads::HostThreads,
}

impl Kernel {
    /// A kernel over the given platform, memory and filesystem.
    pub fn new(
        platform: Arc<dyn Platform>,
        mf: Arc<MemoryFile>,
        root: Arc<Dentry>,
        config: KernelConfig,
    ) -> Arc<Kernel> {
        ncpus();
        let vdso = vdso::Vdso::new(&mf)
            .map_err(|e| log::warn!("no vDSO: {e}"))
            .ok();
        let mut b = [0u8; 16];
        crate::loader::getrandom(&mut b);
        let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
        let boot_id = format!(
            "{}-{}-{}-{}-{}",
            &h[0..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..32]
        );
        let k = Arc::new(Kernel {
            threads: hostthreads::HostThreads::default(),
            boot_id,
            vdso,
            platform,
            mf,
            root,
            config,
            boot: Instant::now(),
            futexes: futex::Futexes::default(),
            procs: proctable::ProcTable::default(),
            groups: Mutex::new(HashMap::new()),
            tasks: Mutex::new(HashMap::new()),
            enosys_seen: Mutex::new(HashSet::new()),
        });
        let _ = THE_KERNEL.set(Arc::downgrade(&k));
        k
    }

    /// Logs an unsupported syscall, once per number.
    pub fn report_enosys(&self, nr: u64) {
        if self.enosys_seen.lock().insert(nr) {
            let name = crate::strace::syscall_name(nr).unwrap_or("unknown");
            log::debug!("unsupported syscall {name} ({nr})");
        }
    }
}
