//! The process table: parent links, exit statuses of zombies, and waiting.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::{Condvar, Mutex};

use super::task::ExitStatus;
use super::thread_group::CpuTimes;
use crate::errno::Errno;

struct Entry {
    ppid: i32,
    pgid: i32,
    status: Option<ExitStatus>,
    /// A stop or continue not yet reported to wait.
    event: Option<ChildEvent>,
    times: CpuTimes,
    /// PR_SET_CHILD_SUBREAPER: orphaned descendants come here, not to init.
    subreaper: bool,
    /// What the parent gets when it ends: SIGCHLD, another signal (a
    /// "clone" child, waited for with __WCLONE) or 0.
    exit_signal: i32,
}

/// Every process of the sandbox, live or zombie.
pub struct ProcTable {
    inner: Arc<(Mutex<Inner>, Condvar)>,
}

struct Inner {
    next_pid: i32,
    procs: HashMap<i32, Entry>,
}

/// Which children `wait4` accepts.
#[derive(Clone, Copy, Debug)]
pub enum WaitFor {
    /// Any child.
    Any,
    /// The child with this pid.
    Pid(i32),
    /// Any child in this process group.
    Pgid(i32),
}

/// A change of a child that wait reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChildEvent {
    /// It ended.
    Exited(ExitStatus, CpuTimes),
    /// A signal stopped it.
    Stopped(i32),
    /// SIGCONT resumed it.
    Continued,
}

/// What a wait call accepts.
#[derive(Clone, Copy, Debug)]
pub struct WaitOptions {
    /// Report children that ended.
    pub exited: bool,
    /// Report stopped children (WUNTRACED, WSTOPPED).
    pub stopped: bool,
    /// Report continued children (WCONTINUED).
    pub continued: bool,
    /// Do not block (WNOHANG).
    pub nohang: bool,
    /// Reap or clear what is reported (not WNOWAIT).
    pub consume: bool,
    /// Which children: None for all (__WALL), Some(false) for those that
    /// signal SIGCHLD (the default), Some(true) for the others (__WCLONE).
    pub clones: Option<bool>,
}

impl Default for ProcTable {
    fn default() -> Self {
        ProcTable {
            inner: Arc::new((
                Mutex::new(Inner {
                    next_pid: 1,
                    procs: HashMap::new(),
                }),
                Condvar::new(),
            )),
        }
    }
}

impl ProcTable {
    /// Registers a new process whose parent is `ppid` and gets
    /// `exit_signal` when it ends; returns its pid.
    pub fn add(&self, ppid: i32, pgid: i32, exit_signal: i32) -> i32 {
        let mut inner = self.inner.0.lock();
        let pid = inner.next_pid;
        inner.next_pid += 1;
        let pgid = if pgid == 0 { pid } else { pgid };
        inner.procs.insert(
            pid,
            Entry {
                ppid,
                pgid,
                status: None,
                event: None,
                times: CpuTimes::default(),
                subreaper: false,
                exit_signal,
            },
        );
        pid
    }

    /// The parent of `pid` (0 if unknown).
    pub fn parent(&self, pid: i32) -> i32 {
        self.inner.0.lock().procs.get(&pid).map_or(0, |e| e.ppid)
    }

    /// The signal `pid`'s parent gets when it ends (SIGCHLD if unknown).
    pub fn exit_signal(&self, pid: i32) -> i32 {
        self.inner
            .0
            .lock()
            .procs
            .get(&pid)
            .map_or(libc::SIGCHLD, |e| e.exit_signal)
    }

    /// Records that `pid` ended; its children are handed to pid 1.
    /// With `reap`, nobody waits for it (SIGCHLD ignored): it is gone at once.
    pub fn exit(&self, pid: i32, status: ExitStatus, times: CpuTimes, reap: bool) {
        let mut inner = self.inner.0.lock();
        if let Some(e) = inner.procs.get_mut(&pid) {
            e.status = Some(status);
            e.times = times;
        }
        if reap && pid != 1 {
            inner.procs.remove(&pid);
        }
        // Orphans go to the nearest live subreaper ancestor, else to init.
        let mut heir = inner.procs.get(&pid).map_or(1, |e| e.ppid);
        while heir > 1 {
            match inner.procs.get(&heir) {
                Some(e) if e.subreaper && e.status.is_none() => break,
                Some(e) => heir = e.ppid,
                None => heir = 1,
            }
        }
        let heir = heir.max(1);
        for e in inner.procs.values_mut() {
            if e.ppid == pid {
                // A new parent hears of its end by SIGCHLD, as Linux does.
                e.ppid = heir;
                e.exit_signal = libc::SIGCHLD;
            }
        }

        drop(inner);
        self.inner.1.notify_all();
    }

    /// Allocates a thread id (threads share the pid space, but are not
    /// processes of the table).
    pub fn new_tid(&self) -> i32 {
        let mut inner = self.inner.0.lock();
        let tid = inner.next_pid;
        inner.next_pid += 1;
        tid
    }

    /// Blocks until `pid` has ended and returns how (for the sandbox's init).
    pub fn wait_exit(&self, pid: i32) -> ExitStatus {
        let mut inner = self.inner.0.lock();
        loop {
            if let Some(st) = inner.procs.get(&pid).and_then(|e| e.status) {
                return st;
            }
            self.inner.1.wait(&mut inner);
        }
    }

    /// Records the process group of `pid` (for waitpid(-pgid)).
    pub fn set_pgid(&self, pid: i32, pgid: i32) {
        if let Some(e) = self.inner.0.lock().procs.get_mut(&pid) {
            e.pgid = pgid;
        }
    }

    /// Records a stop or continue of `pid` for its parent's wait.
    pub fn set_event(&self, pid: i32, ev: ChildEvent) {
        if let Some(e) = self.inner.0.lock().procs.get_mut(&pid) {
            e.event = Some(ev);
        }
        self.inner.1.notify_all();
    }

    /// Sets or clears PR_SET_CHILD_SUBREAPER for `pid`.
    pub fn set_subreaper(&self, pid: i32, on: bool) {
        if let Some(e) = self.inner.0.lock().procs.get_mut(&pid) {
            e.subreaper = on;
        }
    }

    /// PR_GET_CHILD_SUBREAPER.
    pub fn subreaper(&self, pid: i32) -> bool {
        self.inner
            .0
            .lock()
            .procs
            .get(&pid)
            .is_some_and(|e| e.subreaper)
    }

    /// Live children of `pid`.
    pub fn children(&self, pid: i32) -> Vec<i32> {
        self.inner
            .0
            .lock()
            .procs
            .iter()
            .filter(|(_, e)| e.ppid == pid && e.status.is_none())
            .map(|(&p, _)| p)
            .collect()
    }

    /// Whether process `pid` has ended (a zombie, or reaped).
    pub fn ended(&self, pid: i32) -> bool {
        self.inner
            .0
            .lock()
            .procs
            .get(&pid)
            .is_none_or(|e| e.status.is_some())
    }

    /// Whether `pid` exists, alive or as a zombie.
    pub fn exists(&self, pid: i32) -> bool {
        self.inner.0.lock().procs.contains_key(&pid)
    }

    /// Reports a child of `parent` matching `which` that changed as `opts`
    /// asks. Blocks unless `nohang`; returns None when `nohang` and nothing
    /// changed.
    pub fn wait(
        &self,
        parent: i32,
        which: WaitFor,
        opts: WaitOptions,
    ) -> Result<Option<(i32, ChildEvent)>, Errno> {
        let mut inner = self.inner.0.lock();
        // A child that exits sends SIGCHLD too: like Linux, look once more
        // for a waitable child before giving up to a signal.
        let mut interrupted = None;
        loop {
            let mut any = false;
            let mut found = None;
            for (&pid, e) in inner.procs.iter() {
                if e.ppid != parent {
                    continue;
                }
                let hit = match which {
                    WaitFor::Any => true,
                    WaitFor::Pid(p) => p == pid,
                    WaitFor::Pgid(g) => g == e.pgid,
                };
                if !hit
                    || opts
                        .clones
                        .is_some_and(|c| c != (e.exit_signal != libc::SIGCHLD))
                {
                    continue;
                }
                any = true;
                if let Some(st) = e.status {
                    if opts.exited {
                        found = Some((pid, ChildEvent::Exited(st, e.times)));
                        break;
                    }
                    continue;
                }
                match e.event {
                    Some(ev @ ChildEvent::Stopped(_)) if opts.stopped => {
                        found = Some((pid, ev));
                        break;
                    }
                    Some(ev @ ChildEvent::Continued) if opts.continued => {
                        found = Some((pid, ev));
                        break;
                    }
                    _ => {}
                }
            }
            if let Some((pid, ev)) = found {
                if opts.consume {
                    match ev {
                        ChildEvent::Exited(..) => {
                            inner.procs.remove(&pid);
                        }
                        _ => {
                            if let Some(e) = inner.procs.get_mut(&pid) {
                                e.event = None;
                            }
                        }
                    }
                }
                return Ok(Some((pid, ev)));
            }
            if !any {
                return Err(Errno::ECHILD);
            }
            if opts.nohang {
                return Ok(None);
            }
            if let Some(e) = interrupted {
                return Err(e);
            }
            interrupted =
                super::wait::wait_on(&mut inner, &self.inner, |s| (&s.0, &s.1), None).err();
        }
    }
}
