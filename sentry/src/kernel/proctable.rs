//! The process table: parent links, exit statuses of zombies, and waiting.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::{Condvar, Mutex};

use super::task::ExitStatus;
use super::thread_group::CpuTimes;
use crate::errno::Errno;

struct Entry {
    ppid: i32,
    status: Option<ExitStatus>,
    times: CpuTimes,
    /// PR_SET_CHILD_SUBREAPER: orphaned descendants come here, not to init.
    subreaper: bool,
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
    /// Registers a new process whose parent is `ppid`; returns its pid.
    pub fn add(&self, ppid: i32) -> i32 {
        let mut inner = self.inner.0.lock();
        let pid = inner.next_pid;
        inner.next_pid += 1;
        inner.procs.insert(
            pid,
            Entry {
                ppid,
                status: None,
                times: CpuTimes::default(),
                subreaper: false,
            },
        );
        pid
    }

    /// The parent of `pid` (0 if unknown).
    pub fn parent(&self, pid: i32) -> i32 {
        self.inner.0.lock().procs.get(&pid).map_or(0, |e| e.ppid)
    }

    /// Records that `pid` ended; its children are handed to pid 1.
    pub fn exit(&self, pid: i32, status: ExitStatus, times: CpuTimes) {
        let mut inner = self.inner.0.lock();
        if let Some(e) = inner.procs.get_mut(&pid) {
            e.status = Some(status);
            e.times = times;
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
                e.ppid = heir;
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

    /// Forgets `pid` without anyone waiting for it (auto-reaped children).
    pub fn reap(&self, pid: i32) {
        self.inner.0.lock().procs.remove(&pid);
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

    /// Whether `pid` exists, alive or as a zombie.
    pub fn exists(&self, pid: i32) -> bool {
        self.inner.0.lock().procs.contains_key(&pid)
    }

    /// Pids of all live processes.
    pub fn live(&self) -> Vec<i32> {
        let inner = self.inner.0.lock();
        inner
            .procs
            .iter()
            .filter(|(_, e)| e.status.is_none())
            .map(|(&p, _)| p)
            .collect()
    }

    /// Reaps a zombie child of `parent` matching `which`. Blocks unless
    /// `nohang`; returns None when `nohang` and no child has exited.
    pub fn wait(
        &self,
        parent: i32,
        which: WaitFor,
        nohang: bool,
        reap: bool,
    ) -> Result<Option<(i32, ExitStatus, CpuTimes)>, Errno> {
        let mut inner = self.inner.0.lock();
        loop {
            let mut any = false;
            let mut found = None;
            for (&pid, e) in inner.procs.iter() {
                if e.ppid != parent {
                    continue;
                }
                if let WaitFor::Pid(p) = which {
                    if p != pid {
                        continue;
                    }
                }
                any = true;
                if let Some(st) = e.status {
                    found = Some((pid, st, e.times));
                    break;
                }
            }
            if let Some((pid, st, times)) = found {
                if reap {
                    inner.procs.remove(&pid);
                }
                return Ok(Some((pid, st, times)));
            }
            if !any {
                return Err(Errno::ECHILD);
            }
            if nohang {
                return Ok(None);
            }
            let shared = self.inner.clone();
            super::wait::wait_interruptible(
                &mut inner,
                &self.inner.1,
                || {
                    Arc::new(move || {
                        let _g = shared.0.lock();
                        shared.1.notify_all();
                    })
                },
                None,
            )?;
        }
    }
}
