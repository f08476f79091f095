//! Stub processes made ahead of need by one thread of their own.
//!
//! Only the first stub, the template, is forked from the sentry: a fork of
//! the sentry copies its page tables and leaves its heap copy-on-write
//! until the child has unmapped it, which every sentry thread pays for in
//! page faults. Every other stub is a fork of the template (an injected
//! `fork()`, whose address space is one page and the control pages), parked
//! in `pause()` and untraced, so that a new address space costs only a
//! `PTRACE_SEIZE` by the task thread that will trace it. The template
//! ignores SIGCHLD, so the kernel reaps its children: a stub that is no
//! longer needed is detached and killed, and nobody waits for it.

use std::sync::Arc;

use parking_lot::{Condvar, Mutex};
use platform::{Error, Regs, Result};

use crate::ctrl::{ControlFile, Slot};
use crate::stub::StubPage;
use crate::subprocess::{get_regs, resume, set_regs, wait};

/// How many parked stubs the pool keeps.
const READY: usize = 6;
/// The pool thread is woken to refill only when this few are left: a
/// wakeup costs the waker an inter-processor interrupt (microseconds under
/// virtualization), so it is paid once per few stubs rather than per stub.
const LOW: usize = 3;

/// A parked stub, ready to be seized.
pub struct ParkedStub {
    /// Its pid.
    pub pid: libc::pid_t,
    /// Its registers at birth: the segment selectors and the template for
    /// injected system calls.
    pub template: Regs,
    /// Its own control page, mapped at [`StubPage::frame_addr`] in it and in
    /// no other stub (None when all were taken).
    pub frame: Option<Slot>,
}

/// The pool; cheap to clone.
#[derive(Clone)]
pub struct StubPool {
    shared: Arc<Shared>,
}

struct Shared {
    state: Mutex<State>,
    /// Signalled when a stub is taken or one is ready.
    changed: Condvar,
}

#[derive(Default)]
struct State {
    ready: Vec<ParkedStub>,
    /// Why the pool thread stopped, if it did.
    failed: Option<String>,
}

impl StubPool {
    /// Starts the pool thread.
    pub fn start(
        stub: StubPage,
        memfd: i32,
        ctrl: Arc<ControlFile>,
        frames: Arc<ControlFile>,
        filter: Arc<seccompiler::BpfProgram>,
    ) -> Result<StubPool> {
        let pool = StubPool {
            shared: Arc::new(Shared {
                state: Mutex::new(State::default()),
                changed: Condvar::new(),
            }),
        };
        let shared = pool.shared.clone();
        let (started_tx, started_rx) = std::sync::mpsc::sync_channel(1);
        std::thread::Builder::new()
            .name("stub-pool".into())
            .spawn(move || shared.run(stub, memfd, (ctrl.fd(), &frames), &filter, started_tx))
            .map_err(|e| Error::Host {
                op: "spawn stub pool thread",
                source: e,
            })?;
        // The thread lowers its priority once it has made the template,
        // which must happen before the sentry's seccomp filter forbids it.
        let _ = started_rx.recv();
        Ok(pool)
    }

    /// A parked stub, waiting for the pool thread if none is ready.
    pub fn take(&self) -> Result<ParkedStub> {
        let mut st = self.shared.state.lock();
        loop {
            if let Some(s) = st.ready.pop() {
                if st.ready.len() <= LOW {
                    self.shared.changed.notify_all();
                }
                return Ok(s);
            }
            if let Some(why) = &st.failed {
                return Err(Error::RunnerDied(format!("stub pool: {why}")));
            }
            self.shared.changed.wait(&mut st);
        }
    }

    /// Ends stub `pid`, whose only traced thread is stopped and traced by
    /// the calling thread.
    pub fn retire(&self, pid: libc::pid_t) {
        // SAFETY: plain requests on our own stopped tracee; once detached
        // and dead, its parent (the template) has the kernel reap it. Its
        // exit may run on any CPU, not the one we are pinned to.
        unsafe {
            let mut all: libc::cpu_set_t = std::mem::zeroed();
            for cpu in 0..libc::CPU_SETSIZE as usize {
                libc::CPU_SET(cpu, &mut all);
            }
            libc::sched_setaffinity(pid, std::mem::size_of_val(&all), &all);
            libc::ptrace(libc::PTRACE_DETACH, pid, 0, 0);
            libc::kill(pid, libc::SIGKILL);
        }
    }
}

impl Shared {
    fn run(
        &self,
        stub: StubPage,
        memfd: i32,
        (ctrlfd, frames): (i32, &Arc<ControlFile>),
        filter: &[seccompiler::sock_filter],
        started: std::sync::mpsc::SyncSender<()>,
    ) {
        let template = stub
            .spawn(memfd, (ctrlfd, frames.fd()), filter)
            .and_then(|pid| {
                let regs = get_regs(pid)?;
                Ok((pid, regs))
            });
        // Refills run at the lowest priority: they use idle time and never
        // delay a task, whose CPU they would otherwise take (the template,
        // made above, and the stubs forked from it keep normal priority).
        // SAFETY: setpriority of the calling thread only.
        unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, 19) };
        let _ = started.send(());
        let mut st = self.state.lock();
        let template = match template {
            Ok(t) => t,
            Err(e) => {
                st.failed = Some(e.to_string());
                self.changed.notify_all();
                return;
            }
        };
        loop {
            if st.ready.len() < READY && st.failed.is_none() {
                drop(st);
                let r = park(stub, template, frames.take());
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

/// Forks the template stub (traced by the calling thread); the child maps
/// its control page `frame` and parks itself in `pause()`.
fn park(
    stub: StubPage,
    (template, regs): (libc::pid_t, Regs),
    frame: Option<Slot>,
) -> Result<ParkedStub> {
    let mut r = regs;
    r.rip = stub.fork_addr();
    r.rax = libc::SYS_clone as u64;
    r.orig_rax = u64::MAX;
    r.rdi = libc::SIGCHLD as u64;
    r.rsi = 0;
    r.rdx = 0;
    r.r10 = 0;
    r.r8 = 0;
    r.r15 = stub.key.0;
    r.rbp = frame.as_ref().map_or(0, |_| stub.frame_addr());
    r.rbx = frame.as_ref().map_or(0, |f| f.offset());
    set_regs(template, &r)?;
    resume(template, libc::PTRACE_CONT)?;
    let status = wait(template)?;
    if !libc::WIFSTOPPED(status) || libc::WSTOPSIG(status) != libc::SIGTRAP {
        return Err(Error::RunnerDied(format!(
            "template stub: status {status:#x}"
        )));
    }
    let pid = get_regs(template)?.rax as i64;
    if pid <= 0 {
        return Err(Error::Host {
            op: "fork template stub",
            source: std::io::Error::from_raw_os_error(-pid as i32),
        });
    }
    Ok(ParkedStub {
        pid: pid as libc::pid_t,
        template: regs,
        frame,
    })
}
