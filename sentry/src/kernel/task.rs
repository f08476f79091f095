//! A task: one application thread, run by one host thread.

use std::sync::Arc;

use platform::{Context, Regs, Stop};

use super::Kernel;
use crate::errno::Errno;
use crate::loader::{self, ExecArgs};
use crate::mm::MemoryManager;
use crate::vfs::path::Walker;
use crate::vfs::{Dentry, FdTable};

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
}

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

/// Number of resource limits (RLIMIT_NLIMITS).
pub const NLIMITS: usize = 16;

/// One application thread.
pub struct Task {
    /// The sandbox.
    pub kernel: Arc<Kernel>,
    ctx: Box<dyn Context>,
    /// Application registers while the task is in the sentry.
    pub regs: Regs,
    /// The address space.
    pub mm: Arc<MemoryManager>,
    /// Open files.
    pub fds: FdTable,
    /// Root for path walks (chroot).
    pub root: Arc<Dentry>,
    /// Working directory.
    pub cwd: Arc<Dentry>,
    /// File mode creation mask.
    pub umask: u32,
    /// Credentials.
    pub creds: Creds,
    /// Signal dispositions, index = signal number - 1.
    pub sigactions: [SigAction; 64],
    /// Blocked signals.
    pub sigmask: u64,
    /// Alternate signal stack (ss_sp, ss_flags, ss_size).
    pub sigaltstack: (u64, i32, u64),
    /// Thread id (= pid for the first thread).
    pub tid: i32,
    /// Process id.
    pub pid: i32,
    /// Parent's pid.
    pub ppid: i32,
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
    /// Set when the task is exiting.
    pub exit: Option<ExitStatus>,
    /// A handler replaced all registers (execve): do not store a result.
    pub regs_replaced: bool,
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

/// What a forked child inherits, carried to its host thread.
struct ForkProto {
    regs: Regs,
    fds: FdTable,
    root: Arc<Dentry>,
    cwd: Arc<Dentry>,
    umask: u32,
    creds: Creds,
    sigactions: [SigAction; 64],
    sigmask: u64,
    sigaltstack: (u64, i32, u64),
    rlimits: [(u64, u64); NLIMITS],
    exe: Arc<Dentry>,
    comm: Vec<u8>,
    ppid: i32,
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

impl Task {
    /// Creates the first task of the sandbox, running `init`.
    pub fn start(kernel: Arc<Kernel>, init: InitProcess) -> Result<Task, StartError> {
        let root = kernel.root.clone();
        let cwd = Walker {
            root: &root,
            start: &root,
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
        let image = loader::load(
            &mm,
            ExecArgs {
                walker: Walker {
                    root: &root,
                    start: &cwd,
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
        )
        .map_err(|e| StartError::Exec(name, e))?;
        let ctx = kernel.platform.new_context()?;
        let kernel_pid = kernel.procs.add(0);
        Ok(Task {
            kernel,
            ctx,
            regs: image.regs,
            mm,
            fds: init.fds,
            root,
            cwd,
            umask: init.umask,
            creds: init.creds,
            sigactions: [SigAction::default(); 64],
            sigmask: 0,
            sigaltstack: (0, libc::SS_DISABLE, 0),
            tid: 1,
            pid: kernel_pid,
            ppid: 0,
            clear_child_tid: 0,
            robust_list: (0, 0),
            rlimits: default_rlimits(),
            exe: image.exe,
            comm: image.comm,
            exit: None,
            regs_replaced: false,
        })
    }

    /// A path walker from the task's root and cwd.
    pub fn walker(&self) -> Walker<'_> {
        Walker {
            root: &self.root,
            start: &self.cwd,
        }
    }

    /// Runs the task until it exits.
    pub fn run(&mut self) -> ExitStatus {
        loop {
            let stop = match self
                .ctx
                .switch(self.mm.address_space().as_ref(), &mut self.regs)
            {
                Ok(s) => s,
                Err(e) => {
                    log::error!("task {}: platform failed: {e}", self.tid);
                    return ExitStatus::Signaled(libc::SIGKILL);
                }
            };
            match stop {
                Stop::Syscall => {
                    crate::syscalls::handle(self);
                    if let Some(st) = self.exit {
                        return st;
                    }
                }
                Stop::Fault(info) | Stop::Signal(info) => {
                    // Signal delivery to handlers comes with the signals
                    // subsystem; until then every fault is fatal, as it is
                    // for a process without handlers.
                    log::info!(
                        "task {}: signal {} (code {}, addr {:#x}) at rip {:#x}",
                        self.tid,
                        info.signo,
                        info.code,
                        info.addr,
                        self.regs.rip
                    );
                    return ExitStatus::Signaled(info.signo);
                }
                Stop::Interrupted => {}
            }
        }
    }

    /// Creates a child process (fork): a copy of this task's memory, files
    /// and settings, running on its own host thread from `child_regs`.
    /// Returns the child's pid.
    pub fn fork(&mut self, child_regs: Regs, clear_tid: u64, set_tid: u64) -> Result<i32, Errno> {
        let snap = self.mm.snapshot()?;
        let fp = self.ctx.fpstate(self.mm.address_space().as_ref()).ok();
        let pid = self.kernel.procs.add(self.pid);
        let kernel = self.kernel.clone();
        let proto = ForkProto {
            regs: child_regs,
            fds: self.fds.clone(),
            root: self.root.clone(),
            cwd: self.cwd.clone(),
            umask: self.umask,
            creds: self.creds.clone(),
            sigactions: self.sigactions,
            sigmask: self.sigmask,
            sigaltstack: self.sigaltstack,
            rlimits: self.rlimits,
            exe: self.exe.clone(),
            comm: self.comm.clone(),
            ppid: self.pid,
        };
        let spawned = std::thread::Builder::new()
            .name(format!("task-{pid}"))
            .spawn(move || {
                let status =
                    match Task::from_fork(kernel.clone(), pid, proto, snap, fp, clear_tid, set_tid)
                    {
                        Ok(mut task) => task.run(),
                        Err(e) => {
                            log::warn!("fork: child {pid} could not start: {e}");
                            ExitStatus::Signaled(libc::SIGKILL)
                        }
                    };
                kernel.procs.exit(pid, status);
            });
        if spawned.is_err() {
            self.kernel
                .procs
                .exit(pid, ExitStatus::Signaled(libc::SIGKILL));
            let _ =
                self.kernel
                    .procs
                    .wait(self.pid, super::proctable::WaitFor::Pid(pid), true, true);
            return Err(Errno::EAGAIN);
        }
        Ok(pid)
    }

    /// The child side of [`Task::fork`], on the child's host thread.
    fn from_fork(
        kernel: Arc<Kernel>,
        pid: i32,
        p: ForkProto,
        snap: crate::mm::Snapshot,
        fp: Option<platform::FpState>,
        clear_tid: u64,
        set_tid: u64,
    ) -> Result<Task, Errno> {
        let err = |e: platform::Error| {
            log::warn!("fork: {e}");
            Errno::EAGAIN
        };
        let asp = kernel.platform.new_address_space().map_err(err)?;
        let (lo, hi) = kernel.platform.address_range();
        let mm = Arc::new(MemoryManager::from_snapshot(asp, lo, hi, snap)?);
        if set_tid != 0 {
            mm.write_obj(set_tid, &pid)?;
        }
        let mut ctx = kernel.platform.new_context().map_err(err)?;
        if let Some(fp) = fp {
            ctx.set_fpstate(mm.address_space().as_ref(), &fp)
                .map_err(err)?;
        }
        Ok(Task {
            kernel,
            ctx,
            regs: p.regs,
            mm,
            fds: p.fds,
            root: p.root,
            cwd: p.cwd,
            umask: p.umask,
            creds: p.creds,
            sigactions: p.sigactions,
            sigmask: p.sigmask,
            sigaltstack: p.sigaltstack,
            tid: pid,
            pid,
            ppid: p.ppid,
            clear_child_tid: clear_tid,
            robust_list: (0, 0),
            rlimits: p.rlimits,
            exe: p.exe,
            comm: p.comm,
            exit: None,
            regs_replaced: false,
        })
    }

    /// Replaces the program (execve). On failure the task is unchanged.
    pub fn exec(
        &mut self,
        path: Vec<u8>,
        argv: Vec<Vec<u8>>,
        envp: Vec<Vec<u8>>,
    ) -> Result<(), Errno> {
        let asp = self
            .kernel
            .platform
            .new_address_space()
            .map_err(|_| Errno::ENOMEM)?;
        let (lo, hi) = self.kernel.platform.address_range();
        let mm = Arc::new(MemoryManager::new(self.kernel.mf.clone(), asp, lo, hi));
        let image = loader::load(
            &mm,
            ExecArgs {
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
            },
        )?;
        self.mm = mm;
        self.regs = image.regs;
        self.regs_replaced = true;
        self.exe = image.exe;
        self.comm = image.comm;
        self.fds.close_on_exec();
        for a in self.sigactions.iter_mut() {
            if a.handler != libc::SIG_IGN as u64 {
                *a = SigAction::default();
            }
        }
        self.sigaltstack = (0, libc::SS_DISABLE, 0);
        self.clear_child_tid = 0;
        self.robust_list = (0, 0);
        Ok(())
    }
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
    let walker = Walker { root, start: cwd };
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
