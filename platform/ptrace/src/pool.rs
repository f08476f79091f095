//! Stub processes forked ahead of need, and reaped after use, by one thread
//! of their own.
//!
//! Forking a stub copies the sentry's page tables and the stub then unmaps
//! everything: far more than the rest of an exec. A pool thread keeps a few
//! stubs ready, parked in `pause()` and detached, so that a new address space
//! costs only a `PTRACE_SEIZE` by the task thread that will trace it. Dead
//! stubs are killed by their tracer and reaped here, off the task's path
//! (any thread of the tracer's process may wait for a traced child).

use std::sync::Arc;

use parking_lot::{Condvar, Mutex};
use platform::{Error, Regs, Result};

use crate::stub::StubPage;
use crate::subprocess::{get_regs, set_regs};

/// How many parked stubs the pool keeps.
const READY: usize = 2;

/// A parked stub, ready to be seized.
pub struct ParkedStub {
    /// Its pid.
    pub pid: libc::pid_t,
    /// Its registers at birth: the segment selectors and the template for
    /// injected system calls.
    pub template: Regs,
}

/// The pool; cheap to clone.
#[derive(Clone)]
pub struct StubPool {
    shared: Arc<Shared>,
}

struct Shared {
    state: Mutex<State>,
    /// Signalled when a stub is taken or one is ready, and when a dead one
    /// is queued.
    changed: Condvar,
}

#[derive(Default)]
struct State {
    ready: Vec<ParkedStub>,
    dead: Vec<libc::pid_t>,
    /// Why the pool thread stopped, if it did.
    failed: Option<String>,
}

impl StubPool {
    /// Starts the pool thread.
    pub fn start(
        stub: StubPage,
        memfd: i32,
        filter: Arc<seccompiler::BpfProgram>,
    ) -> Result<StubPool> {
        let pool = StubPool {
            shared: Arc::new(Shared {
                state: Mutex::new(State::default()),
                changed: Condvar::new(),
            }),
        };
        let shared = pool.shared.clone();
        std::thread::Builder::new()
            .name("stub-pool".into())
            .spawn(move || shared.run(stub, memfd, &filter))
            .map_err(|e| Error::Host {
                op: "spawn stub pool thread",
                source: e,
            })?;
        Ok(pool)
    }

    /// A parked stub, waiting for the pool thread if none is ready.
    pub fn take(&self) -> Result<ParkedStub> {
        let mut st = self.shared.state.lock();
        loop {
            if let Some(s) = st.ready.pop() {
                self.shared.changed.notify_all();
                return Ok(s);
            }
            if let Some(why) = &st.failed {
                return Err(Error::RunnerDied(format!("stub pool: {why}")));
            }
            self.shared.changed.wait(&mut st);
        }
    }

    /// Kills stub `pid` (traced by the calling thread) and has the pool
    /// thread reap it.
    pub fn retire(&self, pid: libc::pid_t) {
        // SAFETY: killing our own stub.
        unsafe { libc::kill(pid, libc::SIGKILL) };
        self.shared.state.lock().dead.push(pid);
        self.shared.changed.notify_all();
    }
}

impl Shared {
    fn run(&self, stub: StubPage, memfd: i32, filter: &[seccompiler::sock_filter]) {
        let mut st = self.state.lock();
        loop {
            if let Some(pid) = st.dead.pop() {
                drop(st);
                reap(pid);
                st = self.state.lock();
            } else if st.ready.len() < READY && st.failed.is_none() {
                drop(st);
                let r = park(stub, memfd, filter);
                st = self.state.lock();
                match r {
                    Ok(s) => st.ready.push(s),
                    Err(e) => st.failed = Some(e.to_string()),
                }
                self.changed.notify_all();
            } else {
                self.changed.wait(&mut st);
            }
        }
    }
}

/// Forks a stub, parks it in `pause()` and detaches from it.
fn park(stub: StubPage, memfd: i32, filter: &[seccompiler::sock_filter]) -> Result<ParkedStub> {
    let pid = stub.spawn(memfd, filter)?;
    let template = get_regs(pid)?;
    let mut regs = template;
    regs.rip = stub.park_addr();
    regs.orig_rax = u64::MAX;
    set_regs(pid, &regs)?;
    // SAFETY: the stub is in a signal-delivery stop; detaching drops the
    // SIGSTOP and lets it run into pause().
    if unsafe { libc::ptrace(libc::PTRACE_DETACH, pid, 0, 0) } != 0 {
        let e = Error::last_os("PTRACE_DETACH");
        // SAFETY: killing our own child.
        unsafe { libc::kill(pid, libc::SIGKILL) };
        reap(pid);
        return Err(e);
    }
    Ok(ParkedStub { pid, template })
}

/// Waits for dead stub `pid`.
fn reap(pid: libc::pid_t) {
    let mut status = 0;
    // SAFETY: waitpid on a child of ours (or on one that is gone: ECHILD).
    while unsafe { libc::waitpid(pid, &mut status, libc::__WALL) } < 0
        && std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR)
    {}
}
