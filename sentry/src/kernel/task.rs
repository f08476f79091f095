//! A task: one application thread, run by one host thread.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use platform::{Context, Regs, Stop};

use super::signal::{self, bit, AltStack, SigAction, SigInfo, UNBLOCKABLE};
use super::thread_group::{TaskHandle, ThreadGroup};
use super::Kernel;
use crate::errno::Errno;
use crate::loader::{self, ExecArgs};
use crate::mm::MemoryManager;
use crate::vfs::path::Walker;
use crate::vfs::{Dentry, FdTable, SharedFds};

/// How a process ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    /// exit(code).
    Exited(i32),
    /// Killed by a signal.
    Signaled(i32),
}

impl ExitStatus {
    /// The status a shell reports: the code, or 128 + the signal number.
    pub fn shell_code(self) -> i32 {
        match self {
            ExitStatus::Exited(c) => c & 0xff,
            ExitStatus::Signaled(s) => 128 + s,
        }
    }

    /// The status word wait4 reports.
    pub fn wait_status(self) -> i32 {
        match self {
            ExitStatus::Exited(c) => (c & 0xff) << 8,
            // No core files are written, so the core-dump bit stays clear
            // (as on Linux with RLIMIT_CORE 0).
            ExitStatus::Signaled(s) => s & 0x7f,
        }
    }
}

/// User and group ids.
#[derive(Clone, Debug, Default)]
#[allow(missing_docs)]
pub struct Creds {
    pub uid: u32,
    pub euid: u32,
    pub suid: u32,
    pub gid: u32,
    pub egid: u32,
    pub sgid: u32,
    pub groups: Vec<u32>,
    pub fsuid: u32,
    pub fsgid: u32,
    pub caps_effective: u64,
    pub caps_permitted: u64,
    pub caps_inheritable: u64,
}

impl Creds {
    /// Ids `uid`/`gid` with the capabilities Linux gives them (all for root).
    pub fn new(uid: u32, gid: u32, groups: Vec<u32>) -> Creds {
        let caps = if uid == 0 {
            crate::syscalls::ALL_CAPS
        } else {
            0
        };
        Creds {
            uid,
            euid: uid,
            suid: uid,
            gid,
            egid: gid,
            sgid: gid,
            groups,
            fsuid: uid,
            fsgid: gid,
            caps_effective: caps,
            caps_permitted: caps,
            caps_inheritable: 0,
        }
    }
}

/// Number of resource limits (RLIMIT_NLIMITS).
pub const NLIMITS: usize = 16;

/// One application thread.
pub struct Task {
    /// The sandbox.
    pub kernel: Arc<Kernel>,
    /// Runs the task's application code.
    pub ctx: Box<dyn Context>,
    /// Application registers while the task is in the sentry.
    pub regs: Regs,
    /// The address space.
    pub mm: Arc<MemoryManager>,
    /// Open files (shared by threads).
    pub fds: SharedFds,
    /// Root for path walks (chroot).
    pub root: Arc<Dentry>,
    /// Working directory.
    /// The working directory (a copy of `fs.cwd`, refreshed when another
    /// thread sharing `fs` changes it).
    pub cwd: Arc<Dentry>,
    /// File mode creation mask.
    pub umask: u32,
    /// The working directory and umask shared by CLONE_FS tasks.
    pub fs: Arc<FsShared>,
    /// The `fs.gen` this task's copies are from.
    pub fs_seen: u64,
    /// Credentials.
    pub creds: Creds,
    /// What other threads see of this task: signals, mask, interruption.
    pub handle: Arc<TaskHandle>,
    /// Alternate signal stack.
    pub altstack: AltStack,
    /// The mask to restore after a handler run from sigsuspend.
    pub saved_mask: Option<u64>,
    /// A syscall interrupted by a signal, to restart or fail with EINTR.
    pub restart: Option<Errno>,
    /// Thread id.
    pub tid: i32,
    /// Process id.
    pub pid: i32,
    /// set_tid_address.
    pub clear_child_tid: u64,
    /// set_robust_list head and length.
    pub robust_list: (u64, u64),
    /// Resource limits (cur, max).
    pub rlimits: [(u64, u64); NLIMITS],
    /// The executable.
    pub exe: Arc<Dentry>,
    /// The thread name (prctl PR_SET_NAME).
    pub comm: Vec<u8>,
    /// Set when this thread is exiting (exit, or its process ending).
    pub exit: Option<ExitStatus>,
    /// A handler replaced all registers (execve, rt_sigreturn).
    pub regs_replaced: bool,
    /// Faults retried in a row because another thread changed the address
    /// space meanwhile (bounded, so a real fault is not retried forever).
    stale_faults: u32,
    /// seccomp mode and filters (inherited by clones, kept across exec).
    pub seccomp: super::seccomp::Mode,
    /// The thread group's `seccomp_gen` this thread has taken.
    pub seccomp_seen: u64,
    /// Tells a vfork parent that this child exec'd or exited.
    pub vfork_done: Option<crossbeam_channel::Sender<()>>,
}

fn default_rlimits() -> [(u64, u64); NLIMITS] {
    let inf = u64::MAX;
    let mut r = [(inf, inf); NLIMITS];
    r[libc::RLIMIT_STACK as usize] = (crate::mm::STACK_SIZE, inf);
    r[libc::RLIMIT_NOFILE as usize] = (1024, crate::vfs::fdtable::NOFILE as u64);
    r[libc::RLIMIT_CORE as usize] = (0, inf);
    r[libc::RLIMIT_NPROC as usize] = (63_432, 63_432);
    r[libc::RLIMIT_SIGPENDING as usize] = (63_432, 63_432);
    r[libc::RLIMIT_MEMLOCK as usize] = (8 << 20, 8 << 20);
    r[libc::RLIMIT_MSGQUEUE as usize] = (819_200, 819_200);
    r[libc::RLIMIT_NICE as usize] = (0, 0);
    r[libc::RLIMIT_RTPRIO as usize] = (0, 0);
    r
}

/// What the first process of a sandbox runs.
pub struct InitProcess {
    /// argv; argv[0] is looked up in PATH if it has no '/'.
    pub argv: Vec<Vec<u8>>,
    /// envp.
    pub envp: Vec<Vec<u8>>,
    /// Working directory (absolute).
    pub cwd: Vec<u8>,
    /// Files for fds 0, 1, 2...
    pub fds: FdTable,
    /// Credentials.
    pub creds: Creds,
    /// umask.
    pub umask: u32,
}

/// Why the first process could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The working directory does not exist.
    #[error("working directory {0:?}: {1}")]
    Cwd(String, Errno),
    /// The program could not be found or executed.
    #[error("{0}: {1}")]
    Exec(String, Errno),
    /// The platform failed.
    #[error("platform: {0}")]
    Platform(#[from] platform::Error),
}

/// The working directory and umask, which CLONE_FS tasks share (Linux's
/// fs_struct; the root never changes yet).
pub struct FsShared {
    cwd: parking_lot::Mutex<Arc<Dentry>>,
    umask: std::sync::atomic::AtomicU32,
    /// Bumped on every change.
    gen: std::sync::atomic::AtomicU64,
}

impl FsShared {
    fn new(cwd: &Arc<Dentry>, umask: u32) -> Arc<FsShared> {
        Arc::new(FsShared {
            cwd: parking_lot::Mutex::new(cwd.clone()),
            umask: std::sync::atomic::AtomicU32::new(umask),
            gen: std::sync::atomic::AtomicU64::new(0),
        })
    }
}

/// How a clone that makes a process (not a thread) sets the child up.
#[derive(Clone, Copy, Debug)]
pub struct NewProcess {
    /// CLONE_VFORK: the parent waits until the child execs or exits.
    pub vfork: bool,
    /// CLONE_CLEAR_SIGHAND: the child starts with default handlers.
    pub clear_handlers: bool,
    /// The signal the parent gets when the child ends (0: none).
    pub exit_signal: i32,
}

/// What a new task copies or shares from the task that clones it.
struct CloneProto {
    regs: Regs,
    fds: SharedFds,
    root: Arc<Dentry>,
    cwd: Arc<Dentry>,
    umask: u32,
    fs: Arc<FsShared>,
    creds: Creds,
    mask: u64,
    affinity: u64,
    altstack: AltStack,
    rlimits: [(u64, u64); NLIMITS],
    exe: Arc<Dentry>,
    comm: Vec<u8>,
    clear_tid: u64,
    set_tid: u64,
    fp: Option<platform::FpState>,
    vfork_done: Option<crossbeam_channel::Sender<()>>,
    /// The CPU the child should run on (see `Context::home_cpu`).
    home: Option<usize>,
    seccomp: super::seccomp::Mode,
    sched: (i32, i32),
}

fn platform_errno(e: platform::Error) -> Errno {
    log::warn!("platform: {e}");
    Errno::EAGAIN
}

impl Task {
    /// Creates the first task of the sandbox, running `init`.
    pub fn start(kernel: Arc<Kernel>, init: InitProcess) -> Result<Task, StartError> {
        let root = kernel.root.clone();
        let cwd = Walker {
            root: &root,
            start: &root,
            rules: Default::default(),
        }
        .walk(&init.cwd, true)
        .map_err(|e| StartError::Cwd(String::from_utf8_lossy(&init.cwd).into(), e))?;
        let asp = kernel.platform.new_address_space()?;
        let (lo, hi) = kernel.platform.address_range();
        let mm = Arc::new(MemoryManager::new(kernel.mf.clone(), asp, lo, hi));
        let prog = init.argv.first().cloned().unwrap_or_default();
        let name = String::from_utf8_lossy(&prog).into_owned();
        let path = find_program(&root, &cwd, &prog, &init.envp)
            .map_err(|e| StartError::Exec(name.clone(), e))?;
        let cmdline = init
            .argv
            .iter()
            .flat_map(|a| a.iter().copied().chain([0]))
            .collect();
        let image = loader::load(
            &mm,
            ExecArgs {
                walker: Walker {
                    root: &root,
                    start: &cwd,
                    rules: Default::default(),
                },
                path,
                argv: init.argv,
                envp: init.envp,
                ids: (
                    init.creds.uid,
                    init.creds.euid,
                    init.creds.gid,
                    init.creds.egid,
                ),
            },
            kernel.vdso.as_ref(),
        )
        .map_err(|e| StartError::Exec(name, e))?;
        let ctx = kernel.platform.new_context(None)?;
        let pid = kernel.procs.add(0, 0, libc::SIGCHLD);
        let group = ThreadGroup::new(pid, [SigAction::default(); signal::NSIG], pid, pid);
        let handle = TaskHandle::new(pid, group.clone(), ctx.interrupter(), 0);
        register(&kernel, &group, &handle);
        group.info.lock().cmdline = cmdline;
        let task = Task {
            kernel,
            ctx,
            regs: image.regs,
            mm,
            fds: SharedFds::new(init.fds),
            root,
            fs: FsShared::new(&cwd, init.umask),
            fs_seen: 0,
            cwd,
            umask: init.umask,
            creds: init.creds,
            handle,
            altstack: AltStack::DISABLED,
            saved_mask: None,
            restart: None,
            tid: pid,
            pid,
            clear_child_tid: 0,
            robust_list: (0, 0),
            rlimits: default_rlimits(),
            exe: image.exe,
            comm: image.comm,
            exit: None,
            regs_replaced: false,
            stale_faults: 0,
            seccomp: Default::default(),
            seccomp_seen: 0,
            vfork_done: None,
        };
        task.publish_info();
        Ok(task)
    }

    /// Sets the working directory, for every task sharing it.
    pub fn set_cwd(&mut self, d: Arc<Dentry>) {
        *self.fs.cwd.lock() = d.clone();
        self.cwd = d;
        self.fs_seen = self.fs.gen.fetch_add(1, Ordering::AcqRel) + 1;
    }

    /// Sets the umask, for every task sharing it.
    pub fn set_umask(&mut self, umask: u32) {
        self.fs.umask.store(umask, Ordering::Relaxed);
        self.umask = umask;
        self.fs_seen = self.fs.gen.fetch_add(1, Ordering::AcqRel) + 1;
    }

    /// Takes the working directory and umask another CLONE_FS task set.
    pub fn sync_fs(&mut self) {
        let gen = self.fs.gen.load(Ordering::Acquire);
        if gen != self.fs_seen {
            self.fs_seen = gen;
            self.cwd = self.fs.cwd.lock().clone();
            self.umask = self.fs.umask.load(Ordering::Relaxed);
        }
    }

    /// A path walker from the task's root and cwd.
    pub fn walker(&self) -> Walker<'_> {
        Walker {
            root: &self.root,
            start: &self.cwd,
            rules: Default::default(),
        }
    }

    /// The process.
    pub fn group(&self) -> &Arc<ThreadGroup> {
        &self.handle.group
    }

    /// Publishes what /proc shows of this process.
    pub fn publish_info(&self) {
        let mut info = self.group().info.lock();
        info.exe = Some(self.exe.clone());
        info.cwd = Some(self.cwd.clone());
        info.fds = Some(self.fds.clone());
        info.mm = Some(self.mm.clone());
        info.comm = self.comm.clone();
    }

    /// CPU time of this thread: application code, and the sentry's work
    /// for it on this host thread.
    pub fn thread_times(&self) -> super::thread_group::CpuTimes {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: valid out pointer.
        unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
        let thread = std::time::Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32);
        super::thread_group::CpuTimes {
            user: self.ctx.cpu_time(),
            sys: thread.saturating_sub(self.ctx.app_time_on_this_thread()),
        }
    }

    /// CPU time of the whole process as far as this thread can see it:
    /// application code of all threads, the sentry's work for exited
    /// threads and for this one.
    pub fn process_times(&self) -> super::thread_group::CpuTimes {
        let dead = *self.group().dead_times.lock();
        let me = self.thread_times();
        super::thread_group::CpuTimes {
            user: me.user,
            sys: dead.sys + me.sys,
        }
    }

    /// The blocked signals.
    pub fn sigmask(&self) -> u64 {
        self.handle.sig.lock().mask
    }

    /// Sets the blocked signals (SIGKILL and SIGSTOP cannot be blocked).
    pub fn set_sigmask(&self, mask: u64) {
        self.handle.sig.lock().mask = mask & !UNBLOCKABLE;
    }

    /// Runs the task on the calling host thread until it exits.
    pub fn run(mut self) {
        super::wait::set_current(Some(self.handle.clone()));
        {
            let mut clock = self.group().cpu_clock.lock();
            if clock.is_none() {
                *clock = Some(self.ctx.cpu_clock());
            }
        }
        loop {
            self.deliver_signals();
            if *self.group().stopped.lock() {
                self.group().wait_while_stopped(&self.handle);
                self.report_continued();
                continue;
            }
            // A SIGCONT may have resumed us before we got to wait.
            if self.group().continued.load(Ordering::Relaxed) {
                self.report_continued();
            }
            if self.exit.is_some() || self.handle.killed.load(Ordering::SeqCst) {
                break;
            }
            let seen = self.mm.changes();
            let stop = match self
                .ctx
                .switch(self.mm.address_space().as_ref(), &mut self.regs)
            {
                Ok(s) => s,
                Err(e) => {
                    log::error!("task {}: platform failed: {e}", self.tid);
                    self.group().exit_all(ExitStatus::Signaled(libc::SIGKILL));
                    break;
                }
            };
            match stop {
                Stop::Syscall => {
                    self.stale_faults = 0;
                    crate::syscalls::handle(&mut self);
                }
                Stop::Fault(i) if self.mm.handle_fault(i.addr) => self.stale_faults = 0,
                // Another thread may have changed the mapping (a copy-on-
                // write break, mprotect) between the fault and now.
                Stop::Fault(_) if self.mm.changes() != seen && self.stale_faults < 64 => {
                    self.stale_faults += 1;
                }
                Stop::Fault(i) | Stop::Signal(i) => {
                    log::debug!(
                        "task {}: signal {} (code {}, addr {:#x}) at rip {:#x}",
                        self.tid,
                        i.signo,
                        i.code,
                        i.addr,
                        self.regs.rip
                    );
                    self.force_signal(SigInfo::fault(i.signo, i.code, i.addr));
                }
                Stop::Interrupted => {}
            }
        }
        self.finish();
        super::wait::set_current(None);
    }

    /// Delivers a synchronous signal (a fault): one that is blocked or
    /// ignored kills the process instead of being lost.
    pub fn force_signal(&mut self, info: SigInfo) {
        let sig = info.signo();
        {
            let mut actions = self.group().actions.lock();
            let a = &mut actions[sig as usize - 1];
            let blocked = self.sigmask() & bit(sig) != 0;
            if blocked || a.handler == libc::SIG_IGN as u64 {
                *a = SigAction::default();
            }
        }
        let mut st = self.handle.sig.lock();
        st.mask &= !bit(sig);
        st.pending.push(info);
    }

    /// Runs pending signals' actions: a handler gets a frame (one per
    /// call), a default action may end the process.
    fn deliver_signals(&mut self) {
        loop {
            if self.handle.killed.load(Ordering::SeqCst) {
                return;
            }
            let info = {
                let mut st = self.handle.sig.lock();
                let mask = st.mask;
                match st.pending.pop(mask) {
                    Some(i) => Some(i),
                    None => self.group().pending.lock().pop(mask),
                }
            };
            let Some(info) = info else {
                break;
            };
            let sig = info.signo();
            let action = self.group().actions.lock()[sig as usize - 1];
            if sig == libc::SIGKILL {
                self.group().exit_all(ExitStatus::Signaled(sig));
                return;
            }
            if action.handler == libc::SIG_IGN as u64 {
                continue;
            }
            if action.handler == libc::SIG_DFL as u64 {
                match signal::default_action(sig) {
                    signal::DefaultAction::Terminate | signal::DefaultAction::Core => {
                        self.group().exit_all(ExitStatus::Signaled(sig));
                        return;
                    }
                    signal::DefaultAction::Stop => {
                        if self.group().stop() {
                            self.notify_parent(libc::CLD_STOPPED, sig);
                        }
                        return;
                    }
                    _ => continue,
                }
            }
            self.run_handler(&info, &action);
            return;
        }
        // No handler ran: an interrupted syscall restarts transparently.
        if let Some(e) = self.restart.take() {
            if e.is_restart() {
                self.regs.rip -= 2;
                self.regs.rax = self.regs.orig_rax;
            }
        }
        if let Some(m) = self.saved_mask.take() {
            self.set_sigmask(m);
        }
    }

    /// Tells the parent about a stop or continue (wait and SIGCHLD, unless
    /// it set SA_NOCLDSTOP).
    fn notify_parent(&self, code: i32, sig: i32) {
        use super::proctable::ChildEvent;
        let ev = if code == libc::CLD_STOPPED {
            ChildEvent::Stopped(sig)
        } else {
            ChildEvent::Continued
        };
        self.kernel.procs.set_event(self.pid, ev);
        let ppid = self.kernel.procs.parent(self.pid);
        let parent = self.kernel.groups.lock().get(&ppid).cloned();
        if let Some(parent) = parent {
            let act = parent.actions.lock()[libc::SIGCHLD as usize - 1];
            const SA_NOCLDSTOP: u64 = 1;
            if act.flags & SA_NOCLDSTOP == 0 {
                parent.send(SigInfo::child(code, self.pid, self.creds.uid, sig));
            }
        }
    }

    /// Reports a SIGCONT that resumed this process, once.
    fn report_continued(&self) {
        if self.group().continued.swap(false, Ordering::SeqCst) {
            self.notify_parent(libc::CLD_CONTINUED, libc::SIGCONT);
        }
    }

    fn run_handler(&mut self, info: &SigInfo, action: &SigAction) {
        let sig = info.signo();
        if let Some(e) = self.restart.take() {
            let restart = e == Errno::ERESTARTNOINTR
                || (e == Errno::ERESTARTSYS && action.flags & signal::SA_RESTART != 0);
            if restart {
                self.regs.rip -= 2;
                self.regs.rax = self.regs.orig_rax;
            } else {
                self.regs.rax = (-(libc::EINTR as i64)) as u64;
            }
        }
        let old_mask = self.saved_mask.take().unwrap_or_else(|| self.sigmask());
        let fp = self
            .ctx
            .fpstate(self.mm.address_space().as_ref())
            .map(|f| f.0)
            .unwrap_or_default();
        let r = signal::setup_frame(
            &self.mm,
            &mut self.regs,
            &fp,
            info,
            action,
            old_mask,
            &self.altstack,
        );
        if r.is_err() {
            // No room for the frame: the process dies of SIGSEGV.
            self.group().exit_all(ExitStatus::Signaled(libc::SIGSEGV));
            return;
        }
        let mut add = action.mask;
        if action.flags & signal::SA_NODEFER == 0 {
            add |= bit(sig);
        }
        self.set_sigmask(old_mask | add);
        if action.flags & signal::SA_RESETHAND != 0 {
            self.group().actions.lock()[sig as usize - 1] = SigAction::default();
        }
    }

    /// Leaves the thread group; the last thread out ends the process.
    fn finish(&mut self) {
        self.vfork_done.take();
        self.release_robust_futexes();
        if self.clear_child_tid != 0 {
            let _ = self.mm.write_obj(self.clear_child_tid, &0u32);
            if let Ok(key) = self.mm.futex_key(self.clear_child_tid, false) {
                self.kernel.futexes.wake(key, 1, u32::MAX);
            }
        }
        // Files close before the parent hears of the exit, as on Linux (a
        // parent that reaped its child then sees end-of-file on a pipe).
        drop(std::mem::take(&mut self.fds));
        let mut mine = self.thread_times();
        if !last_thread_of(self.group()) {
            // Application time is counted per address space by the last one.
            mine.user = std::time::Duration::ZERO;
        }
        self.mm.address_space().release_thread();
        self.kernel.tasks.lock().remove(&self.tid);
        let group = self.group().clone();
        {
            let mut dead = group.dead_times.lock();
            *dead = *dead + mine;
        }
        let last = {
            let mut threads = group.threads.lock();
            threads.retain(|t| !Arc::ptr_eq(t, &self.handle));
            threads.is_empty()
        };
        if !last {
            return;
        }
        crate::vfs::lock::release_process(self.pid);
        let status = group
            .exiting
            .lock()
            .unwrap_or(self.exit.unwrap_or(ExitStatus::Exited(0)));
        // The process stays in the tables as a zombie until it is reaped,
        // but its files and memory go now.
        {
            let mut info = group.info.lock();
            info.fds = None;
            info.cwd = None;
            info.mm = None;
        }
        let ppid = self.kernel.procs.parent(self.pid);
        let total = *group.dead_times.lock() + *group.children_times.lock();
        let children = self.kernel.procs.children(self.pid);
        let parent = self.kernel.groups.lock().get(&ppid).cloned();
        let act = parent
            .as_ref()
            .map(|p| p.actions.lock()[libc::SIGCHLD as usize - 1]);
        // Only a child that signals SIGCHLD is reaped for a parent that
        // ignores SIGCHLD (or asks so with SA_NOCLDWAIT).
        let exit_signal = self.kernel.procs.exit_signal(self.pid);
        let autoreap = exit_signal == libc::SIGCHLD
            && act.is_some_and(|a| {
                a.handler == libc::SIG_IGN as u64 || a.flags & signal::SA_NOCLDWAIT != 0
            });
        if let Some(p) = &parent {
            let mut c = p.children_times.lock();
            *c = *c + total;
        }
        self.kernel.procs.exit(self.pid, status, total, autoreap);
        if autoreap {
            self.kernel.groups.lock().remove(&self.pid);
        }
        for child in children {
            let g = self.kernel.groups.lock().get(&child).cloned();
            if let Some(g) = g {
                let sig = g.pdeath_signal.load(Ordering::Relaxed);
                if sig != 0 {
                    g.send(SigInfo::user(sig, libc::SI_USER, self.pid, self.creds.uid));
                }
            }
        }
        if let (Some(parent), false, true) = (parent, autoreap, exit_signal != 0) {
            let (code, st) = match status {
                ExitStatus::Exited(c) => (libc::CLD_EXITED, c),
                ExitStatus::Signaled(s) => (libc::CLD_KILLED, s),
            };
            let mut info = SigInfo::child(code, self.pid, self.creds.uid, st);
            info.set_signo(exit_signal);
            parent.send(info);
        }
    }

    /// Marks the robust futexes this thread still holds as owner-died and
    /// wakes a waiter of each (set_robust_list), as Linux does at exit.
    fn release_robust_futexes(&self) {
        const FUTEX_WAITERS: u32 = 0x8000_0000;
        const FUTEX_OWNER_DIED: u32 = 0x4000_0000;
        const FUTEX_TID_MASK: u32 = 0x3fff_ffff;
        let (head, len) = self.robust_list;
        if head == 0 || len != 24 {
            return;
        }
        let Ok(offset) = self.mm.read_obj::<i64>(head + 8) else {
            return;
        };
        let release = |entry: u64| {
            let addr = (entry as i64).wrapping_add(offset) as u64;
            let Ok(word) = self.mm.read_obj::<u32>(addr) else {
                return;
            };
            if word & FUTEX_TID_MASK != self.tid as u32 {
                return;
            }
            let new = (word & FUTEX_WAITERS) | FUTEX_OWNER_DIED;
            if self.mm.write_obj(addr, &new).is_ok() && word & FUTEX_WAITERS != 0 {
                if let Ok(key) = self.mm.futex_key(addr, false) {
                    self.kernel.futexes.wake(key, 1, u32::MAX);
                }
            }
        };
        let mut entry = self.mm.read_obj::<u64>(head).unwrap_or(head);
        let pending = self.mm.read_obj::<u64>(head + 16).unwrap_or(0);
        // Linux walks at most ROBUST_LIST_LIMIT entries.
        for _ in 0..2048 {
            if entry == head || entry == 0 {
                break;
            }
            let next = self.mm.read_obj::<u64>(entry).unwrap_or(head);
            if entry != pending {
                release(entry);
            }
            entry = next;
        }
        if pending != 0 {
            release(pending);
        }
    }

    /// Creates a child process (fork): a copy of this task's memory, files
    /// and settings, running on its own host thread from `child_regs`.
    pub fn fork(
        &mut self,
        child_regs: Regs,
        clear_tid: u64,
        set_tid: u64,
        how: NewProcess,
    ) -> Result<i32, Errno> {
        let snap = self.mm.snapshot()?;
        let fp = self.ctx.fpstate(self.mm.address_space().as_ref()).ok();
        let pid = self.kernel.procs.add(
            self.pid,
            self.group().pgid.load(Ordering::Relaxed),
            how.exit_signal,
        );
        let proto = self.proto(child_regs, self.fds.copy(), clear_tid, set_tid, fp);
        let kernel = self.kernel.clone();
        let group = self.child_group(pid, how);
        let (ready_tx, ready_rx) = crossbeam_channel::bounded(1);
        let threads = &self.kernel.threads;
        let home = proto.home;
        let spawned = threads.run(format!("task-{pid}"), home, move || {
            let made = (|| {
                let asp = kernel
                    .platform
                    .new_address_space()
                    .map_err(platform_errno)?;
                let (lo, hi) = kernel.platform.address_range();
                let mm = Arc::new(MemoryManager::from_snapshot(
                    kernel.mf.clone(),
                    asp,
                    lo,
                    hi,
                    snap,
                )?);
                Task::from_proto(kernel.clone(), pid, group.clone(), mm, proto)
            })();
            match made {
                Ok(task) => {
                    let _ = ready_tx.send(Ok(()));
                    task.run();
                }
                Err(e) => {
                    log::warn!("fork: child {pid} could not start: {e}");
                    kernel.procs.exit(
                        pid,
                        ExitStatus::Signaled(libc::SIGKILL),
                        Default::default(),
                        true,
                    );
                    let _ = ready_tx.send(Err(e));
                }
            }
        });
        if spawned.is_err() {
            self.kernel.procs.exit(
                pid,
                ExitStatus::Signaled(libc::SIGKILL),
                Default::default(),
                true,
            );
            return Err(Errno::EAGAIN);
        }
        // Like Linux, return once the child exists (signals can reach it).
        ready_rx.recv().unwrap_or(Err(Errno::EAGAIN))?;
        Ok(pid)
    }

    /// Creates a thread in this process (clone with CLONE_THREAD).
    /// `parent_tid`, if non-zero, receives the new tid before the thread
    /// can run (CLONE_PARENT_SETTID), so that a thread exiting at once
    /// still finds its id there to clear.
    ///
    /// `share` says whether the child shares the fd table and the working
    /// directory (CLONE_FILES, CLONE_FS). With `process`, the new task is
    /// instead a new process that shares this address space (clone with
    /// CLONE_VM but not CLONE_THREAD: vfork, posix_spawn); with `vfork`
    /// the caller also waits until the child execs or exits.
    pub fn spawn_thread(
        &mut self,
        child_regs: Regs,
        share: (bool, bool),
        ids: (u64, u64, u64),
        process: Option<NewProcess>,
    ) -> Result<i32, Errno> {
        let (share_files, share_fs) = share;
        let (clear_tid, set_tid, parent_tid) = ids;
        let token = self
            .mm
            .address_space()
            .new_thread()
            .map_err(platform_errno)?;
        let fp = self.ctx.fpstate(self.mm.address_space().as_ref()).ok();
        let tid = match process {
            Some(p) => self.kernel.procs.add(
                self.pid,
                self.group().pgid.load(Ordering::Relaxed),
                p.exit_signal,
            ),
            None => self.kernel.procs.new_tid(),
        };
        if parent_tid != 0 {
            self.mm.write_obj(parent_tid, &tid)?;
        }
        let fds = if share_files {
            self.fds.clone()
        } else {
            self.fds.copy()
        };
        let mut proto = self.proto(child_regs, fds, clear_tid, set_tid, fp);
        if share_fs {
            proto.fs = self.fs.clone();
        }
        let kernel = self.kernel.clone();
        let group = match process {
            Some(p) => self.child_group(tid, p),
            None => self.group().clone(),
        };
        let (vfork_tx, vfork_rx) = crossbeam_channel::bounded(1);
        let vfork = process.is_some_and(|p| p.vfork);
        if vfork {
            proto.vfork_done = Some(vfork_tx);
        }
        let mm = self.mm.clone();
        let (ready_tx, ready_rx) = crossbeam_channel::bounded(1);
        let threads = &self.kernel.threads;
        let home = proto.home;
        let spawned = threads.run(format!("task-{tid}"), home, move || {
            if let Err(e) = mm.address_space().adopt_thread(token) {
                log::warn!("clone: thread {tid} could not start: {e}");
                let _ = ready_tx.send(Err(Errno::EAGAIN));
                return;
            }
            match Task::from_proto(kernel, tid, group, mm, proto) {
                Ok(task) => {
                    let _ = ready_tx.send(Ok(()));
                    task.run();
                }
                Err(e) => {
                    let _ = ready_tx.send(Err(e));
                }
            }
        });
        if spawned.is_err() {
            return Err(Errno::EAGAIN);
        }
        ready_rx.recv().unwrap_or(Err(Errno::EAGAIN))?;
        if vfork {
            // The child borrows our memory until it execs or exits.
            let _ = vfork_rx.recv();
        }
        Ok(tid)
    }

    /// The thread group of a new process `pid`: what a child inherits
    /// (process group, session, command line, nice value, no_new_privs,
    /// personality, signal actions) and nothing else.
    fn child_group(&self, pid: i32, how: NewProcess) -> Arc<ThreadGroup> {
        let me = self.group();
        let g = ThreadGroup::new(
            pid,
            self.child_actions(how.clear_handlers),
            me.pgid.load(Ordering::Relaxed),
            me.sid.load(Ordering::Relaxed),
        );
        g.info.lock().cmdline = me.info.lock().cmdline.clone();
        g.nice
            .store(me.nice.load(Ordering::Relaxed), Ordering::Relaxed);
        g.no_new_privs
            .store(me.no_new_privs.load(Ordering::Relaxed), Ordering::Relaxed);
        g.persona
            .store(me.persona.load(Ordering::Relaxed), Ordering::Relaxed);
        g
    }

    /// The signal actions a new process starts with: ours, or with every
    /// handler reset to the default (CLONE_CLEAR_SIGHAND; ignored signals
    /// stay ignored).
    fn child_actions(&self, clear_handlers: bool) -> [SigAction; signal::NSIG] {
        let mut actions = *self.group().actions.lock();
        if clear_handlers {
            for a in actions.iter_mut() {
                if a.handler != libc::SIG_IGN as u64 {
                    *a = SigAction::default();
                }
            }
        }
        actions
    }

    fn proto(
        &self,
        regs: Regs,
        fds: SharedFds,
        clear_tid: u64,
        set_tid: u64,
        fp: Option<platform::FpState>,
    ) -> CloneProto {
        CloneProto {
            regs,
            fds,
            root: self.root.clone(),
            cwd: self.cwd.clone(),
            umask: self.umask,
            fs: FsShared::new(&self.cwd, self.umask),
            creds: self.creds.clone(),
            mask: self.sigmask(),
            affinity: self.handle.affinity.load(Ordering::Relaxed),
            altstack: self.altstack,
            rlimits: self.rlimits,
            exe: self.exe.clone(),
            comm: self.comm.clone(),
            clear_tid,
            set_tid,
            fp,
            vfork_done: None,
            // A child starts where its parent runs: a parent that waits for
            // it (vfork, pthread_join) hands over without a wakeup across
            // CPUs, and the platform moves tasks that find their CPU busy.
            home: self.ctx.home_cpu(),
            seccomp: self.seccomp.clone(),
            sched: {
                // SCHED_RESET_ON_FORK: the child is back to SCHED_OTHER.
                let (policy, prio) = *self.handle.sched.lock();
                if policy & libc::SCHED_RESET_ON_FORK != 0 {
                    (libc::SCHED_OTHER, 0)
                } else {
                    (policy, prio)
                }
            },
        }
    }

    /// Builds a cloned task on its own host thread.
    fn from_proto(
        kernel: Arc<Kernel>,
        tid: i32,
        group: Arc<ThreadGroup>,
        mm: Arc<MemoryManager>,
        p: CloneProto,
    ) -> Result<Task, Errno> {
        if p.set_tid != 0 {
            mm.write_obj(p.set_tid, &tid)?;
        }
        let mut ctx = kernel
            .platform
            .new_context(p.home)
            .map_err(platform_errno)?;
        if let Some(fp) = &p.fp {
            ctx.set_fpstate(mm.address_space().as_ref(), fp)
                .map_err(platform_errno)?;
        }
        let handle = TaskHandle::new(tid, group.clone(), ctx.interrupter(), p.mask);
        handle.affinity.store(p.affinity, Ordering::Relaxed);
        *handle.sched.lock() = p.sched;
        let new_process = group.threads.lock().is_empty();
        register(&kernel, &group, &handle);
        let task = Task {
            kernel,
            ctx,
            regs: p.regs,
            mm,
            fds: p.fds,
            root: p.root,
            fs_seen: p.fs.gen.load(Ordering::Relaxed),
            fs: p.fs,
            cwd: p.cwd,
            umask: p.umask,
            creds: p.creds,
            handle,
            altstack: p.altstack,
            saved_mask: None,
            restart: None,
            tid,
            pid: group.pid,
            clear_child_tid: p.clear_tid,
            robust_list: (0, 0),
            rlimits: p.rlimits,
            exe: p.exe,
            comm: p.comm,
            exit: None,
            regs_replaced: false,
            stale_faults: 0,
            seccomp: p.seccomp,
            seccomp_seen: group.seccomp_gen.load(Ordering::Relaxed),
            vfork_done: p.vfork_done,
        };
        if new_process {
            task.publish_info();
        }
        Ok(task)
    }

    /// Replaces the program (execve). On failure the task is unchanged.
    pub fn exec(
        &mut self,
        path: Vec<u8>,
        argv: Vec<Vec<u8>>,
        envp: Vec<Vec<u8>>,
    ) -> Result<(), Errno> {
        let cmdline: Vec<u8> = argv
            .iter()
            .flat_map(|a| a.iter().copied().chain([0]))
            .collect();
        let multithreaded = self.group().threads.lock().len() > 1;
        let prepared = loader::prepare(ExecArgs {
            walker: self.walker(),
            path,
            argv,
            envp,
            ids: (
                self.creds.uid,
                self.creds.euid,
                self.creds.gid,
                self.creds.egid,
            ),
        })?;
        // Past this point the old image is gone.
        if multithreaded {
            self.kill_other_threads();
        }
        let (lo, hi) = self.kernel.platform.address_range();
        let shared = Arc::strong_count(&self.mm) > 1;
        let asp = if shared {
            // Other tasks still use the old address space: start a new one.
            match self.kernel.platform.new_address_space() {
                Ok(a) => a,
                Err(e) => {
                    log::warn!("exec: {e}");
                    self.group().exit_all(ExitStatus::Signaled(libc::SIGKILL));
                    return Err(Errno::ENOMEM);
                }
            }
        } else {
            // Reuse the host address space, emptied: cheaper than a new one.
            let asp = self.mm.address_space().clone();
            if let Err(e) = asp.unmap(lo, hi - lo) {
                log::warn!("exec: {e}");
                self.group().exit_all(ExitStatus::Signaled(libc::SIGKILL));
                return Err(Errno::ENOMEM);
            }
            asp
        };
        if shared {
            self.mm.address_space().release_thread();
        }
        let mm = Arc::new(MemoryManager::new(self.kernel.mf.clone(), asp, lo, hi));
        let image = match loader::map(&mm, prepared, self.kernel.vdso.as_ref()) {
            Ok(i) => i,
            Err(e) => {
                self.mm = mm;
                self.group().exit_all(ExitStatus::Signaled(libc::SIGSEGV));
                return Err(e);
            }
        };
        self.mm = mm;
        self.regs = image.regs;
        self.regs_replaced = true;
        self.exe = image.exe;
        self.comm = image.comm;
        self.fds.close_on_exec(self.pid);
        for a in self.group().actions.lock().iter_mut() {
            if a.handler != libc::SIG_IGN as u64 {
                *a = SigAction::default();
            }
        }
        self.altstack = AltStack::DISABLED;
        self.clear_child_tid = 0;
        self.robust_list = (0, 0);
        self.group().execed.store(true, Ordering::Relaxed);
        self.vfork_done.take();
        let timers: Vec<_> = self.group().posix_timers.lock().drain().collect();
        for (_, timer) in timers {
            timer.timer.set(
                self.group(),
                std::time::Duration::ZERO,
                std::time::Duration::ZERO,
            );
        }
        self.group().info.lock().cmdline = cmdline;
        self.publish_info();
        Ok(())
    }
}

fn last_thread_of(group: &ThreadGroup) -> bool {
    group.threads.lock().len() <= 1
}

impl Task {
    /// execve in a multi-threaded process: every other thread ends, and
    /// the caller takes over the process id as its thread id.
    fn kill_other_threads(&mut self) {
        let others: Vec<_> = self
            .group()
            .threads
            .lock()
            .iter()
            .filter(|t| !Arc::ptr_eq(t, &self.handle))
            .cloned()
            .collect();
        for t in &others {
            t.killed.store(true, Ordering::SeqCst);
            t.interrupt();
        }
        while self.group().threads.lock().len() > 1 {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        if self.tid != self.pid {
            let mut tasks = self.kernel.tasks.lock();
            tasks.remove(&self.tid);
            tasks.insert(self.pid, self.handle.clone());
            self.tid = self.pid;
        }
    }
}

/// Adds a thread to its group and the kernel's tables.
fn register(kernel: &Kernel, group: &Arc<ThreadGroup>, handle: &Arc<TaskHandle>) {
    group.threads.lock().push(handle.clone());
    kernel.tasks.lock().insert(handle.tid, handle.clone());
    kernel
        .groups
        .lock()
        .entry(group.pid)
        .or_insert_with(|| group.clone());
}

/// Finds `prog` like execvp: as a path if it has a '/', else in PATH.
fn find_program(
    root: &Arc<Dentry>,
    cwd: &Arc<Dentry>,
    prog: &[u8],
    envp: &[Vec<u8>],
) -> Result<Vec<u8>, Errno> {
    if prog.is_empty() {
        return Err(Errno::ENOENT);
    }
    if prog.contains(&b'/') {
        return Ok(prog.to_vec());
    }
    let path = envp
        .iter()
        .find_map(|e| e.strip_prefix(b"PATH="))
        .unwrap_or(b"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
    let walker = Walker {
        root,
        start: cwd,
        rules: Default::default(),
    };
    let mut err = Errno::ENOENT;
    for dir in path.split(|&b| b == b':') {
        let dir: &[u8] = if dir.is_empty() { b"." } else { dir };
        let mut cand = dir.to_vec();
        cand.push(b'/');
        cand.extend_from_slice(prog);
        match walker.walk(&cand, true).and_then(|d| d.inode.stat()) {
            Ok(st) if st.file_type() == libc::S_IFREG && st.mode & 0o111 != 0 => return Ok(cand),
            Ok(_) => err = Errno::EACCES,
            Err(_) => {}
        }
    }
    Err(err)
}
