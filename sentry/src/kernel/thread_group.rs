//! Thread groups (processes) and the parts of a task other threads touch:
//! pending signals, the signal mask, and the means to interrupt it.

use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;
use platform::Interrupter;

use super::signal::{bit, SigAction, SigInfo, SigQueue, NSIG, UNBLOCKABLE};
use super::task::ExitStatus;
use super::wait::Kicker;

/// What /proc shows of a process.
#[derive(Default)]
pub struct ProcessInfo {
    /// The executable.
    pub exe: Option<Arc<crate::vfs::Dentry>>,
    /// The working directory.
    pub cwd: Option<Arc<crate::vfs::Dentry>>,
    /// The open files.
    pub fds: Option<crate::vfs::SharedFds>,
    /// The address space (for /proc/<pid>/maps).
    pub mm: Option<Arc<crate::mm::MemoryManager>>,
    /// The command name.
    pub comm: Vec<u8>,
    /// argv, NUL-separated.
    pub cmdline: Vec<u8>,
}

/// Per-thread signal state.
#[derive(Default)]
pub struct ThreadSignals {
    /// Signals sent to this thread.
    pub pending: SigQueue,
    /// Blocked signals.
    pub mask: u64,
    /// Signals the thread waits for in rt_sigtimedwait.
    pub waiting: u64,
}

/// The mask of CPUs the sandbox has.
pub fn online_cpus() -> u64 {
    let n = super::ncpus().min(64);
    if n == 64 {
        u64::MAX
    } else {
        (1 << n) - 1
    }
}

/// The shared face of a task.
pub struct TaskHandle {
    /// Thread id.
    pub tid: i32,
    /// The process.
    pub group: Arc<ThreadGroup>,
    /// Signal state.
    pub sig: Mutex<ThreadSignals>,
    interrupter: Arc<dyn Interrupter>,
    kicker: Mutex<Option<Kicker>>,
    /// The thread must end (exit_group, fatal signal, exec by a sibling).
    pub killed: AtomicBool,
    /// CPU affinity mask (sched_setaffinity), CPUs 0..63.
    pub affinity: std::sync::atomic::AtomicU64,
    /// Scheduling policy (with SCHED_RESET_ON_FORK) and real-time
    /// priority: recorded and reported; the host schedules every sandbox
    /// thread alike.
    pub sched: Mutex<(i32, i32)>,
}

impl TaskHandle {
    /// A handle for thread `tid` of `group`.
    pub fn new(
        tid: i32,
        group: Arc<ThreadGroup>,
        interrupter: Arc<dyn Interrupter>,
        mask: u64,
    ) -> Arc<TaskHandle> {
        Arc::new(TaskHandle {
            tid,
            group,
            sig: Mutex::new(ThreadSignals {
                mask,
                ..ThreadSignals::default()
            }),
            interrupter,
            kicker: Mutex::new(None),
            killed: AtomicBool::new(false),
            affinity: std::sync::atomic::AtomicU64::new(online_cpus()),
            sched: Mutex::new((libc::SCHED_OTHER, 0)),
        })
    }

    /// Sets what wakes the task from its current blocking wait.
    pub fn set_kicker(&self, k: Option<Kicker>) {
        *self.kicker.lock() = k;
    }

    /// Kicks the task out of application code or a blocking wait.
    pub fn interrupt(&self) {
        self.interrupter.interrupt();
        let k = self.kicker.lock().clone();
        if let Some(k) = k {
            k();
        }
    }

    /// Whether a blocking wait should end: the thread must exit, or a
    /// signal it does not block (or waits for) is pending.
    pub fn interrupted(&self) -> bool {
        if self.killed.load(Ordering::SeqCst) {
            return true;
        }
        let st = self.sig.lock();
        let open = !(st.mask & !UNBLOCKABLE) | st.waiting;
        let pending = st.pending.set() | self.group.pending.lock().set();
        pending & open != 0
    }

    /// Queues a signal for this thread and wakes it.
    pub fn send(&self, info: SigInfo) {
        self.sig.lock().pending.push(info);
        self.interrupt();
    }
}

/// A process: the threads that share signal dispositions and pending
/// process-directed signals.
pub struct ThreadGroup {
    /// Process id (the leader's tid).
    pub pid: i32,
    /// Signal dispositions.
    pub actions: Mutex<[SigAction; NSIG]>,
    /// Signals sent to the process.
    pub pending: Mutex<SigQueue>,
    /// Live threads.
    pub threads: Mutex<Vec<Arc<TaskHandle>>>,
    /// Set once the whole process is ending, with how.
    pub exiting: Mutex<Option<ExitStatus>>,
    /// Process group.
    pub pgid: AtomicI32,
    /// Session.
    pub sid: AtomicI32,
    /// ITIMER_REAL (alarm).
    pub real_timer: super::itimer::RealTimer,
    /// ITIMER_VIRTUAL and ITIMER_PROF.
    pub cpu_timers: [super::itimer::CpuTimer; 2],
    /// The application CPU time of the process, readable from any thread.
    pub cpu_clock: Mutex<Option<super::itimer::CpuClock>>,
    /// POSIX timers by id.
    pub posix_timers: Mutex<std::collections::HashMap<i32, Arc<super::itimer::PosixTimer>>>,
    /// What /proc shows.
    pub info: Mutex<ProcessInfo>,
    /// Job-control stop: true while stopped, with the condvar stopped
    /// threads wait on.
    pub stopped: Mutex<bool>,
    stop_cv: parking_lot::Condvar,
    /// SIGCONT resumed the process and its parent has not been told yet.
    pub continued: AtomicBool,
    /// The process has called execve (setpgid on it fails with EACCES).
    pub execed: AtomicBool,
    /// Nice value (-20..19).
    pub nice: AtomicI32,
    /// PR_SET_PDEATHSIG: sent when the parent dies.
    pub pdeath_signal: AtomicI32,
    /// PR_SET_DUMPABLE.
    pub dumpable: AtomicI32,
    /// PR_SET_NO_NEW_PRIVS (never cleared).
    pub no_new_privs: AtomicBool,
    /// A seccomp filter installed with SECCOMP_FILTER_FLAG_TSYNC, which
    /// every thread takes at its next system call, and its generation.
    pub seccomp_sync: Mutex<Option<Arc<super::seccomp::Chain>>>,
    /// Bumped with `seccomp_sync`.
    pub seccomp_gen: std::sync::atomic::AtomicU64,
    /// personality(2): recorded and reported, with no effect of its own.
    pub persona: std::sync::atomic::AtomicU32,
    /// CPU time (user, system) of threads that have exited.
    pub dead_times: Mutex<CpuTimes>,
    /// CPU time of waited-for children and their descendants.
    pub children_times: Mutex<CpuTimes>,
}

/// User and system CPU time.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CpuTimes {
    /// Time in application code.
    pub user: std::time::Duration,
    /// Time in the sentry on the application's behalf.
    pub sys: std::time::Duration,
}

impl std::ops::Add for CpuTimes {
    type Output = CpuTimes;
    fn add(self, o: CpuTimes) -> CpuTimes {
        CpuTimes {
            user: self.user + o.user,
            sys: self.sys + o.sys,
        }
    }
}

impl ThreadGroup {
    /// A new process with `actions` inherited from its parent.
    pub fn new(pid: i32, actions: [SigAction; NSIG], pgid: i32, sid: i32) -> Arc<ThreadGroup> {
        Arc::new(ThreadGroup {
            pid,
            actions: Mutex::new(actions),
            pending: Mutex::new(SigQueue::default()),
            threads: Mutex::new(Vec::new()),
            exiting: Mutex::new(None),
            pgid: AtomicI32::new(pgid),
            sid: AtomicI32::new(sid),
            real_timer: Default::default(),
            cpu_timers: [
                super::itimer::CpuTimer::new(libc::SIGVTALRM),
                super::itimer::CpuTimer::new(libc::SIGPROF),
            ],
            cpu_clock: Mutex::new(None),
            posix_timers: Mutex::new(std::collections::HashMap::new()),
            info: Mutex::new(ProcessInfo::default()),
            stopped: Mutex::new(false),
            stop_cv: parking_lot::Condvar::new(),
            continued: AtomicBool::new(false),
            execed: AtomicBool::new(false),
            nice: AtomicI32::new(0),
            pdeath_signal: AtomicI32::new(0),
            dumpable: AtomicI32::new(1),
            no_new_privs: AtomicBool::new(false),
            seccomp_sync: Mutex::new(None),
            seccomp_gen: std::sync::atomic::AtomicU64::new(0),
            persona: std::sync::atomic::AtomicU32::new(0),
            dead_times: Mutex::new(CpuTimes::default()),
            children_times: Mutex::new(CpuTimes::default()),
        })
    }

    /// Queues a process-directed signal and wakes a thread that can take it.
    /// SIGCONT resumes a stopped process at once, whatever its disposition.
    pub fn send(&self, info: SigInfo) {
        let sig = info.signo();
        let stop_sigs = [libc::SIGSTOP, libc::SIGTSTP, libc::SIGTTIN, libc::SIGTTOU];
        if sig == libc::SIGCONT {
            self.discard_everywhere(&stop_sigs);
            let mut stopped = self.stopped.lock();
            if *stopped {
                *stopped = false;
                self.continued.store(true, Ordering::SeqCst);
                self.stop_cv.notify_all();
            }
        } else if stop_sigs.contains(&sig) {
            self.discard_everywhere(&[libc::SIGCONT]);
        }
        self.pending.lock().push(info);
        let threads = self.threads.lock().clone();
        let target = threads
            .iter()
            .find(|t| {
                let st = t.sig.lock();
                (st.mask & !UNBLOCKABLE) & bit(sig) == 0 || st.waiting & bit(sig) != 0
            })
            .or(threads.first());
        if sig == libc::SIGKILL {
            for t in &threads {
                t.interrupt();
            }
        } else if let Some(t) = target {
            t.interrupt();
        }
    }

    fn discard_everywhere(&self, sigs: &[i32]) {
        let mut p = self.pending.lock();
        for &s in sigs {
            p.discard(s);
        }
        drop(p);
        for t in self.threads.lock().iter() {
            let mut st = t.sig.lock();
            for &s in sigs {
                st.pending.discard(s);
            }
        }
    }

    /// Stops the process (job control); false if it already was.
    pub fn stop(&self) -> bool {
        let mut stopped = self.stopped.lock();
        if *stopped {
            return false;
        }
        *stopped = true;
        drop(stopped);
        for t in self.threads.lock().iter() {
            t.interrupt();
        }
        true
    }

    /// Blocks the calling thread while the process is stopped, unless it
    /// must exit.
    pub fn wait_while_stopped(&self, me: &TaskHandle) {
        let mut stopped = self.stopped.lock();
        while *stopped && !me.killed.load(Ordering::SeqCst) {
            self.stop_cv
                .wait_for(&mut stopped, std::time::Duration::from_millis(50));
        }
    }

    /// Starts ending the whole process with `status` (first caller wins)
    /// and tells every thread to stop.
    pub fn exit_all(&self, status: ExitStatus) {
        {
            let mut e = self.exiting.lock();
            if e.is_none() {
                *e = Some(status);
            }
        }
        for t in self.threads.lock().iter() {
            t.killed.store(true, Ordering::SeqCst);
            t.interrupt();
        }
        self.stop_cv.notify_all();
    }
}
