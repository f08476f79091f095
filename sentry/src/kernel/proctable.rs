//! The process table: parent links, exit statuses of zombies, and waiting.

use std::collections::HashMap;

use parking_lot::{Condvar, Mutex};

use super::task::ExitStatus;
use crate::errno::Errno;

struct Entry {
    ppid: i32,
    status: Option<ExitStatus>,
}

/// Every process of the sandbox, live or zombie.
pub struct ProcTable {
    inner: Mutex<Inner>,
    changed: Condvar,
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
            inner: Mutex::new(Inner {
                next_pid: 1,
                procs: HashMap::new(),
            }),
            changed: Condvar::new(),
        }
    }
}

impl ProcTable {
    /// Registers a new process whose parent is `ppid`; returns its pid.
    pub fn add(&self, ppid: i32) -> i32 {
        let mut inner = self.inner.lock();
        let pid = inner.next_pid;
        inner.next_pid += 1;
        inner.procs.insert(pid, Entry { ppid, status: None });
        pid
    }

    /// The parent of `pid` (0 if unknown).
    pub fn parent(&self, pid: i32) -> i32 {
        self.inner.lock().procs.get(&pid).map_or(0, |e| e.ppid)
    }

    /// Records that `pid` ended; its children are handed to pid 1.
    pub fn exit(&self, pid: i32, status: ExitStatus) {
        let mut inner = self.inner.lock();
        if let Some(e) = inner.procs.get_mut(&pid) {
            e.status = Some(status);
        }
        for e in inner.procs.values_mut() {
            if e.ppid == pid {
                e.ppid = 1;
            }
        }
        // Nobody waits for the children of a dead init.
        if pid == 1 {
            inner.procs.retain(|_, e| e.ppid != 1 || e.status.is_none());
        }
        drop(inner);
        self.changed.notify_all();
    }

    /// Reaps a zombie child of `parent` matching `which`. Blocks unless
    /// `nohang`; returns None when `nohang` and no child has exited.
    pub fn wait(
        &self,
        parent: i32,
        which: WaitFor,
        nohang: bool,
        reap: bool,
    ) -> Result<Option<(i32, ExitStatus)>, Errno> {
        let mut inner = self.inner.lock();
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
                    found = Some((pid, st));
                    break;
                }
            }
            if let Some((pid, st)) = found {
                if reap {
                    inner.procs.remove(&pid);
                }
                return Ok(Some((pid, st)));
            }
            if !any {
                return Err(Errno::ECHILD);
            }
            if nohang {
                return Ok(None);
            }
            self.changed.wait(&mut inner);
        }
    }
}
